"""The pipeline runtime: route an event, claim its run, call the stages, record the run.

One :class:`Hookline` is built per cold start (config, plugin manager, storage) and reused
on warm invocations. Every entry point -- the three clouds' functions, ``hookline run`` and
``hookline watch`` -- calls :meth:`Hookline.handle` with cloud-neutral events.
"""

from __future__ import annotations

import logging
import platform
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from hookline._manager import PluginManager
from hookline.config import OUTPUT_PREFIXES, Config, PipelineConfig
from hookline.errors import HooklineError, NotFound, TransientError, answer
from hookline.events import (
    Event,
    JobEvent,
    ReconcileEvent,
    RunEvent,
    ScheduleEvent,
    StorageEvent,
    skip_reason,
    utc_now_iso,
)
from hookline.project import Project
from hookline.record import RunRecord, RunRecorder
from hookline.registry import Registry
from hookline.runs import Claim, Heartbeat, RunStore, current_deadline
from hookline.storage import Storage, fetch_source, parse_uri
from hookline.types import CheckResult, RunContext, Source
from hookline.window import WindowEntry, gather, mark_trained_on, trained_on

if TYPE_CHECKING:
    from hookline.offload import Offloader

__all__ = ["Hookline", "RunResult"]

log = logging.getLogger("hookline")

LIBRARIES = ("hookline", "pluggy", "pandas", "numpy", "scikit-learn", "scipy", "skops")


@dataclass(frozen=True, slots=True)
class RunResult:
    """What handling one event for one pipeline came to.

    ``status`` is a run status (``succeeded``, ``rejected``, ``failed``) or what happened
    instead: ``duplicate`` (already done), ``in_progress`` (another invocation holds it),
    ``ignored`` (no pipeline wants the object), ``dispatched`` (handed to a job, see
    :mod:`hookline.offload`), ``stale`` (a job of a superseded attempt).
    """

    run_id: str | None
    pipeline: str | None
    status: str
    message: str = ""
    record_uri: str | None = None
    record: Mapping[str, Any] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("record")
        return out


def _library_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _relative_key(root_uri: str, event: StorageEvent) -> str | None:
    """The event's key relative to ``root_uri``, or ``None`` when it lies outside it."""
    root = parse_uri(root_uri)
    scheme = urlsplit(event.uri).scheme or "file"
    if scheme != root.scheme:
        return None
    if scheme == "file":
        path = unquote(urlsplit(event.uri).path)
        base = root.path.rstrip("/") + "/"
        return path[len(base) :] if path.startswith(base) else None
    if event.bucket != root.bucket:
        return None
    base = root.path.strip("/")
    if not base:
        return event.key
    return event.key[len(base) + 1 :] if event.key.startswith(base + "/") else None


class Hookline:
    """The pipeline runtime for one project.

    :param config: the validated configuration, or an opened :class:`Project`.
    :param pm: a plugin manager; by default one is built from installed entry points,
        honouring ``[project] plugins`` and ``$HOOKLINE_PLUGINS``.
    :param storage: the storage root; by default opened from ``config.storage``.
    """

    def __init__(
        self,
        config: Config | Project,
        *,
        pm: PluginManager | None = None,
        storage: Storage | None = None,
    ) -> None:
        if isinstance(config, Project):
            if pm is not None or storage is not None:
                raise TypeError("pass pm and storage to the Project, not to Hookline")
            self.project = config
        else:
            self.project = Project(config, storage=storage, plugins=pm)
        self.config = self.project.config
        self.pm = self.project.plugins  # built and checked against the config now

    @classmethod
    def from_config(
        cls,
        path: str | None = None,
        *,
        bundle_dir: str | None = None,
        pm: PluginManager | None = None,
        storage: Storage | None = None,
    ) -> Hookline:
        """Open the project (see :func:`hookline.config.find_config`) and its runtime."""
        return cls(Project.open(path, bundle_dir=bundle_dir, storage=storage, plugins=pm))

    @property
    def storage(self) -> Storage:
        return self.project.storage

    @property
    def registry(self) -> Registry:
        return self.project.registry

    @property
    def runs(self) -> RunStore:
        return self.project.runs

    @cached_property
    def offload(self) -> Offloader:
        """Dispatching runs to jobs, their events and the reconciler."""
        from hookline.offload import Offloader

        return Offloader(self)

    # -- routing --------------------------------------------------------------------------

    def route(self, event: RunEvent) -> tuple[list[PipelineConfig], str]:
        """The pipelines ``event`` triggers, and why none when the list is empty."""
        if isinstance(event, ScheduleEvent):
            pipeline = self.config.pipelines.get(event.pipeline)
            if pipeline is None:
                raise NotFound(
                    f"schedule names unknown pipeline {event.pipeline!r}",
                    hint=f"this configuration's pipelines: "
                    f"{', '.join(sorted(self.config.pipelines))}",
                )
            return [pipeline], ""
        own = _relative_key(self.storage.uri, event)
        if own is not None and own.startswith(OUTPUT_PREFIXES):
            return [], f"{event.uri} is one of hookline's own outputs (loop safety)"
        skipped = skip_reason(event, skip_empty=self.config.limits["skip_empty_objects"])
        if skipped:
            return [], skipped
        matched, placed = [], own is not None
        for pipeline in self.config.pipelines.values():
            trigger = pipeline.trigger
            if trigger is None:
                continue
            key = own if trigger.source is None else _relative_key(trigger.source, event)
            placed = placed or key is not None
            if key is not None and trigger.matches_key(key):
                matched.append(pipeline)
        if not placed:
            return [], (
                f"{event.uri} is outside the project's storage ({self.storage.uri}) "
                "and no trigger's source names it"
            )
        if not matched:
            return [], f"{event.uri} matches no pipeline trigger"
        return matched, ""

    def handle(self, event: Event, *, force: bool = False) -> list[RunResult]:
        """Run every pipeline ``event`` triggers.

        Permanent failures are recorded and returned; a transient failure raises
        :class:`~hookline.errors.TransientError` so the platform retries the delivery. A
        job-state event closes the attempt it reports (:mod:`hookline.offload`); the
        reconciler's schedule visits every job in flight.

        :param force: train even when a version was already trained on exactly this data.
        """
        if isinstance(event, JobEvent):
            return [self.offload.on_job_event(event)]
        if isinstance(event, ReconcileEvent):
            return self.offload.reconcile(event)
        pipelines, reason = self.route(event)
        if not pipelines:
            log.info("ignored: %s", reason)
            return [RunResult(None, None, "ignored", reason)]
        return [self.run_pipeline(p, event, force=force) for p in pipelines]

    # -- one run --------------------------------------------------------------------------

    def run_pipeline(
        self,
        pipeline: PipelineConfig,
        event: RunEvent,
        *,
        force: bool = False,
        added: Sequence[WindowEntry] = (),
    ) -> RunResult:
        """Run ``pipeline`` on ``event`` here, or hand it to a job when its ``compute``
        table says so (the answer is then ``dispatched``).

        :param force: train even when a version was already trained on exactly this data.
        :param added: more uploads to learn from, read by their recorded versions (a
            retrain's labelled batches): new data, which later windows include too.
        """
        started = utc_now_epoch()
        run_id = event.run_id(pipeline.name)
        if pipeline.compute is not None:
            dispatched = self.offload.route(pipeline, event, run_id)
            if dispatched is not None:
                return dispatched
        claim = self.runs.claim(run_id, event, pipeline.name, lease_until=current_deadline(started))
        return self.run_claimed(pipeline, event, run_id, claim, force=force, added=added)

    def run_claimed(
        self,
        pipeline: PipelineConfig,
        event: RunEvent,
        run_id: str,
        claim: Claim,
        *,
        heartbeat: Heartbeat | None = None,
        notes: Mapping[str, Any] | None = None,
        force: bool = False,
        added: Sequence[WindowEntry] = (),
    ) -> RunResult:
        """Run the stages of a run whose claim was tried, and record it.

        :param heartbeat: the lease's heartbeat, for a job: when the lease was lost
            (another holder took the run over) the record is not written.
        :param notes: entries for the record's ``notes`` (a job's ``offload`` entry).
        :param force: and ``added``: as for :meth:`run_pipeline`.
        """
        if not claim.acquired:
            if claim.state == "done" and claim.record is not None:
                # The first delivery may have died between the record and its index entry,
                # or before its observers (reports...) ran: finish both, idempotently.
                self.runs.index(claim.record)
                if not self.runs.completed(run_id):
                    self._complete(self._context(run_id, pipeline, event), claim.record)
                msg = f"already processed (status {claim.record.get('status')}): nothing to do"
                return RunResult(
                    run_id,
                    pipeline.name,
                    "duplicate",
                    msg,
                    self.storage.url(self.runs.record_key(run_id)),
                    claim.record,
                )
            return RunResult(
                run_id,
                pipeline.name,
                "in_progress",
                "another invocation is running it: nothing to do",
            )
        ctx = self._context(run_id, pipeline, event)
        if notes:
            ctx.notes.update(notes)
        recorder = RunRecorder(self._new_record(ctx, claim.attempt))
        record = recorder.record
        workdir = tempfile.mkdtemp(prefix="hookline-")
        try:
            self.pm.call_observers("before_pipeline_run", ctx=ctx)
            status = self._run_stages(ctx, recorder, workdir, force=force, added=added)
        except Exception as exc:
            _check_lease(heartbeat, run_id)
            return self._fail(ctx, recorder, exc)
        except KeyboardInterrupt as exc:
            self._interrupted(ctx, recorder, exc)
            raise
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        recorder.finish(status, ctx.notes)
        _check_lease(heartbeat, run_id)
        try:
            uri = self.runs.save(record)
        except TransientError as exc:
            # The stages' effects are done (and idempotent per run); without a record the
            # run must be retried, so release the claim before the platform redelivers.
            self.runs.release(ctx.run_id, str(exc))
            raise
        self._complete(ctx, record)
        return RunResult(run_id, pipeline.name, record.status, _summary_line(record), uri, record)

    def _context(self, run_id: str, pipeline: PipelineConfig, event: Event) -> RunContext:
        registry = self.registry.for_run()
        ctx = RunContext(
            run_id=run_id,
            pipeline=pipeline,
            event=event,
            storage=self.storage,
            registry=registry,
            config=self.config,
            log=logging.getLogger(f"hookline.run.{run_id}"),
        )
        registry.attach(ctx)
        return ctx

    def _complete(self, ctx: RunContext, record: RunRecord) -> None:
        """Tell the observers a run ended (its record is written), then mark it complete.

        Observers are called at least once: a delivery that dies after the record and
        before the mark leaves the next delivery to call them again (their outputs, such as
        ``report.html``, are rewritten with the same bytes).
        """
        if record.status == "failed":
            error = RecordedError((record.error or {}).get("message") or "the run failed")
            self.pm.call_observers("on_pipeline_error", ctx=ctx, error=error, record=record)
        else:
            self.pm.call_observers("after_pipeline_run", ctx=ctx, record=record)
        self.runs.mark_completed(ctx.run_id)

    def _new_record(self, ctx: RunContext, attempt: int) -> RunRecord:
        return RunRecord(
            run_id=ctx.run_id,
            pipeline=ctx.pipeline.name,
            model=ctx.model_name,
            project=self.config.name,
            status="running",
            attempt=attempt,
            started_at=utc_now_iso(),
            trigger=ctx.event.to_dict(),
            config_hash=self.config.digest,
            plugins=[
                {
                    "name": i.name,
                    "distribution": i.distribution,
                    "version": i.version,
                    "hooks": list(i.hooks),
                }
                for i in self.pm.infos.values()
            ],
            libraries=_library_versions(),
        )

    def _run_stages(
        self,
        ctx: RunContext,
        recorder: RunRecorder,
        workdir: str,
        *,
        force: bool = False,
        added: Sequence[WindowEntry] = (),
    ) -> str:
        """Call each stage in order; return the run's status (``succeeded``/``rejected``)."""
        record = recorder.record
        dataset = model = None
        result: Any = None
        checks: list[CheckResult] = []
        refused: list[str] = []
        for stage in ctx.pipeline.stages:
            if stage == "deploy" and any(c.blocking and not c.passed for c in checks):
                recorder.skip_stage(stage, "a blocking check failed")
                continue
            self.pm.call_observers("before_stage_run", ctx=ctx, stage=stage)
            recorder.start_stage(stage)
            ctx.log.info("%s: started", stage)
            if stage == "ingest":
                source = self._fetch(ctx, workdir)
                if source is not None:
                    ctx.sources.append(source)
                    record.trigger.update(
                        sha256=source.sha256, size=source.size, read_version=source.version
                    )
                self._gather(ctx, record, workdir, added)
                if source is None and ctx.window:
                    # no upload triggered the run (a schedule, a retrain): the window's
                    # newest upload is the one ingest reads, the rest its window
                    source = ctx.window.pop()
                    ctx.sources.remove(source)
                    ctx.sources.insert(0, source)
                skip = ctx.pipeline.trains and ctx.pipeline.skip_unchanged and not force
                already = self._trained_on(ctx) if skip else None
                if already is not None:
                    record.unchanged = already
                    for rest in ctx.pipeline.stages:
                        recorder.skip_stage(rest, f"unchanged: {_unchanged_text(already)}")
                    return "succeeded"
                result = dataset = self.pm.call_provider("ingest", ctx=ctx, source=source)
                record.data = {
                    "schema": dict(dataset.schema),
                    "profile": dict(dataset.profile),
                    "target": dataset.target,
                }
            elif stage == "train":
                result = model = self.pm.call_provider("train", ctx=ctx, dataset=dataset)
                record.metrics.update(model.metrics)
                record.params.update(model.params)
                record.task = model.task
                record.card = dict(model.card) or None
            elif stage == "validate":
                found = self.pm.call_collecting("validate", ctx=ctx, dataset=dataset, model=model)
                checks = [c for group in found for c in _as_checks(group)]
                record.checks = [asdict(c) for c in checks]
                result = checks
            elif stage == "deploy":
                result = self.pm.call_collecting("deploy", ctx=ctx, model=model, checks=checks)
                record.deployments = [asdict(d) for d in result]
                refused = [f"deploy:{d.target}" for d in result if d.status == "rejected"]
                if not refused:  # a version a deploy refused may be tried again on this data
                    mark_trained_on(ctx, record.version, self.config.digest)
            else:  # monitor
                result = self.pm.call_collecting("monitor", ctx=ctx, dataset=dataset)
                record.reports = [asdict(r) for r in result]
            seconds = recorder.end_stage()
            ctx.log.info("%s: done in %.2f s", stage, seconds)
            self.pm.call_observers(
                "after_stage_run", ctx=ctx, stage=stage, result=result, seconds=seconds
            )
        failed = [c.name for c in checks if c.blocking and not c.passed] + refused
        if failed:
            record.rejected_by = failed
            return "rejected"
        return "succeeded"

    def _fetch(self, ctx: RunContext, workdir: str) -> Source | None:
        """Copy the triggering object to a local file once, hashing it on the way."""
        event = ctx.event
        if not isinstance(event, StorageEvent):
            return None
        storage, key = self._storage_for(event)
        return fetch_source(
            storage, key, workdir, limit=int(self.config.limits["max_upload_bytes"]), uri=event.uri
        )

    def _gather(
        self, ctx: RunContext, record: RunRecord, workdir: str, added: Sequence[WindowEntry]
    ) -> None:
        limit = int(self.config.limits["max_upload_bytes"])
        gather(ctx, record, self.runs, self._locate, workdir, limit=limit, added=added)

    def _locate(self, entry: WindowEntry) -> tuple[Storage, str]:
        return self._storage_for(StorageEvent(uri=entry.uri, bucket=entry.bucket, key=entry.key))

    def _trained_on(self, ctx: RunContext) -> dict[str, Any] | None:
        return trained_on(ctx, self.config.digest)

    def _interrupted(self, ctx: RunContext, recorder: RunRecorder, exc: BaseException) -> None:
        """Ctrl-C (or a stop) in the middle of a run: record it as ``interrupted``, which is
        not final, and release the claim, so the next delivery or ``hookline watch`` runs
        it again at once instead of waiting for the claim to go stale."""
        try:
            recorder.fail(exc)
            recorder.finish("interrupted", ctx.notes)
            self.runs.save(recorder.record)
        finally:
            self.runs.release(ctx.run_id, "interrupted")
            log.warning("run %s interrupted: its claim is released", ctx.run_id)

    def _storage_for(self, event: StorageEvent) -> tuple[Storage, str]:
        key = _relative_key(self.storage.uri, event)
        if key is not None:
            return self.storage, key
        return self.project.bucket_of(event.uri), event.key

    def _fail(self, ctx: RunContext, recorder: RunRecorder, exc: Exception) -> RunResult:
        stage = recorder.fail(exc)
        record = recorder.record
        if stage is not None:
            self.pm.call_observers("on_stage_error", ctx=ctx, stage=stage, error=exc)
        if answer(exc).retry:
            # Leave no final record: release the claim so the platform's retry restarts it.
            self.runs.release(ctx.run_id, str(exc))
            log.warning("run %s: transient failure, releasing for retry: %s", ctx.run_id, exc)
            self.pm.call_observers("on_pipeline_error", ctx=ctx, error=exc, record=record)
            if isinstance(exc, TransientError):
                raise exc
            raise TransientError(str(exc)) from exc
        recorder.finish("failed", ctx.notes)
        uri = self.runs.save(record)
        log.error("run %s failed: %s", ctx.run_id, exc)
        self.pm.call_observers("on_pipeline_error", ctx=ctx, error=exc, record=record)
        self.runs.mark_completed(ctx.run_id)
        message = (record.error or {}).get("message", str(exc))
        return RunResult(ctx.run_id, ctx.pipeline.name, "failed", message, uri, record)


class RecordedError(HooklineError):
    """A failure read back from a run record (its observers are being called again)."""


def utc_now_epoch() -> float:
    import time

    return time.time()


def _check_lease(heartbeat: Heartbeat | None, run_id: str) -> None:
    """Write nothing more for a run whose lease was lost to another holder."""
    if heartbeat is not None and heartbeat.lost:
        raise TransientError(
            f"run {run_id}: this job lost its claim (its lease ended without a renewal and "
            "another holder took the run over); its record is not written",
            hint=heartbeat.last_error,
        )


def _as_checks(group: Any) -> Sequence[CheckResult]:
    if isinstance(group, CheckResult):
        return [group]
    return list(group)


def monitor_verdict(report: Mapping[str, Any]) -> str:
    """``DRIFT``, ``DECAY: <what changed>`` (performance on labelled rows got worse), both,
    or ``no drift or decay``: a monitor's finding in a few words, from its report."""
    decay = (report.get("details") or {}).get("decay") or {}
    found = ["DRIFT"] if report.get("drifted") else []
    if decay.get("decayed"):
        found.append(f"DECAY: {decay['change']}" if decay.get("change") else "DECAY")
    if not found:
        return "no drift or decay" if decay else "no drift"
    return " + ".join(found)


def _unchanged_text(unchanged: Mapping[str, Any]) -> str:
    aliases = unchanged.get("aliases") or []
    return (
        f"{unchanged['model']} v{unchanged['version']}"
        + (f" ({', '.join(aliases)})" if aliases else "")
        + " was trained on exactly this data under this configuration"
        + (f" (run {unchanged['run_id']})" if unchanged.get("run_id") else "")
    )


def _summary_line(record: Mapping[str, Any]) -> str:
    status = record["status"]
    if record.get("unchanged"):
        return (
            f"unchanged: {_unchanged_text(record['unchanged'])}; nothing to do "
            "(--force trains again)"
        )
    if status == "rejected":
        return f"rejected by {', '.join(record.get('rejected_by', []))}"
    parts = []
    for dep in record.get("deployments", []):
        if dep.get("version") is not None:
            parts.append(
                f"{dep['model']} v{dep['version']} {dep['status']}"
                + (f" to {dep['alias']}" if dep.get("alias") else "")
            )
    for rep in record.get("reports", []):
        parts.append(f"{rep['name']}: {monitor_verdict(rep)}")
    if record.get("metrics"):
        parts.append(
            ", ".join(
                f"{k}={v:.4g}"
                for k, v in list(record["metrics"].items())[:3]
                if isinstance(v, int | float)
            )
        )
    return "; ".join(p for p in parts if p) or status
