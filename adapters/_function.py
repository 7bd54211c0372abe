"""What the three clouds' pipeline functions share: one runtime per cold start, and the
answer each platform understands.

* :class:`PipelineRuntime` builds the :class:`~hookline.runner.Hookline` runtime on the
  first event of a cold start and keeps it for the warm invocations that follow. It opens
  the project with :meth:`hookline.project.Project.open`, so the configuration is found by
  the one rule (:func:`hookline.config.find_config`): ``$HOOKLINE_CONFIG`` (a path or a
  storage URI) when set, else the ``hookline.toml`` bundled next to the entry file, else
  ``./hookline.toml``.
* :func:`handle_events` runs the events of one delivery and says whether the platform must
  deliver it again. The rule, on every cloud:

  - a run that finished -- ``succeeded``, ``rejected``, or ``failed`` on bad data with its
    run record written -- and an event that was ``ignored`` or a ``duplicate`` are done:
    the function returns normally and the platform does not retry;
  - a transient failure (storage throttled, a timeout; the runner has released the run's
    claim) and a run that another invocation still holds (``in_progress``) need a retry:
    the function raises :class:`~hookline.errors.TransientError` (on SQS: the message is
    listed in ``batchItemFailures``), and the retry resumes or restarts the run;
  - anything else (a payload that is not an event, a schedule naming an unknown pipeline,
    storage refusing access) propagates, so the delivery ends in the platform's failure
    path (on-failure destination, dead-letter queue or container) for an operator.

  What an exception means -- retried or not, expected or a bug -- is read from
  :func:`hookline.errors.answer`, the table every surface uses (:func:`failure_fields`).

Every finished run is logged as one ``run_finished`` line (and a ``stage_finished`` line per
stage) by :func:`handle_events` (see :mod:`hookline.adapters._logs`).

No cloud SDK is imported here.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hookline.adapters._logs import FINISHED, Metrics, run_fields, stage_fields
from hookline.errors import TransientError, answer
from hookline.events import Event

if TYPE_CHECKING:
    from hookline.runner import Hookline, RunResult

__all__ = ["Delivery", "PipelineRuntime", "counts_line", "failure_fields", "handle_events"]

log = logging.getLogger("hookline.function")


class PipelineRuntime:
    """The pipeline runtime of one deployed function, built lazily and kept warm.

    :param bundle_dir: the folder of the entry file; its ``hookline.toml`` is used when
        ``$HOOKLINE_CONFIG`` is not set.
    :param app: an already built runtime (tests, or a caller that builds its own).
    :param metrics: adds the cloud's metric fields to ``run_finished`` and
        ``stage_finished`` lines (AWS: embedded metric format).
    """

    def __init__(
        self,
        bundle_dir: str | os.PathLike[str] | None = None,
        *,
        app: Any = None,
        metrics: Metrics | None = None,
    ):
        self.bundle_dir = os.fspath(bundle_dir) if bundle_dir is not None else None
        self.metrics = metrics
        self._app = app
        self._lock = threading.Lock()
        self.builds = 0
        """How many times the runtime was built in this process (1 per cold start)."""

    def get(self) -> Hookline:
        """The runtime, built on first use (config, plugin manager, storage).

        :raises ConfigError: the configuration is missing or invalid (the function fails
            with the message on every invocation until it is fixed).
        """
        if self._app is None:
            with self._lock:
                if self._app is None:
                    from hookline.project import Project
                    from hookline.runner import Hookline

                    self._app = Hookline(Project.open(bundle_dir=self.bundle_dir))
                    self.builds += 1
                    log.info(
                        "hookline runtime built from %s",
                        self._app.config.source,
                        extra={"event": "runtime_built", "project": self._app.config.name},
                    )
        return self._app  # type: ignore[no-any-return]

    def handle(self, events: Iterable[Event]) -> Delivery:
        """Run the events of one delivery on the (warm) runtime: :func:`handle_events`."""
        events = list(events)
        if not events:
            return Delivery(())
        return handle_events(self.get(), events, metrics=self.metrics)

    def reset(self) -> None:
        """Forget the built runtime (the next event builds it again)."""
        with self._lock:
            self._app = None


@dataclass(frozen=True)
class Delivery:
    """What handling the events of one delivery came to.

    :param results: one :class:`~hookline.runner.RunResult` per (event, pipeline).
    :param retry: why the delivery must come again (transient failures, runs held by
        another invocation); empty when it is done.
    """

    results: tuple[RunResult, ...]
    retry: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return not self.retry

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary: the functions return it (AWS) and log it."""
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return {
            "runs": [r.to_dict() for r in self.results],
            "counts": counts,
            "retry": list(self.retry),
        }

    def raise_for_retry(self) -> None:
        """Raise :class:`TransientError` when the delivery must come again."""
        if self.retry:
            raise TransientError(
                "; ".join(self.retry),
                hint="the platform retries this delivery; a retry restarts released runs",
            )


def handle_events(
    app: Hookline, events: Iterable[Event], *, metrics: Metrics | None = None
) -> Delivery:
    """Run every event of one delivery, the transient failures last to count.

    Every event is tried even when an earlier one failed transiently, so one throttled
    object does not hold back the others; their runs are duplicates on the retry. Each
    finished run is logged (``run_finished``, after a ``stage_finished`` line per stage).

    :param metrics: adds the cloud's metric fields to those lines.
    :raises HooklineError: for what no retry fixes soon (an unknown scheduled pipeline,
        storage refusing access): the delivery goes to the platform's failure path.
    """
    results: list[RunResult] = []
    retry: list[str] = []
    for event in events:
        where = getattr(event, "uri", None) or f"schedule {getattr(event, 'pipeline', '?')}"
        try:
            handled = app.handle(event)
        except TransientError as exc:
            log.warning(
                "transient failure on %s: %s",
                where,
                exc,
                extra={"event": "run_released", "status": "retry", "object": where},
            )
            retry.append(f"{where}: {exc.message}")
            continue
        for result in handled:
            _log_result(result, where, metrics)
            if result.status == "in_progress":
                retry.append(
                    f"{where}: run {result.run_id} is held by another invocation; "
                    "retry once it has finished"
                )
        results += handled
    return Delivery(tuple(results), tuple(retry))


def _log_result(result: RunResult, where: str, metrics: Metrics | None) -> None:
    if result.status not in FINISHED:  # duplicate, ignored, in_progress
        fields = {
            "event": "run_skipped",
            "pipeline": result.pipeline,
            "run_id": result.run_id,
            "status": result.status,
            "object": where,
        }
        log.info(
            "%s: %s%s",
            where,
            result.status,
            f" ({result.run_id})" if result.run_id else "",
            extra={k: v for k, v in fields.items() if v is not None},
        )
        return
    for stage in stage_fields(result):
        extra = {**stage, **(metrics(stage) if metrics else {})}
        level = logging.ERROR if stage.get("status") == "failed" else logging.INFO
        log.log(
            level,
            "run %s: stage %s %s",
            result.run_id,
            stage["stage"],
            stage.get("status"),
            extra=extra,
        )
    fields = run_fields(result)
    fields["object"] = where
    extra = {**fields, **(metrics(fields) if metrics else {})}
    level = logging.ERROR if result.status == "failed" else logging.INFO
    log.log(
        level,
        "run %s %s: %s",
        result.run_id,
        result.status,
        result.message,
        extra=extra,
    )


def failure_fields(exc: BaseException, **fields: Any) -> dict[str, Any]:
    """The log fields of an item or delivery that failed with ``exc``, from
    :func:`hookline.errors.answer`: ``retry`` (a redelivery may succeed), the error's
    ``title`` and bounded ``detail`` -- never internals of an unexpected exception."""
    verdict = answer(exc)
    return {
        "event": "delivery_failed",
        "status": "retry" if verdict.retry else "failed",
        "retry": verdict.retry,
        "error_title": verdict.title,
        "error": verdict.detail if verdict.expected else f"{type(exc).__name__}: {exc}"[:1000],
        **{k: v for k, v in fields.items() if v is not None},
    }


def counts_line(summary: Mapping[str, Any]) -> str:
    """``"2 succeeded, 1 ignored"`` for a :meth:`Delivery.summary`."""
    counts = summary.get("counts") or {}
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to run"
