"""Run offload: the same run, handed to a container job when a function is not enough.

The pipeline function routes an upload and derives its run id as always. When the
pipeline's ``compute`` table says the run goes to a job (:meth:`Offloader.route`), the
function writes ``runs/<run_id>/dispatch.json`` **create-only** -- of any number of
concurrent deliveries exactly one writes it, and only that one submits -- submits the job
under a name derived from the run id (:func:`hookline.compute.job_name`), and answers
``dispatched`` so the platform does not retry. Nothing waits for the job.

The job runs ``hookline job run`` from the image (:meth:`Offloader.run_job`): it refuses
to run, and records why, when its configuration hash or image digest is not the one the
dispatch was made with; otherwise it claims the run under a lease that a heartbeat renews
(:class:`hookline.runs.Heartbeat`), and runs and records it exactly as a function would.

Success needs no callback: the job's run record is the completion. A failure comes back
as the platform's job-state event (:meth:`Offloader.on_job_event`) or is found by the
reconciler's schedule (:meth:`Offloader.reconcile`); the attempt is closed and the run is
dispatched again, up to ``max_attempts``, and then recorded ``failed`` with the
platform's reason. Every change to the dispatch record is a compare-and-swap, so two
deliveries of the same event close an attempt once.

Keys (:mod:`hookline.layout`): ``runs/<run_id>/dispatch.json`` and one marker per job in
flight, ``runs/jobs/<job-name>.json``, which is what the reconciler visits and what maps a
job-state event back to its run.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from hookline import jsonio, layout
from hookline.compute import Backend, ComputeConfig, JobHandle, JobSpec, backend_class, job_name
from hookline.config import PipelineConfig
from hookline.errors import (
    AlreadyExists,
    HooklineError,
    NotFound,
    PreconditionFailed,
    TransientError,
    answer,
)
from hookline.events import (
    JobEvent,
    ReconcileEvent,
    RunEvent,
    ScheduleEvent,
    StorageEvent,
    event_from_dict,
    utc_now_iso,
)
from hookline.record import FINAL, RunRecord, RunRecorder
from hookline.runs import Heartbeat

if TYPE_CHECKING:
    from hookline.runner import Hookline, RunResult

__all__ = ["DISPATCH_SCHEMA", "DispatchMismatch", "JobFailed", "Offloader"]

log = logging.getLogger("hookline.offload")

DISPATCH_SCHEMA = "hookline.dispatch/1"
SUBMIT_GRACE_SECONDS = 120
"""A dispatch left ``submitting`` longer than this (its submitter died) is taken over."""
PASSED_ENV = ("HOOKLINE_CONFIG", "HOOKLINE_STORAGE", "HOOKLINE_PLUGINS")
"""Variables the dispatcher passes on to the job when they are set where it runs."""


class JobFailed(HooklineError):
    """A run's jobs failed ``max_attempts`` times, or one could not be submitted."""

    http_status = 503
    title = "job failed"


class DispatchMismatch(HooklineError):
    """A job's configuration or image is not the one its run was dispatched with."""

    exit_code = 2
    http_status = 409
    title = "conflict"


class Offloader:
    """Dispatching, job-state events, the reconciler and the job side, for one runtime.

    :param app: the pipeline runtime (:class:`hookline.runner.Hookline`).
    """

    def __init__(self, app: Hookline) -> None:
        self.app = app
        self._backends: dict[str, Backend] = {}

    @property
    def storage(self) -> Any:
        return self.app.storage

    @property
    def runs(self) -> Any:
        return self.app.runs

    def clock(self) -> float:
        return float(self.app.runs.clock())

    def backend(self, pipeline: PipelineConfig) -> Backend:
        """The pipeline's backend, built once."""
        compute = _compute(pipeline)
        if pipeline.name not in self._backends:
            cls = backend_class(compute.backend, key=f"pipelines.{pipeline.name}.compute.backend")
            self._backends[pipeline.name] = cls(compute.settings)
        return self._backends[pipeline.name]

    # -- the function side: route, dispatch ------------------------------------------------

    def route(self, pipeline: PipelineConfig, event: RunEvent, run_id: str) -> RunResult | None:
        """Hand the run to a job when the pipeline's ``compute`` says so; ``None`` to run
        it in this function.

        A run already dispatched is never dispatched again by a delivery: the answer is
        ``dispatched`` while its job is in flight and ``duplicate`` once it finished.
        """
        compute = pipeline.compute
        if compute is None or compute.when == "never":
            return None
        existing = self._read(run_id)
        if existing is not None:
            return self._existing(pipeline, run_id, *existing)
        reason = self.reason(pipeline, event, run_id)
        if reason is None:
            return None
        return self.dispatch(pipeline, event, run_id, reason)

    def reason(self, pipeline: PipelineConfig, event: RunEvent, run_id: str) -> str | None:
        """Why this run goes to a job, or ``None`` to run it here."""
        compute = _compute(pipeline)
        if compute.when == "always":
            return "compute.when is 'always'"
        if compute.when != "auto":
            return None
        size = event.size if isinstance(event, StorageEvent) else None
        if size is not None and size > compute.inline_max_bytes:
            return f"the upload is {size} bytes, over inline_max_bytes ({compute.inline_max_bytes})"
        view = self.runs.peek(run_id)
        if view is not None and view.died and view.holder == "function":
            attempt = view.doc.get("attempt", 1)
            return (
                f"attempt {attempt} died in the function without finishing (a timeout or "
                f"out of memory: its lease ended at {_iso(view.doc.get('lease_expires_epoch'))})"
            )
        return None

    def dispatch(
        self, pipeline: PipelineConfig, event: RunEvent, run_id: str, reason: str
    ) -> RunResult:
        """Write the dispatch record create-only and submit the first job; a concurrent
        dispatcher that loses the create answers as for an existing dispatch."""
        compute = _compute(pipeline)
        now = self.clock()
        doc: dict[str, Any] = {
            "schema": DISPATCH_SCHEMA,
            "run_id": run_id,
            "pipeline": pipeline.name,
            "model": pipeline.model,
            "event": event.to_dict(),
            "config_hash": self.app.config.digest,
            "backend": compute.backend,
            "image": compute.image,
            "image_digest": compute.image_digest,
            "reason": reason,
            "max_attempts": compute.max_attempts,
            "created_at": utc_now_iso(),
            "created_epoch": now,
            "attempt": 1,
            "attempts": [],
            "job": None,
        }
        _set_state(doc, "submitting", now)
        key = layout.run_dispatch_key(run_id)
        try:
            info = self.storage.create(key, jsonio.dumps(doc))
        except AlreadyExists:
            found = self._read(run_id)
            if found is None:  # it was there a moment ago: let the platform deliver again
                raise TransientError(f"run {run_id}: the dispatch record vanished") from None
            return self._existing(pipeline, run_id, *found)
        log.info("run %s: offloading to %s: %s", run_id, compute.backend, reason)
        return self._submit(pipeline, doc, info.etag)

    def _existing(
        self, pipeline: PipelineConfig, run_id: str, doc: dict[str, Any], etag: str
    ) -> RunResult:
        from hookline.runner import RunResult

        record = self.runs.get(run_id, missing_ok=True)
        if record is not None and record.final:
            self.runs.index(record)  # repairs a missing index entry, as for claims
            return RunResult(
                run_id,
                pipeline.name,
                "duplicate",
                f"already processed (status {record.status}): nothing to do",
                self.storage.url(self.runs.record_key(run_id)),
                record,
            )
        state = doc.get("state")
        age = self.clock() - float(doc.get("state_epoch") or 0)
        if state == "submit_failed" or (state == "submitting" and age > SUBMIT_GRACE_SECONDS):
            taken = self._take(run_id, doc, etag, "submitting")
            if taken is not None:
                return self._submit(pipeline, *taken, takeover=True)
        if state in ("failed", "refused"):
            # Its final record was not written (the writer died): write it now.
            return self._give_up(pipeline, doc, etag, str(doc.get("last_error") or state))
        job = (doc.get("job") or {}).get("name") or job_name(run_id, int(doc.get("attempt", 1)))
        return RunResult(
            run_id,
            pipeline.name,
            "dispatched",
            f"already handed to {doc.get('backend')} job {job} "
            f"(attempt {doc.get('attempt')} of {doc.get('max_attempts')}, {state}): nothing to do",
        )

    def _take(
        self, run_id: str, doc: dict[str, Any], etag: str, state: str
    ) -> tuple[dict[str, Any], str] | None:
        """Move the dispatch to ``state`` by compare-and-swap; ``None`` when another
        dispatcher changed it first."""
        doc = dict(doc)
        _set_state(doc, state, self.clock())
        try:
            info = self.storage.replace(layout.run_dispatch_key(run_id), jsonio.dumps(doc), etag)
        except PreconditionFailed:
            return None
        return doc, info.etag

    def _spec(self, pipeline: PipelineConfig, doc: Mapping[str, Any]) -> JobSpec:
        compute = _compute(pipeline)
        run_id = str(doc["run_id"])
        attempt = int(doc["attempt"])
        name = job_name(run_id, attempt)
        env = {k: os.environ[k] for k in PASSED_ENV if os.environ.get(k)}
        env.update(
            HOOKLINE_RUN_ID=run_id,
            HOOKLINE_ATTEMPT=str(attempt),
            HOOKLINE_JOB_NAME=name,
        )
        source = self.app.config.source
        return JobSpec(
            run_id=run_id,
            pipeline=pipeline.name,
            attempt=attempt,
            name=name,
            command=("hookline", "job", "run"),
            env=env,
            max_runtime_seconds=compute.max_runtime_seconds,
            image=compute.image,
            config=os.path.abspath(source) if source and "://" not in source else source,
        )

    def _submit(
        self,
        pipeline: PipelineConfig,
        doc: dict[str, Any],
        etag: str,
        *,
        takeover: bool = False,
    ) -> RunResult:
        """Submit the job of the dispatch's current attempt (``doc`` is ``submitting``).

        :param takeover: the dispatch was taken over from a submitter that died or
            failed: the platform is asked for the job first, so a submission whose answer
            was lost is not made twice.
        """
        from hookline.runner import RunResult

        run_id = str(doc["run_id"])
        spec = self._spec(pipeline, doc)
        backend = self.backend(pipeline)
        # The marker comes first: a dispatcher that dies after submitting leaves a job the
        # reconciler can still find.
        self._open_marker(pipeline, run_id, spec.attempt, spec.name)
        try:
            handle = backend.find(spec.name) if takeover else None
            if handle is None:
                handle = backend.submit(spec)
        except Exception as exc:
            verdict = answer(exc)
            if verdict.retry:
                doc["last_error"] = verdict.detail
                self._take(run_id, doc, etag, "submit_failed")
                raise TransientError(
                    f"run {run_id}: submitting {spec.name} to {spec_backend(pipeline)} "
                    f"failed, will retry: {verdict.detail}"
                ) from exc
            message = f"submitting job {spec.name} to {spec_backend(pipeline)} failed: " + (
                verdict.detail if verdict.expected else f"{type(exc).__name__}: {exc}"
            )
            log.error("run %s: %s", run_id, message)
            self._close_marker(spec.name)
            return self._give_up(pipeline, doc, etag, message, what="submission")
        now = self.clock()
        doc["job"] = handle.to_dict()
        doc["attempts"] = [*doc.get("attempts", []), _attempt_entry(spec, handle, now)]
        _set_state(doc, "submitted", now)
        try:
            self.storage.replace(layout.run_dispatch_key(run_id), jsonio.dumps(doc), etag)
        except PreconditionFailed:
            log.warning("run %s: the dispatch changed while %s was submitted", run_id, spec.name)
        return RunResult(
            run_id,
            pipeline.name,
            "dispatched",
            f"handed to {spec_backend(pipeline)} job {spec.name} (attempt {spec.attempt} of "
            f"{doc['max_attempts']}): {doc.get('reason')}",
        )

    # -- job-state events ------------------------------------------------------------------

    def on_job_event(self, event: JobEvent) -> RunResult:
        """Close the attempt a job-state event reports ended; re-dispatch or give up."""
        from hookline.runner import RunResult

        marker = self._marker(event.job_name)
        if marker is None:
            message = (
                f"job-state event for unknown job {event.job_name!r} ({event.backend}, "
                f"{event.platform_status or event.state}): no run in "
                f"{self.storage.uri} dispatched it, or its attempt is already closed"
            )
            # A success usually arrives after the job closed its own marker: not news.
            level = logging.INFO if event.state in ("succeeded", "running") else logging.WARNING
            log.log(level, "%s", message, extra={"event": "job_event_ignored"})
            return RunResult(None, None, "ignored", message)
        run_id = str(marker["run_id"])
        pipeline = self.app.config.pipelines.get(str(marker.get("pipeline")))
        if pipeline is None or pipeline.compute is None:
            message = f"job {event.job_name}: pipeline {marker.get('pipeline')!r} has no compute"
            log.warning("%s", message)
            return RunResult(run_id, None, "ignored", message)
        if event.state in ("pending", "running"):
            return RunResult(
                run_id, pipeline.name, "dispatched", f"job {event.job_name} is {event.state}"
            )
        reason = f"{event.backend} job {event.job_name} {event.platform_status or event.state}"
        reason += f": {event.reason}" if event.reason else ""
        return self.close_attempt(
            pipeline,
            run_id,
            int(marker.get("attempt", 1)),
            event.job_name,
            reason,
            succeeded=event.state == "succeeded",
        )

    def close_attempt(
        self,
        pipeline: PipelineConfig,
        run_id: str,
        attempt: int,
        name: str,
        reason: str,
        *,
        succeeded: bool = False,
    ) -> RunResult:
        """The job of ``attempt`` has ended (``reason``): done when the run has its final
        record; else dispatch the next attempt or record the run failed."""
        from hookline.runner import RunResult

        record = self.runs.get(run_id, missing_ok=True)
        if record is not None and record.final:
            self._close_marker(name)
            return RunResult(
                run_id,
                pipeline.name,
                "duplicate",
                f"{reason}; the run is recorded ({record.status}): nothing to do",
                self.storage.url(self.runs.record_key(run_id)),
                record,
            )
        if succeeded:
            reason += " without writing the run record"
        found = self._read(run_id)
        if found is None:
            self._close_marker(name)
            return RunResult(run_id, pipeline.name, "ignored", f"{reason}; no dispatch record")
        doc, etag = found
        if int(doc.get("attempt", 1)) != attempt or doc.get("state") in ("failed", "refused"):
            self._close_marker(name)
            return RunResult(
                run_id,
                pipeline.name,
                "duplicate",
                f"{reason}; attempt {attempt} was already closed (now attempt "
                f"{doc.get('attempt')}, {doc.get('state')})",
            )
        # The platform says the job is gone: its lease need not be waited out.
        self.runs.break_lease(run_id, job=name, reason=reason)
        entries = [dict(a) for a in doc.get("attempts", [])]
        for entry in entries:
            if int(entry.get("attempt", 0)) == attempt and not entry.get("closed_at"):
                entry.update(closed_at=utc_now_iso(), outcome="failed", reason=reason)
        doc["attempts"] = entries
        doc["last_error"] = reason
        log.warning("run %s: attempt %d ended: %s", run_id, attempt, reason)
        if attempt < int(doc.get("max_attempts", 1)):
            doc["attempt"] = attempt + 1
            doc["job"] = None
            taken = self._take(run_id, doc, etag, "submitting")
            if taken is None:
                return RunResult(
                    run_id, pipeline.name, "duplicate", f"{reason}; closed by another delivery"
                )
            self._close_marker(name)
            return self._submit(pipeline, *taken)
        self._close_marker(name)
        return self._give_up(pipeline, doc, etag, reason)

    def _give_up(
        self,
        pipeline: PipelineConfig,
        doc: dict[str, Any],
        etag: str,
        reason: str,
        *,
        what: str = "attempts",
    ) -> RunResult:
        """Record the run ``failed`` with the platform's reason, then mark the dispatch."""
        from hookline.runner import RunResult

        run_id = str(doc["run_id"])
        attempts = int(doc.get("attempt", 1))
        if what == "submission":
            message = reason
            hint = (
                "check the backend settings in the pipeline's compute table and the "
                "dispatcher's permissions; `hookline retrain` runs the upload again"
            )
        else:
            message = f"gave up after {attempts} attempt(s) (compute.max_attempts): {reason}"
            hint = (
                "read the job's logs on the platform; raise compute.max_attempts or fix "
                "the cause, then `hookline retrain` runs the upload again"
            )
        record = self._failed_record(pipeline, doc, JobFailed(message, hint=hint))
        uri = self.runs.save(record)
        doc["last_error"] = reason
        self._take(run_id, doc, etag, "failed")
        log.error("run %s failed: %s", run_id, message)
        return RunResult(run_id, pipeline.name, "failed", message, uri, record)

    def _failed_record(
        self, pipeline: PipelineConfig, doc: Mapping[str, Any], exc: HooklineError
    ) -> RunRecord:
        from hookline.runner import _library_versions

        record = RunRecord(
            run_id=str(doc["run_id"]),
            pipeline=pipeline.name,
            model=pipeline.model,
            project=self.app.config.name,
            status="running",
            attempt=int(doc.get("attempt", 1)),
            started_at=str(doc.get("created_at") or utc_now_iso()),
            trigger=dict(doc.get("event") or {}),
            config_hash=str(doc.get("config_hash") or self.app.config.digest),
            libraries=_library_versions(),
        )
        recorder = RunRecorder(record)
        recorder.fail(exc)
        record.error = {**(record.error or {}), "traceback": None}
        recorder.finish("failed", {"offload": _offload_note(doc)})
        created = doc.get("created_epoch")
        if isinstance(created, int | float):
            record.seconds = round(max(self.clock() - float(created), 0.0), 4)
        return record

    # -- the reconciler --------------------------------------------------------------------

    def reconcile(self, event: ReconcileEvent | None = None) -> list[RunResult]:
        """Visit every job in flight and close what its platform says has ended, never
        started within ``start_timeout_seconds``, or stopped heartbeating."""
        from hookline.runner import RunResult

        results: list[RunResult] = []
        for info in list(self.storage.list(layout.JOBS)):
            name = layout.job_name_of(info.key)
            try:
                result = self._reconcile_one(name)
            except TransientError as exc:
                log.warning("reconcile %s: %s", name, exc)
                results.append(RunResult(None, None, "in_progress", f"{name}: {exc}"))
                continue
            except HooklineError as exc:
                log.error("reconcile %s: %s", name, exc)
                results.append(RunResult(None, None, "ignored", f"{name}: {exc}"))
                continue
            if result is not None:
                results.append(result)
        if not results:
            results.append(RunResult(None, None, "ignored", "no jobs in flight"))
        return results

    def _reconcile_one(self, name: str) -> RunResult | None:
        from hookline.runner import RunResult

        marker = self._marker(name)
        if marker is None:
            return None
        run_id = str(marker["run_id"])
        attempt = int(marker.get("attempt", 1))
        pipeline = self.app.config.pipelines.get(str(marker.get("pipeline")))
        if pipeline is None or pipeline.compute is None:
            return RunResult(run_id, None, "ignored", f"job {name}: no such offloading pipeline")
        record = self.runs.get(run_id, missing_ok=True)
        if record is not None and record.final:
            self._close_marker(name)
            return RunResult(run_id, pipeline.name, "duplicate", f"job {name}: run recorded")
        found = self._read(run_id)
        if found is None:
            self._close_marker(name)
            return RunResult(run_id, pipeline.name, "ignored", f"job {name}: no dispatch")
        doc, etag = found
        if int(doc.get("attempt", 1)) != attempt:
            self._close_marker(name)
            return None
        state = doc.get("state")
        age = self.clock() - float(doc.get("state_epoch") or 0)
        if state in ("submitting", "submit_failed"):
            if state == "submit_failed" or age > SUBMIT_GRACE_SECONDS:
                taken = self._take(run_id, doc, etag, "submitting")
                if taken is not None:
                    return self._submit(pipeline, *taken, takeover=True)
            return None
        compute = _compute(pipeline)
        handle = JobHandle.from_dict(doc.get("job") or {"name": name})
        status = self.backend(pipeline).status(handle)
        said = f"{status.platform_status or status.state}" + (
            f": {status.reason}" if status.reason else ""
        )
        if status.state in ("failed", "succeeded", "unknown"):
            return self.close_attempt(
                pipeline,
                run_id,
                attempt,
                name,
                f"{compute.backend} job {name} {said} (found by the reconciler)",
                succeeded=status.state == "succeeded",
            )
        view = self.runs.peek(run_id)
        mine = view is not None and view.doc.get("job") == name
        if not mine and age > compute.start_timeout_seconds:
            self.backend(pipeline).cancel(handle, "it did not start in time")
            return self.close_attempt(
                pipeline,
                run_id,
                attempt,
                name,
                f"{compute.backend} job {name} did not start within start_timeout_seconds "
                f"({compute.start_timeout_seconds}s; the platform says {said}): cancelled",
            )
        if mine and view is not None and not view.live and not view.released:
            self.backend(pipeline).cancel(handle, "its lease ended while it ran")
            return self.close_attempt(
                pipeline,
                run_id,
                attempt,
                name,
                f"{compute.backend} job {name} stopped renewing its lease (last at "
                f"{_iso(view.doc.get('renewed_epoch'))}) while the platform says {said}: "
                "cancelled",
            )
        return RunResult(run_id, pipeline.name, "dispatched", f"job {name}: {said}")

    # -- the job side ----------------------------------------------------------------------

    def run_job(
        self,
        run_id: str,
        *,
        attempt: int | None = None,
        image_digest: str | None = None,
        wait: bool = True,
        deliveries: int = 1,
        keepalive: Callable[[float], None] | None = None,
    ) -> RunResult:
        """Run a dispatched run inside its job (``hookline job run``).

        :param attempt: the attempt this job was submitted for (``$HOOKLINE_ATTEMPT``);
            a job of a superseded attempt does nothing.
        :param image_digest: the digest of the image this job runs from
            (``$HOOKLINE_IMAGE_DIGEST``, set by the job definition from the same manifest as
            its image); checked against the dispatch's.
        :param wait: when another holder's lease is still live, wait for it to end (a
            dead job's successor may start before its lease runs out).
        :param deliveries: for a job started by a queue message, how many times the queue
            delivered it: each delivery after the first is the next attempt (the execution
            before stopped without finishing).
        :param keepalive: called on each heartbeat with the lease's length (the queue
            message's visibility).
        """
        from hookline.runner import RunResult

        found = self._read(run_id)
        if found is None:
            raise NotFound(
                f"run {run_id} was never dispatched: no {layout.run_dispatch_key(run_id)}",
                uri=self.storage.url(layout.run_dispatch_key(run_id)),
                hint="the job's HOOKLINE_STORAGE must be the storage root of the function "
                "that dispatched it",
            )
        doc, etag = found
        pipeline_name = str(doc.get("pipeline"))
        record = self.runs.get(run_id, missing_ok=True)
        if record is not None and record.final:
            return RunResult(
                run_id,
                pipeline_name,
                "duplicate",
                f"already processed (status {record.status}): nothing to do",
                self.storage.url(self.runs.record_key(run_id)),
                record,
            )
        current = int(doc.get("attempt", 1))
        attempt = current if attempt is None else int(attempt)
        if deliveries > 1 and attempt + deliveries - 1 > current:
            attempt = attempt + deliveries - 1
            redelivered = self._redelivered(doc, etag, attempt)
            if redelivered is None or redelivered.status == "failed":
                return redelivered or RunResult(
                    run_id, pipeline_name, "duplicate", "closed by another delivery"
                )
            found = self._read(run_id)
            if found is None:  # pragma: no cover - it was just written
                raise TransientError(f"run {run_id}: the dispatch record vanished")
            doc, etag = found
            current = int(doc.get("attempt", 1))
        name = job_name(run_id, attempt)
        if attempt != current or doc.get("state") in ("failed", "refused"):
            return RunResult(
                run_id,
                pipeline_name,
                "stale",
                f"job {name} belongs to attempt {attempt}; the run is at attempt {current} "
                f"({doc.get('state')}): nothing to do",
            )
        pipeline = self.app.config.pipelines.get(pipeline_name)
        problems = self._mismatches(doc, pipeline, image_digest)
        if problems or pipeline is None:
            return self._refuse(pipeline, doc, etag, problems)
        event = event_from_dict(dict(doc["event"]))
        if not isinstance(event, StorageEvent | ScheduleEvent):
            raise DispatchMismatch(f"run {run_id}: the dispatch names no upload or schedule")
        compute = _compute(pipeline)
        # A dead holder's lease ends within one lease; a live one (the same attempt started
        # twice by the platform) keeps it, and this job then leaves the run to it.
        give_up = self.clock() + 2 * (compute.lease_seconds + compute.heartbeat_seconds)
        while True:
            claim = self.runs.claim(
                run_id,
                event,
                pipeline.name,
                holder="job",
                lease_seconds=compute.lease_seconds,
                job=name,
            )
            now = self.clock()
            if claim.acquired or claim.state == "done" or not wait or now >= give_up:
                break
            ends = float((claim.holder or {}).get("lease_expires_epoch") or 0)
            log.info(
                "run %s: held by %s until %s; waiting for its lease to end",
                run_id,
                (claim.holder or {}).get("holder"),
                _iso(ends),
            )
            time.sleep(max(0.2, min(ends - now + 0.1, give_up - now)))
        if claim.state == "done" and claim.record is not None:
            return RunResult(
                run_id,
                pipeline.name,
                "duplicate",
                f"already processed (status {claim.record.status}): nothing to do",
                self.storage.url(self.runs.record_key(run_id)),
                claim.record,
            )
        if not claim.acquired:
            return RunResult(
                run_id,
                pipeline.name,
                "in_progress",
                f"held by {(claim.holder or {}).get('holder')} "
                f"{(claim.holder or {}).get('owner')} with a live lease: nothing to do",
            )
        assert claim.token is not None
        heartbeat = Heartbeat(
            self.runs,
            run_id,
            claim.token,
            every=compute.heartbeat_seconds,
            lease=compute.lease_seconds,
            on_beat=keepalive,
        )
        with heartbeat:
            result = self.app.run_claimed(
                pipeline,
                event,
                run_id,
                claim,
                heartbeat=heartbeat,
                notes={
                    "offload": {
                        "backend": compute.backend,
                        "job": name,
                        "attempt": attempt,
                        "reason": doc.get("reason"),
                        "image": doc.get("image"),
                    }
                },
            )
        if result.record is not None and result.record.get("status") in FINAL:
            self._close_marker(name)
        return result

    def run_received(self, backend: str, *, pipeline: str | None = None) -> RunResult:
        """For a job started by a queue message (``container-apps-job``): receive the
        message, run the run it names, and delete the message once the run is settled.

        :param backend: the backend whose queue to read (``$HOOKLINE_COMPUTE_BACKEND``).
        :param pipeline: the pipeline whose settings name the queue (default: the first
            pipeline using ``backend``).
        """
        from hookline.runner import RunResult

        candidates = [
            p
            for p in self.app.config.pipelines.values()
            if p.compute is not None
            and p.compute.backend == backend
            and (pipeline is None or p.name == pipeline)
        ]
        if not candidates:
            raise DispatchMismatch(
                f"no pipeline of this job's configuration uses the {backend!r} backend"
                + (f" (asked for {pipeline!r})" if pipeline else "")
            )
        chosen = candidates[0]
        source = self.backend(chosen)
        receive = getattr(source, "receive", None)
        if not callable(receive):
            raise DispatchMismatch(f"the {backend!r} backend does not start jobs from a queue")
        ticket = receive(_compute(chosen).lease_seconds)
        if ticket is None:
            return RunResult(None, chosen.name, "ignored", "the job queue is empty")
        result = self.run_job(
            ticket.run_id,
            attempt=ticket.attempt,
            image_digest=os.environ.get("HOOKLINE_IMAGE_DIGEST") or None,
            deliveries=ticket.deliveries,
            keepalive=ticket.keepalive,
        )
        if result.status != "in_progress":  # settled: nothing more for this message to do
            ticket.done()
        return result

    def _redelivered(self, doc: dict[str, Any], etag: str, attempt: int) -> RunResult | None:
        """A queue delivered the job again (the execution before it died): the attempts
        before ``attempt`` are closed, and past ``max_attempts`` the run is recorded failed.
        ``None`` when another delivery changed the dispatch first."""
        from hookline.runner import RunResult

        run_id = str(doc["run_id"])
        pipeline = self.app.config.pipelines.get(str(doc.get("pipeline")))
        if pipeline is None or pipeline.compute is None:
            raise DispatchMismatch(f"run {run_id}: no offloading pipeline {doc.get('pipeline')!r}")
        before = int(doc.get("attempt", 1))
        old = job_name(run_id, before)
        reason = (
            f"{doc.get('backend')} job {old}: the execution that received it stopped without "
            f"finishing (the queue delivered it again as attempt {attempt})"
        )
        self.runs.break_lease(run_id, job=old, reason=reason)
        entries = [dict(a) for a in doc.get("attempts", [])]
        for entry in entries:
            if not entry.get("closed_at"):
                entry.update(closed_at=utc_now_iso(), outcome="failed", reason=reason)
        doc = {**doc, "attempts": entries, "last_error": reason}
        self._close_marker(old)
        if attempt > int(doc.get("max_attempts", 1)):
            doc["attempt"] = attempt - 1
            return self._give_up(pipeline, doc, etag, reason)
        name = job_name(run_id, attempt)
        spec = self._spec(pipeline, {**doc, "attempt": attempt})
        doc["attempt"] = attempt
        doc["attempts"] = [
            *entries,
            _attempt_entry(spec, JobHandle(spec_backend(pipeline), name), self.clock()),
        ]
        self._open_marker(pipeline, run_id, attempt, name)
        taken = self._take(run_id, doc, etag, "submitted")
        if taken is None:
            return None
        return RunResult(run_id, pipeline.name, "dispatched", f"attempt {attempt} of {run_id}")

    def _mismatches(
        self,
        doc: Mapping[str, Any],
        pipeline: PipelineConfig | None,
        image_digest: str | None,
    ) -> list[str]:
        problems = []
        if pipeline is None:
            problems.append(f"this job's configuration has no pipeline {doc.get('pipeline')!r}")
        want = doc.get("config_hash")
        have = self.app.config.digest
        if want and want != have:
            problems.append(
                f"its configuration hash is {have}, the dispatch's is {want} "
                f"(the job read {self.app.config.source})"
            )
        wanted = doc.get("image_digest")
        if wanted and image_digest != wanted:
            problems.append(
                f"it runs from image {image_digest or '(no HOOKLINE_IMAGE_DIGEST set)'}, "
                f"the dispatch's image is {wanted}"
            )
        return problems

    def _refuse(
        self,
        pipeline: PipelineConfig | None,
        doc: dict[str, Any],
        etag: str,
        problems: list[str],
    ) -> RunResult:
        from hookline.runner import RunResult

        run_id = str(doc["run_id"])
        message = "the job refused to run: " + "; ".join(problems)
        hint = (
            "deploy the function and the job from the same `hookline package` (one "
            "hookline.toml, one image digest), then `hookline retrain` runs the upload again"
        )
        log.error("run %s: %s", run_id, message)
        if pipeline is None:
            raise DispatchMismatch(message, hint=hint)
        record = self._failed_record(pipeline, doc, DispatchMismatch(message, hint=hint))
        uri = self.runs.save(record)
        doc["last_error"] = message
        self._take(run_id, doc, etag, "refused")
        self._close_marker(job_name(run_id, int(doc.get("attempt", 1))))
        return RunResult(run_id, pipeline.name, "failed", message, uri, record)

    # -- storage -------------------------------------------------------------------------

    def _read(self, run_id: str) -> tuple[dict[str, Any], str] | None:
        try:
            raw, info = self.storage.read_with_info(layout.run_dispatch_key(run_id))
        except NotFound:
            return None
        return dict(jsonio.loads(raw)), info.etag

    def dispatch_record(self, run_id: str) -> dict[str, Any] | None:
        """The run's dispatch record, or ``None`` when it was never dispatched."""
        found = self._read(run_id)
        return found[0] if found else None

    def _marker(self, name: str) -> dict[str, Any] | None:
        try:
            return dict(jsonio.loads(self.storage.read(layout.job_key(name))))
        except NotFound:
            return None

    def _open_marker(self, pipeline: PipelineConfig, run_id: str, attempt: int, name: str) -> None:
        marker = {
            "run_id": run_id,
            "pipeline": pipeline.name,
            "attempt": attempt,
            "backend": spec_backend(pipeline),
            "name": name,
            "created_at": utc_now_iso(),
        }
        self.storage.write(layout.job_key(name), jsonio.dumps(marker))

    def _close_marker(self, name: str) -> None:
        try:
            self.storage.delete(layout.job_key(name))
        except NotFound:
            pass


def _compute(pipeline: PipelineConfig) -> ComputeConfig:
    if pipeline.compute is None:
        raise HooklineError(f"pipeline {pipeline.name!r} has no compute table")
    return pipeline.compute


def spec_backend(pipeline: PipelineConfig) -> str:
    return _compute(pipeline).backend


def _set_state(doc: dict[str, Any], state: str, now: float) -> None:
    doc["state"] = state
    doc["state_epoch"] = now
    doc["state_at"] = utc_now_iso()
    doc["token"] = uuid.uuid4().hex


def _attempt_entry(spec: JobSpec, handle: JobHandle, now: float) -> dict[str, Any]:
    return {
        "attempt": spec.attempt,
        "name": spec.name,
        "id": handle.id,
        "submitted_at": utc_now_iso(),
        "submitted_epoch": now,
    }


def _offload_note(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "backend": doc.get("backend"),
        "reason": doc.get("reason"),
        "attempts": doc.get("attempts", []),
        "image": doc.get("image"),
    }


def _iso(epoch: Any) -> str:
    if not isinstance(epoch, int | float):
        return "unknown"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(epoch)))
