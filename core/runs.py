"""Run records: claims, records and the run index, all plain objects in storage.

Keys come from :mod:`hookline.layout`: ``runs/<run_id>/claim.json`` (create-only: the
first delivery of an event claims the run), ``runs/<run_id>/record.json`` (the
:class:`~hookline.record.RunRecord`, written when the run ends) and
``runs/index/<inverted-ms>-<run_id>.json`` (a small summary per run; key order is newest
first, so the CLI and the dashboard page through runs without reading every record).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hookline import jsonio, layout
from hookline.errors import AlreadyExists, NotFound, PreconditionFailed
from hookline.events import Event, utc_now_iso
from hookline.record import FINAL, RunRecord
from hookline.storage import Storage

__all__ = ["FINAL", "Claim", "RunPage", "RunStore", "summary_of"]

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

    def __init__(self, storage: Storage, *, claim_timeout: float = 900) -> None:
        self.storage = storage
        self.claim_timeout = claim_timeout

    def _claim_key(self, run_id: str) -> str:
        return layout.run_claim_key(run_id)

    def record_key(self, run_id: str) -> str:
        return layout.run_record_key(run_id)

    # -- claiming -------------------------------------------------------------------------

    def claim(self, run_id: str, event: Event, pipeline: str) -> Claim:
        """Claim ``run_id`` with a create-only write.

        A second delivery of the same event finds the claim: it gets ``done`` when the run
        finished, ``in_progress`` while another invocation holds a fresh claim, and takes
        the run over (``restarted``) when the claim is older than ``claim_timeout`` (the
        invocation that held it crashed) or was released after a transient failure.
        """
        import socket
        import uuid

        doc = {
            "run_id": run_id,
            "pipeline": pipeline,
            "event": event.to_dict(),
            "claimed_at": utc_now_iso(),
            "claimed_epoch": time.time(),
            "attempt": 1,
            "owner": f"{socket.gethostname()}:{os.getpid()}",
            "token": uuid.uuid4().hex,
            "released": False,
        }
        key = self._claim_key(run_id)
        try:
            self.storage.create(key, jsonio.dumps(doc))
            return Claim(True, 1, "new")
        except AlreadyExists:
            pass
        record = self.get(run_id, missing_ok=True)
        if record is not None and record.final:
            return Claim(False, record.attempt, "done", record)
        try:
            raw, info = self.storage.read_with_info(key)
        except NotFound:  # released between our create and read: try once more
            return self.claim(run_id, event, pipeline)
        current = jsonio.loads(raw)
        if current.get("token") == doc["token"]:
            # Our own write landed but its answer was lost, and the SDK's retry saw it.
            return Claim(True, int(current.get("attempt", 1)), "new")
        stale = time.time() - float(current.get("claimed_epoch", 0)) > self.claim_timeout
        if not (current.get("released") or stale):
            return Claim(False, int(current.get("attempt", 1)), "in_progress")
        attempt = int(current.get("attempt", 1)) + 1
        doc["attempt"] = attempt
        doc["previous"] = {k: current.get(k) for k in ("owner", "claimed_at", "last_error")}
        try:
            self.storage.replace(key, jsonio.dumps(doc), info.etag)
        except PreconditionFailed:
            if self._token(key) != doc["token"]:  # not our own write answered late
                return Claim(False, attempt, "in_progress")
        return Claim(True, attempt, "restarted")

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
