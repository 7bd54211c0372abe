"""What the three clouds' pipeline functions share: one runtime per cold start, and the
answer each platform understands.

* :class:`PipelineRuntime` builds the :class:`~hookline.runner.Hookline` runtime on the
  first event of a cold start and keeps it for the warm invocations that follow. The
  configuration is ``$HOOKLINE_CONFIG`` (a path or a storage URI) when set, else the
  ``hookline.toml`` bundled next to the entry file, else ``./hookline.toml``.
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

No cloud SDK is imported here.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hookline.errors import TransientError
from hookline.events import Event

if TYPE_CHECKING:
    from hookline.runner import Hookline, RunResult

__all__ = ["Delivery", "PipelineRuntime", "counts_line", "handle_events"]

log = logging.getLogger("hookline.function")

CONFIG_FILE = "hookline.toml"


class PipelineRuntime:
    """The pipeline runtime of one deployed function, built lazily and kept warm.

    :param bundle_dir: the folder of the entry file; its ``hookline.toml`` is used when
        ``$HOOKLINE_CONFIG`` is not set.
    :param app: an already built runtime (tests, or a caller that builds its own).
    """

    def __init__(self, bundle_dir: str | os.PathLike[str] | None = None, *, app: Any = None):
        self.bundle_dir = os.fspath(bundle_dir) if bundle_dir is not None else None
        self._app = app
        self._lock = threading.Lock()
        self.builds = 0
        """How many times the runtime was built in this process (1 per cold start)."""

    def config_location(self) -> str | None:
        """``$HOOKLINE_CONFIG``, else the bundled ``hookline.toml`` if there is one, else
        ``None`` (``./hookline.toml``)."""
        configured = os.environ.get("HOOKLINE_CONFIG")
        if configured:
            return configured
        if self.bundle_dir is not None:
            bundled = os.path.join(self.bundle_dir, CONFIG_FILE)
            if os.path.isfile(bundled):
                return bundled
        return None

    def get(self) -> Hookline:
        """The runtime, built on first use (config, plugin manager, storage).

        :raises ConfigError: the configuration is missing or invalid (the function fails
            with the message on every invocation until it is fixed).
        """
        if self._app is None:
            with self._lock:
                if self._app is None:
                    from hookline.runner import Hookline

                    self._app = Hookline.from_config(self.config_location())
                    self.builds += 1
                    log.info("hookline runtime built from %s", self._app.config.source)
        return self._app  # type: ignore[no-any-return]

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


def handle_events(app: Hookline, events: Iterable[Event]) -> Delivery:
    """Run every event of one delivery, the transient failures last to count.

    Every event is tried even when an earlier one failed transiently, so one throttled
    object does not hold back the others; their runs are duplicates on the retry.

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
            log.warning("transient failure on %s: %s", where, exc)
            retry.append(f"{where}: {exc.message}")
            continue
        for result in handled:
            _log_result(result, where)
            if result.status == "in_progress":
                retry.append(
                    f"{where}: run {result.run_id} is held by another invocation; "
                    "retry once it has finished"
                )
        results += handled
    return Delivery(tuple(results), tuple(retry))


def _log_result(result: RunResult, where: str) -> None:
    level = logging.ERROR if result.status == "failed" else logging.INFO
    log.log(
        level,
        "%s: %s %s%s",
        where,
        result.status,
        f"{result.pipeline} {result.run_id}: " if result.run_id else "",
        result.message,
    )


def counts_line(summary: Mapping[str, Any]) -> str:
    """``"2 succeeded, 1 ignored"`` for a :meth:`Delivery.summary`."""
    counts = summary.get("counts") or {}
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to run"
