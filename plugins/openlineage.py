"""OpenLineage: START, COMPLETE and FAIL run events for every run, through the official client.

An observer plugin (entry point ``openlineage``), inactive until a transport is known: a
``[plugins.openlineage] transport`` table (the client's own transport configuration:
``{ type = "http", url = "..." }``, ``{ type = "file", log_file_path = "..." }``, ...) or the
client's own environment (``$OPENLINEAGE_URL``, ``$OPENLINEAGE_CONFIG``,
``$OPENLINEAGE__TRANSPORT__...``); ``enabled = false`` turns it off.

* START when the run starts (``before_pipeline_run``), with the uploaded object as input;
* COMPLETE when it ends ``succeeded`` or ``rejected`` -- a rejected run did its work and a
  gate said no; the ``hookline_run`` facet says ``"status": "rejected"`` and names the
  checks, and there is no output -- with the registered model version as output;
* FAIL when it fails, with an ``errorMessage`` facet (``"status": "retrying"`` in the
  ``hookline_run`` facet when the platform will deliver it again).

Every event of a run, on every attempt, has the same run UUID (see
:func:`~hookline.plugins._openlineage_events.run_uuid`). Emitting is bounded (the HTTP
transport's ``timeout`` and ``retry``, defaulted from this table), never fails the run, and
what could not be sent is listed in the run record's ``notes.openlineage``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from hookline import hookimpl
from hookline.config import Option, check_table
from hookline.errors import ConfigError
from hookline.plugins._notes import set_note
from hookline.types import RunContext

__all__ = [
    "CONFIG",
    "NAME",
    "after_pipeline_run",
    "before_pipeline_run",
    "on_pipeline_error",
    "settings_for",
]

NAME = "openlineage"
log = logging.getLogger("hookline.plugins.openlineage")

CONFIG = {
    "enabled": Option(bool, None, "unset: on when a transport is configured; false: off"),
    "transport": Option(
        dict,
        None,
        'the client\'s transport configuration, e.g. { type = "http", url = "..." }; '
        "default: the client's own ($OPENLINEAGE_URL, $OPENLINEAGE_CONFIG...)",
    ),
    "namespace": Option(str, None, "the jobs' namespace; default the project's name"),
    "timeout_seconds": Option(float, 5.0, "HTTP transport: per request, unless set in transport"),
    "retries": Option(int, 1, "HTTP transport: retries per event, unless set in transport"),
}
"""The ``[plugins.openlineage]`` table."""

_CLIENT_ENV = ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG")
_CLIENTS: dict[str, Any] = {}


def _client_configured(env: Mapping[str, str]) -> bool:
    return any(env.get(k) for k in _CLIENT_ENV) or any(
        k.startswith("OPENLINEAGE__TRANSPORT") for k in env
    )


def settings_for(
    table: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """The validated settings with the transport to use (``None``: the client's own
    configuration), or ``None`` when the plugin is off.

    :raises ConfigError: the table does not validate, or ``enabled = true`` without a
        transport anywhere.
    """
    env = os.environ if env is None else env
    cfg = check_table(dict(table), CONFIG, f"plugins.{NAME}")
    if cfg["enabled"] is False:
        return None
    transport = dict(cfg["transport"]) if cfg["transport"] else None
    if transport is None and env.get("OPENLINEAGE_URL"):
        # the client's documented variables, as a table, so the bounds below apply
        transport = {"type": "http", "url": env["OPENLINEAGE_URL"]}
        if env.get("OPENLINEAGE_ENDPOINT"):
            transport["endpoint"] = env["OPENLINEAGE_ENDPOINT"]
        if env.get("OPENLINEAGE_API_KEY"):
            transport["auth"] = {"type": "api_key", "apiKey": env["OPENLINEAGE_API_KEY"]}
    if transport is None and not _client_configured(env):
        if cfg["enabled"]:
            raise ConfigError(
                "enabled, but no transport is configured",
                key=f"plugins.{NAME}.transport",
                hint='set transport = { type = "http", url = "..." }, or export OPENLINEAGE_URL',
            )
        return None
    if transport is not None and transport.get("type") == "http":
        transport.setdefault("timeout", float(cfg["timeout_seconds"]))
        retries = max(0, int(cfg["retries"]))
        transport.setdefault(
            "retry", {"total": retries, "read": retries, "connect": retries, "backoff_factor": 0.3}
        )
    cfg["transport"] = transport
    return cfg


def _client(cfg: Mapping[str, Any]) -> Any:
    import json

    key = json.dumps(cfg["transport"], sort_keys=True, default=str)
    if key not in _CLIENTS:
        from openlineage.client import OpenLineageClient

        config = {"transport": cfg["transport"]} if cfg["transport"] is not None else None
        _CLIENTS[key] = OpenLineageClient(config=config)
    return _CLIENTS[key]


def _emit(ctx: RunContext, cfg: Mapping[str, Any], state: str, record: Any) -> None:
    note = ctx.notes.setdefault(NAME, {"sent": [], "not_sent": []})
    namespace = cfg["namespace"] or ctx.config.name
    if note.get("offline"):  # an earlier event of this run could not be sent: do not wait again
        note["not_sent"].append(state)
        return
    try:
        from hookline.plugins import _openlineage_events as events

        event = (
            events.start_event(ctx, namespace)
            if record is None
            else events.end_event(ctx, namespace, record)
        )
        note.update(namespace=namespace, job=ctx.pipeline.name, run_id=str(event.run.runId))
        _client(cfg).emit(event)
        note["sent"].append(state)
    except ImportError:
        note["not_sent"].append(state)
        note["offline"] = (
            "the OpenLineage client is not installed: pip install 'hookline[openlineage]'"
        )
        log.warning("openlineage: %s", note["offline"])
    except Exception as exc:  # an unreachable or failing endpoint never fails the run
        note["not_sent"].append(state)
        note["offline"] = f"{state}: {type(exc).__name__}: {exc}"[:500]
        log.warning("openlineage: %s event of run %s not sent: %s", state, ctx.run_id, exc)


@hookimpl
def before_pipeline_run(ctx: RunContext) -> None:
    """Emit START."""
    cfg = settings_for(ctx.plugin_config(NAME))
    if cfg is not None:
        _emit(ctx, cfg, "START", None)


@hookimpl
def after_pipeline_run(ctx: RunContext, record: Mapping[str, Any]) -> None:
    """Emit COMPLETE (succeeded, or rejected by a gate)."""
    _end(ctx, record)


@hookimpl
def on_pipeline_error(ctx: RunContext, record: Mapping[str, Any]) -> None:
    """Emit FAIL."""
    _end(ctx, record)


def _end(ctx: RunContext, record: Mapping[str, Any]) -> None:
    cfg = settings_for(ctx.plugin_config(NAME))
    if cfg is None:
        return
    state = "COMPLETE" if record.get("status") in ("succeeded", "rejected") else "FAIL"
    _emit(ctx, cfg, state, record)
    set_note(ctx, NAME, ctx.notes[NAME], final=True)
