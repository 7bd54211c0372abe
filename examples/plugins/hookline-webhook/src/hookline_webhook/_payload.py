"""The JSON document posted for one run, built from its run record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hookline.types import RunContext

__all__ = ["SCHEMA", "build_payload", "status_of"]

SCHEMA = "hookline.webhook/v1"
"""Versioned so receivers can tell documents apart when fields are added."""


def status_of(record: Mapping[str, Any]) -> str:
    """The run's status; a run still ``running`` when it failed will be retried."""
    status = str(record.get("status") or "failed")
    return "retrying" if status == "running" else status


def _model_version(record: Mapping[str, Any]) -> tuple[int | None, str | None]:
    for deployment in record.get("deployments") or ():
        if deployment.get("version") is not None:
            return deployment["version"], deployment.get("alias")
    return None, None


def build_payload(
    ctx: RunContext, record: Mapping[str, Any], *, include_checks: bool
) -> dict[str, Any]:
    """What the webhook receives: who, what, the outcome, the model version and the error.

    :param ctx: the run context (for the record's URI).
    :param record: the run record, as written to ``runs/<run_id>/record.json``.
    :param include_checks: add each check's name, verdict and message.
    """
    version, alias = _model_version(record)
    trigger = record.get("trigger") or {}
    error = record.get("error") or None
    payload: dict[str, Any] = {
        "schema": SCHEMA,
        "run_id": record.get("run_id", ctx.run_id),
        "project": record.get("project"),
        "pipeline": record.get("pipeline", ctx.pipeline.name),
        "model": record.get("model", ctx.model_name),
        "status": status_of(record),
        "attempt": record.get("attempt", 1),
        "started_at": record.get("started_at"),
        "finished_at": record.get("finished_at"),
        "seconds": record.get("seconds"),
        "trigger": {"uri": trigger.get("uri"), "sha256": trigger.get("sha256")},
        "model_version": version,
        "alias": alias,
        "metrics": dict(record.get("metrics") or {}),
        "rejected_by": list(record.get("rejected_by") or []),
        "error": None
        if error is None
        else {
            key: error.get(key) for key in ("message", "type", "stage", "plugin", "hook", "hint")
        },
        "record_uri": ctx.storage.url(f"runs/{ctx.run_id}/record.json"),
    }
    if include_checks:
        payload["checks"] = [
            {key: check.get(key) for key in ("name", "passed", "blocking", "message")}
            for check in record.get("checks") or ()
        ]
    return payload
