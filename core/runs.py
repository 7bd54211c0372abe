"""Run records: claims, records and the run index, all plain objects in storage.

Keys come from :mod:`hookline.layout`: ``runs/<run_id>/claim.json`` (create-only: the
first delivery of an event claims the run), ``runs/<run_id>/record.json`` (the
:class:`~hookline.record.RunRecord`, written when the run ends) and
``runs/index/<inverted-ms>-<run_id>.json`` (a small summary per run; key order is newest
first, so the CLI and the dashboard page through runs without reading every record).

**Leases.** A claim is held until its lease ends (``lease_expires_epoch``). A function sets
the lease to its own deadline (the Lambda context's remaining time), so the retry after a
timeout or an out-of-memory kill finds a dead holder at once instead of waiting out
``claim_timeout``; a job, which may run for hours, takes a short lease and renews it every
``heartbeat_seconds`` (:class:`Heartbeat`, a conditional replace on the claim). A redelivery
never takes over a live lease, and takes over a dead one exactly once (compare-and-swap).
Claims written before leases existed (no ``lease_expires_epoch``) end ``claim_timeout``
after they were taken, as they always did.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hookline import jsonio, layout
from hookline.errors import AlreadyExists, HooklineError, NotFound, PreconditionFailed
from hookline.events import Event, utc_now_iso
from hookline.record import FINAL, RunRecord
from hookline.storage import Storage

__all__ = [
    "FINAL",
    "Claim",
    "ClaimView",
    "Heartbeat",
    "RunPage",
    "RunStore",
    "current_deadline",
    "function_deadline",
    "summary_of",
]

log = logging.getLogger("hookline.runs")

Clock = Callable[[], float]

ENV_FUNCTION_TIMEOUT = "HOOKLINE_FUNCTION_TIMEOUT_SECONDS"
"""The function's time limit, for platforms whose handler cannot ask for its deadline
(the Terraform modules set it on Cloud Run functions and Azure Functions)."""

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "hookline_function_deadline", default=None
)


@contextlib.contextmanager
def function_deadline(epoch: float | None) -> Iterator[None]:
    """Runs claimed inside this block get a lease that ends at ``epoch`` (seconds since
    the epoch): the function's own deadline, e.g. from the Lambda context's
    ``get_remaining_time_in_millis()``. After a timeout, the retry then finds the holder
    dead at once."""
    token = _deadline.set(epoch)
    try:
        yield
    finally:
        _deadline.reset(token)


def current_deadline(started: float | None = None) -> float | None:
    """The deadline set by :func:`function_deadline`, else ``started`` plus
    ``$HOOKLINE_FUNCTION_TIMEOUT_SECONDS`` when that is set, else ``None``."""
    epoch = _deadline.get()
    if epoch is not None:
        return epoch
    raw = os.environ.get(ENV_FUNCTION_TIMEOUT, "")
    try:
        timeout = float(raw)
    except ValueError:
        return None
    return (time.time() if started is None else started) + timeout if timeout > 0 else None


INDEX = layout.INDEX
_INVERT = layout.INVERT


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of trying to claim a run."""

    acquired: bool
    attempt: int
    state: str
    """``new``, ``restarted`` (a stale or released claim was taken over), ``done``
    (the run already has a final record) or ``in_progress`` (another invocation runs it)."""
    record: RunRecord | None = None
    token: str | None = None
    """The claim's token when acquired: what :meth:`RunStore.renew` checks."""
    holder: Mapping[str, Any] | None = None
    """``in_progress``: who holds the run (``holder``, ``owner``, ``job``, lease end);
    ``restarted``: who held it before."""


@dataclass(frozen=True, slots=True)
class ClaimView:
    """A claim as it stands, read without taking it (:meth:`RunStore.peek`).

    :param doc: the stored claim.
    :param live: its holder's lease has not ended and it was not released.
    """

    doc: Mapping[str, Any]
    live: bool

    @property
    def holder(self) -> str:
        """``function``, ``job`` or ``local`` (claims older than leases: ``function``)."""
        return str(self.doc.get("holder") or "function")

    @property
    def released(self) -> bool:
        return bool(self.doc.get("released"))

    @property
    def died(self) -> bool:
        """Its holder stopped without releasing it: a timeout, an out-of-memory kill, a
        crash (a transient failure releases the claim instead)."""
        return not self.live and not self.released


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of run summaries, newest first (see :meth:`RunStore.page`).

    :param runs: the summaries on this page.
    :param next_cursor: pass it as ``after`` to get the next page; ``None`` at the end.
    :param scanned: how many index entries were looked at (read or skipped by key).
    :param exhausted: ``True`` when the scan stopped at ``max_reads`` before the page was
        full: a filter matches few runs, and the next page continues the scan.
    """

    runs: tuple[dict[str, Any], ...]
    next_cursor: str | None
    scanned: int = 0
    exhausted: bool = False


def _pipeline_of(run_id: str) -> str | None:
    """The pipeline a run id names (``<pipeline>-<20 hex digits>``), or ``None``."""
    pipeline, sep, digest = run_id.rpartition("-")
    if sep and len(digest) == 20 and all(c in "0123456789abcdef" for c in digest):
        return pipeline
    return None


def _typed(record: RunRecord | Mapping[str, Any]) -> RunRecord:
    return record if isinstance(record, RunRecord) else RunRecord.from_dict(record)


def summary_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The index summary of a record (a :class:`RunRecord` or its stored mapping)."""
    return _typed(record).summary()


def _epoch_ms(iso: str | None) -> int:
    if not iso:
        return int(time.time() * 1000)
    try:
        return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return int(time.time() * 1000)


class RunStore:
    """Claims, records and the index of runs in one storage root."""

    def __init__(
        self, storage: Storage, *, claim_timeout: float = 900, clock: Clock = time.time
    ) -> None:
        self.storage = storage
        self.claim_timeout = claim_timeout
        self.clock = clock

    def _claim_key(self, run_id: str) -> str:
        return layout.run_claim_key(run_id)

    def record_key(self, run_id: str) -> str:
        return layout.run_record_key(run_id)

    # -- claiming -------------------------------------------------------------------------

    def claim(
        self,
        run_id: str,
        event: Event,
        pipeline: str,
        *,
        holder: str = "function",
        lease_seconds: float | None = None,
        lease_until: float | None = None,
        job: str | None = None,
    ) -> Claim:
        """Claim ``run_id`` with a create-only write, under a lease.

        A second delivery of the same event finds the claim: it gets ``done`` when the run
        finished, ``in_progress`` while another holder's lease is live, and takes the run
        over (``restarted``) when the lease ended (the holder crashed, timed out or was
        killed) or the claim was released after a transient failure.

        :param holder: who runs it: ``function`` (a deployed function or ``hookline
            run``), ``job`` (``hookline job run``).
        :param lease_seconds: how long the lease lasts from now (a job renews it, see
            :class:`Heartbeat`).
        :param lease_until: when the lease ends, seconds since the epoch (a function's
            deadline). Neither: ``claim_timeout`` from now.
        :param job: the job's name, for a claim taken by a job.
        """
        import socket
        import uuid

        now = self.clock()
        token = uuid.uuid4().hex
        doc: dict[str, Any] = {
            "run_id": run_id,
            "pipeline": pipeline,
            "event": event.to_dict(),
            "claimed_at": utc_now_iso(),
            "claimed_epoch": now,
            "attempt": 1,
            "owner": f"{socket.gethostname()}:{os.getpid()}",
            "token": token,
            "released": False,
            "holder": holder,
            "lease_expires_epoch": self._lease_end(now, lease_seconds, lease_until),
            "renewed_epoch": now,
        }
        if job is not None:
            doc["job"] = job
        key = self._claim_key(run_id)
        try:
            self.storage.create(key, jsonio.dumps(doc))
            return Claim(True, 1, "new", token=token)
        except AlreadyExists:
            pass
        record = self.get(run_id, missing_ok=True)
        if record is not None and record.final:
            return Claim(False, record.attempt, "done", record)
        try:
            raw, info = self.storage.read_with_info(key)
        except NotFound:  # released between our create and read: try once more
            return self.claim(
                run_id,
                event,
                pipeline,
                holder=holder,
                lease_seconds=lease_seconds,
                lease_until=lease_until,
                job=job,
            )
        current = jsonio.loads(raw)
        if current.get("token") == doc["token"]:
            # Our own write landed but its answer was lost, and the SDK's retry saw it.
            return Claim(True, int(current.get("attempt", 1)), "new", token=token)
        who = _holder_of(current)
        if self._live(current):
            return Claim(False, int(current.get("attempt", 1)), "in_progress", holder=who)
        attempt = int(current.get("attempt", 1)) + 1
        doc["attempt"] = attempt
        doc["previous"] = {
            k: current.get(k)
            for k in ("owner", "claimed_at", "last_error", "holder", "job", "released")
        }
        try:
            self.storage.replace(key, jsonio.dumps(doc), info.etag)
        except PreconditionFailed:
            if self._token(key) != doc["token"]:  # not our own write answered late
                return Claim(False, attempt, "in_progress", holder=who)
        return Claim(True, attempt, "restarted", token=token, holder=who)

    def _lease_end(
        self, now: float, lease_seconds: float | None, lease_until: float | None
    ) -> float:
        if lease_until is not None:
            return float(lease_until)
        return now + float(self.claim_timeout if lease_seconds is None else lease_seconds)

    def _live(self, doc: Mapping[str, Any]) -> bool:
        """Whether a stored claim's holder may still be running it."""
        if doc.get("released"):
            return False
        ends = doc.get("lease_expires_epoch")
        if ends is None:  # a claim from before leases: the claim timeout, as it was
            ends = float(doc.get("claimed_epoch", 0)) + self.claim_timeout
        return self.clock() <= float(ends)

    def peek(self, run_id: str) -> ClaimView | None:
        """The run's claim as it stands, without taking it; ``None`` when unclaimed."""
        try:
            doc = jsonio.loads(self.storage.read(self._claim_key(run_id)))
        except NotFound:
            return None
        return ClaimView(doc, self._live(doc))

    def renew(
        self,
        run_id: str,
        token: str,
        *,
        lease_seconds: float | None = None,
        lease_until: float | None = None,
    ) -> bool:
        """Extend the lease of the claim ``token`` names (a conditional replace).

        :returns: ``False`` when the claim is no longer ours (another holder took it over
            after our lease ended, or it was released or broken): stop, and write nothing.
        :raises StorageError: storage failed; the lease stands until it ends.
        """
        key = self._claim_key(run_id)
        for _ in range(3):
            try:
                raw, info = self.storage.read_with_info(key)
            except NotFound:
                return False
            doc = jsonio.loads(raw)
            if doc.get("token") != token or doc.get("released"):
                return False
            now = self.clock()
            doc["renewed_epoch"] = now
            doc["lease_expires_epoch"] = self._lease_end(now, lease_seconds, lease_until)
            try:
                self.storage.replace(key, jsonio.dumps(doc), info.etag)
                return True
            except PreconditionFailed:
                continue  # changed under us: read again and look at whose it is now
        return self._token(key) == token

    def break_lease(self, run_id: str, *, job: str, reason: str) -> bool:
        """Release the claim held by ``job`` because its platform reports the job dead, so
        its successor need not wait for the lease to end. A claim held by anyone else is
        left alone.

        :returns: whether a claim was released.
        """
        key = self._claim_key(run_id)
        try:
            raw, info = self.storage.read_with_info(key)
        except NotFound:
            return False
        doc = jsonio.loads(raw)
        if doc.get("job") != job or doc.get("released"):
            return False
        doc.update(released=True, last_error=reason)
        try:
            self.storage.replace(key, jsonio.dumps(doc), info.etag)
        except PreconditionFailed:
            return False
        return True

    def _token(self, key: str) -> str | None:
        try:
            return jsonio.loads(self.storage.read(key)).get("token")
        except NotFound:
            return None

    def release(self, run_id: str, error: str) -> None:
        """Mark the claim released after a transient failure, so a retry restarts the run."""
        key = self._claim_key(run_id)
        try:
            raw, info = self.storage.read_with_info(key)
            doc = jsonio.loads(raw)
            doc.update(released=True, last_error=error)
            self.storage.replace(key, jsonio.dumps(doc), info.etag)
        except (NotFound, PreconditionFailed):
            pass

    # -- records --------------------------------------------------------------------------

    def save(self, record: RunRecord | Mapping[str, Any]) -> str:
        """Write the final record, then its index entry; return the record's URI."""
        record = _typed(record)
        key = self.record_key(record.run_id)
        self.storage.write(key, jsonio.dumps(record.to_dict()))
        self.index(record)
        return self.storage.url(key)

    def index(self, record: RunRecord | Mapping[str, Any]) -> None:
        """Write the record's index entry (idempotent: same record, same key and bytes)."""
        record = _typed(record)
        key = layout.index_key(_epoch_ms(record.started_at), record.run_id)
        self.storage.write(key, jsonio.dumps(record.summary()))

    def mark_completed(self, run_id: str) -> None:
        """Record that the run's observers ran after its record was written."""
        try:
            self.storage.create(layout.run_completed_key(run_id), b"{}")
        except AlreadyExists:
            pass

    def completed(self, run_id: str) -> bool:
        """Whether the run's observers ran (see :meth:`mark_completed`)."""
        return self.storage.stat(layout.run_completed_key(run_id)) is not None

    def get(self, run_id: str, *, missing_ok: bool = False) -> RunRecord | None:
        """The run's record; :class:`NotFound` (or ``None`` with ``missing_ok``) when the
        run has none yet. An id that cannot name a run is never looked up."""
        key = self.record_key(run_id)  # NotFound for ids that cannot name a run
        try:
            return RunRecord.from_dict(jsonio.loads(self.storage.read(key)))
        except NotFound:
            if missing_ok:
                return None
            raise NotFound(
                f"no run {run_id!r}",
                uri=self.storage.url(key),
                hint="list runs with `hookline runs`",
            ) from None

    def summaries(
        self, *, pipeline: str | None = None, status: str | None = None, model: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Run summaries, newest first, filtered; reads one small index object per run."""
        seen: set[str] = set()
        for info in self.storage.list(INDEX):
            run_id = layout.index_run_id(info.key)
            if run_id in seen:  # a restarted run has one entry per attempt: newest wins
                continue
            seen.add(run_id)
            try:
                summary = jsonio.loads(self.storage.read(info.key))
            except NotFound:
                continue
            if pipeline and summary.get("pipeline") != pipeline:
                continue
            if status and summary.get("status") != status:
                continue
            if model and summary.get("model") != model:
                continue
            yield summary

    def page(
        self,
        limit: int,
        *,
        after: str | None = None,
        pipeline: str | None = None,
        status: str | None = None,
        model: str | None = None,
        started_after: str | None = None,
        started_before: str | None = None,
        max_reads: int = 1000,
    ) -> RunPage:
        """One page of run summaries, newest first, without reading every record.

        Index keys order runs newest first and name the run (hence its pipeline) and its
        start time, so the cursor, the pipeline filter and the time window are applied to
        keys alone; only candidate entries are read, at most ``max_reads`` per call.

        :param limit: the most summaries on the page.
        :param after: the ``next_cursor`` of the previous page (an index entry name).
        :param started_after: ISO 8601 time; only runs that started at or after it.
        :param started_before: ISO 8601 time; only runs that started before it.
        :param max_reads: the most index entries read for this page; a sparse filter may
            return a short page whose ``next_cursor`` continues the scan.
        :returns: a :class:`RunPage`.
        """
        low = f"{INDEX}{after}" if after else ""
        if started_before:
            low = max(low, f"{INDEX}{_INVERT - _epoch_ms(started_before) + 1:013d}")
        high = f"{INDEX}{_INVERT - _epoch_ms(started_after):013d}~" if started_after else None
        runs: list[dict[str, Any]] = []
        seen: set[str] = set()
        scanned = reads = 0
        last: str | None = None
        for info in self.storage.list(INDEX):
            if info.key <= low:
                continue
            if high is not None and info.key > high:
                return RunPage(tuple(runs), None, scanned)
            if len(runs) >= limit or reads >= max_reads:
                return RunPage(tuple(runs), last, scanned, exhausted=len(runs) < limit)
            scanned += 1
            last = info.key[len(INDEX) :]
            run_id = last[14:].removesuffix(".json")
            if run_id in seen:
                continue
            seen.add(run_id)
            if pipeline and _pipeline_of(run_id) not in (None, pipeline):
                continue
            reads += 1
            try:
                summary = jsonio.loads(self.storage.read(info.key))
            except NotFound:
                continue
            if (
                (pipeline and summary.get("pipeline") != pipeline)
                or (status and summary.get("status") != status)
                or (model and summary.get("model") != model)
            ):
                continue
            runs.append(summary)
        return RunPage(tuple(runs), None, scanned)


def _holder_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "holder": doc.get("holder") or "function",
        "owner": doc.get("owner"),
        "job": doc.get("job"),
        "released": bool(doc.get("released")),
        "lease_expires_epoch": doc.get("lease_expires_epoch"),
    }


class Heartbeat:
    """Renews one claim's lease every ``every`` seconds until stopped.

    A job takes a lease of ``lease`` seconds (a few heartbeats long) and keeps it alive
    with this, so a redelivery sees a live holder however long the job runs, and sees a
    dead one within ``lease`` seconds of the job dying. :meth:`beat` is one renewal (tests
    drive it with a simulated clock); :meth:`start` runs it on a daemon thread.

    :param store: the run store holding the claim.
    :param run_id: the claimed run.
    :param token: the claim's token (:attr:`Claim.token`).
    :param every: seconds between renewals.
    :param lease: seconds each renewal extends the lease by, from its own time.
    :param on_beat: called after each renewal with the lease's length (a queue-started
        job keeps its message invisible as long); its failures are logged, not fatal.
    """

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        token: str,
        *,
        every: float,
        lease: float,
        on_beat: Callable[[float], None] | None = None,
    ) -> None:
        if lease <= every:
            raise ValueError(f"a lease of {lease}s does not outlast a heartbeat every {every}s")
        self.store = store
        self.run_id = run_id
        self.token = token
        self.every = float(every)
        self.lease = float(lease)
        self.beats = 0
        """Renewals that landed."""
        self.failures = 0
        """Renewals that storage refused (the lease stands until it ends)."""
        self.lost = False
        """The claim is no longer ours: the run must write nothing more."""
        self.last_error: str | None = None
        self.on_beat = on_beat
        self._expires = store.clock() + self.lease
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> bool:
        """Renew once; return whether the claim is still ours."""
        if self.lost:
            return False
        try:
            ours = self.store.renew(self.run_id, self.token, lease_seconds=self.lease)
        except HooklineError as exc:
            self.failures += 1
            self.last_error = str(exc)
            if self.store.clock() > self._expires:
                self.lost = True  # the lease ended without a renewal: others may take over
                log.error("run %s: lease ended, renewals failing: %s", self.run_id, exc)
            else:
                log.warning("run %s: lease renewal failed, retrying: %s", self.run_id, exc)
            return not self.lost
        if not ours:
            self.lost = True
            log.error("run %s: the claim was taken over; this holder stops", self.run_id)
            return False
        self.beats += 1
        self._expires = self.store.clock() + self.lease
        if self.on_beat is not None:
            try:
                self.on_beat(self.lease)
            except Exception as exc:
                log.warning("run %s: heartbeat callback failed: %s", self.run_id, exc)
        return True

    def start(self) -> Heartbeat:
        """Beat on a daemon thread until :meth:`stop`."""

        def loop() -> None:
            while not self._stop.wait(self.every):
                if not self.beat():
                    return

        self._thread = threading.Thread(target=loop, name=f"heartbeat-{self.run_id}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(self.every, 1.0) + 5)

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
