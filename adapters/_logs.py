"""Structured logs of a deployed function: one JSON object per line, on every cloud.

Every line has ``level``, ``logger`` and ``message``, plus what the line is about:
``run_id``, ``pipeline``, ``model``, ``stage``, ``status``, ``seconds`` (absent keys are
omitted). When a run ends, exactly one line says so, with ``"event": "run_finished"``, the
``status`` (``succeeded``, ``failed`` or ``rejected``) and, when a monitor ran,
``drifted``; each stage of it has a ``"event": "stage_finished"`` line before. Log-based
metrics and alarms are built on these lines (AWS adds its embedded metrics to the same
line, see ``hookline.adapters.aws.pipeline``).

How the lines reach each platform's log (:func:`configure_logging`, called once per cold
start by each cloud's pipeline and serving entry):

* the platform's own handlers on the root logger (the Lambda runtime's in text mode, the
  Azure Functions worker's, functions-framework's) get :class:`JsonFormatter`; where there
  is none (Cloud Run functions by default), a handler writing to standard output is added,
  which Cloud Logging reads as ``jsonPayload`` with its ``severity``;
* the Lambda runtime in JSON mode (``logging_config { log_format = "JSON" }``) already
  writes each record as a JSON object with the record's extra fields at the top level: it
  is left as it is;
* ``hookline`` loggers log at INFO unless the platform sets a level (Lambda's
  ``AWS_LAMBDA_LOG_LEVEL``) or ``$HOOKLINE_LOG_LEVEL`` does, so a succeeded run's lines are
  never dropped by a default WARNING level.

Written by hand rather than with a logging library: it is about 150 lines, and a deployed
function imports it on every cold start.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookline.runner import RunResult

__all__ = [
    "FINISHED",
    "JsonFormatter",
    "configure_logging",
    "run_fields",
    "stage_fields",
]

FINISHED = ("succeeded", "failed", "rejected")
"""Run statuses that end a run (and get a ``run_finished`` line)."""

_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}
_MAX_TRACEBACK = 8000


def _level(levelno: int) -> str:
    return _SEVERITY.get(min(50, max(0, levelno)) // 10 * 10, "DEFAULT")


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: ``timestamp``, ``level`` (and ``severity``, Cloud
    Logging's field, when asked), ``logger``, ``message``, the record's extra fields, and
    for an exception its type, message and traceback.

    :param severity: also write the level as ``severity`` (Google Cloud).
    """

    def __init__(self, *, severity: bool = False) -> None:
        super().__init__()
        self.severity = severity

    def format(self, record: logging.LogRecord) -> str:
        level = _level(record.levelno)
        out: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": level,
        }
        if self.severity:
            out["severity"] = level
        out["logger"] = record.name
        out["message"] = record.getMessage()
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key not in out and value is not None:
                out[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            out["error_type"] = record.exc_info[0].__name__
            out["error"] = str(record.exc_info[1])
            out["traceback"] = self.formatException(record.exc_info)[-_MAX_TRACEBACK:]
        return json.dumps(out, ensure_ascii=False, default=str)


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the *current* ``sys.stdout`` (functions-framework swaps it per request to
    add the execution id)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


_configured = False


def configure_logging(
    *,
    on_platform: bool,
    severity: bool = False,
    keep_platform_format: bool = False,
    platform_level: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Make this process's log lines JSON objects, once (later calls do nothing).

    :param on_platform: the process runs on the cloud's function host (else nothing is
        changed unless ``$HOOKLINE_LOG_FORMAT=json``: tests and local runs keep theirs).
    :param severity: write ``severity`` too (Google Cloud).
    :param keep_platform_format: the platform already writes JSON lines with the records'
        extra fields (the Lambda runtime in JSON mode): keep its handlers as they are.
    :param platform_level: the level the platform configured, if any (then it decides what
        is dropped).
    :returns: whether logging was configured by this call.

    ``$HOOKLINE_LOG_FORMAT``: ``json`` configures even off the platform, ``off`` never;
    ``$HOOKLINE_LOG_LEVEL`` sets the ``hookline`` loggers' level (default INFO).
    """
    global _configured
    env = os.environ if environ is None else environ
    mode = env.get("HOOKLINE_LOG_FORMAT", "").strip().lower()
    if _configured or mode == "off" or (not on_platform and mode != "json"):
        return False
    _configured = True
    root = logging.getLogger()
    if not keep_platform_format:
        formatter = JsonFormatter(severity=severity)
        if root.handlers:
            for handler in root.handlers:
                handler.setFormatter(formatter)
        else:
            handler = _StdoutHandler()
            handler.setFormatter(formatter)
            root.addHandler(handler)
    level = env.get("HOOKLINE_LOG_LEVEL", "").strip().upper()
    if level in logging.getLevelNamesMapping():
        logging.getLogger("hookline").setLevel(level)
    elif not platform_level:
        logging.getLogger("hookline").setLevel(logging.INFO)
    return True


Metrics = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""Adds a cloud's metric fields to a ``run_finished`` or ``stage_finished`` line."""


def _drifted(record: Mapping[str, Any]) -> bool | None:
    stages = record.get("stages") or {}
    monitor = stages.get("monitor") if isinstance(stages, Mapping) else None
    if not isinstance(monitor, Mapping) or monitor.get("status") != "ok":
        return None
    return any(bool(r.get("drifted")) for r in record.get("reports") or [] if isinstance(r, dict))


def run_fields(result: RunResult) -> dict[str, Any]:
    """The fields of a finished run's ``run_finished`` line (absent ones omitted)."""
    record: Mapping[str, Any] = result.record or {}
    error = record.get("error") if isinstance(record.get("error"), Mapping) else None
    fields: dict[str, Any] = {
        "event": "run_finished",
        "project": record.get("project"),
        "pipeline": result.pipeline,
        "model": record.get("model"),
        "run_id": result.run_id,
        "status": result.status,
        "seconds": record.get("seconds"),
        "stage": error.get("stage") if error else None,
        "drifted": _drifted(record),
        "record": result.record_uri,
    }
    if result.status == "rejected":
        fields["rejected_by"] = list(record.get("rejected_by") or [])
    if error:
        fields["error"] = str(error.get("message") or "")[:1000]
    return {k: v for k, v in fields.items() if v is not None}


def stage_fields(result: RunResult) -> list[dict[str, Any]]:
    """One ``stage_finished`` field set per stage the run reached, in order."""
    record: Mapping[str, Any] = result.record or {}
    stages = record.get("stages") or {}
    out = []
    for stage, info in stages.items() if isinstance(stages, Mapping) else ():
        info = info if isinstance(info, Mapping) else {}
        fields = {
            "event": "stage_finished",
            "project": record.get("project"),
            "pipeline": result.pipeline,
            "model": record.get("model"),
            "run_id": result.run_id,
            "stage": stage,
            "status": info.get("status"),
            "seconds": info.get("seconds"),
        }
        out.append({k: v for k, v in fields.items() if v is not None})
    return out
