"""MLflow: every run becomes an MLflow run, and the registry is mirrored to MLflow's.

An observer plugin (entry point ``mlflow``), inactive until a tracking URI is known:
``[plugins.mlflow] tracking_uri = "http://mlflow:5000"`` or MLflow's own
``$MLFLOW_TRACKING_URI``; ``enabled = false`` turns it off even then.

* Each hookline run is one MLflow run in the experiment named after the project: created
  ``RUNNING`` when the run starts, with the run's params, metrics, stage timings and tags
  (trigger URI, version and sha256, run id, pipeline, status, record URI) and the run record
  as the artifact ``hookline/record.json`` when it ends.
* Each hookline version becomes a version of the registered model of the same name, tagged
  with the hookline version and storage root, and each alias (``production``,
  ``staging``...) an MLflow alias on it. Mapping is by tag, never by number.

MLflow is imported only when the plugin is enabled and has something to send. A server that
is down or slow never fails or holds up a run: calls are bounded by MLflow's own HTTP
settings (see :mod:`hookline.plugins._mlflow_client`), the first failure stops the rest of
the run's mirroring, and the run record's ``notes.mlflow`` lists what was not mirrored.
Registry state missed that way is caught up on the next event. See docs/integrations.md.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hookline import hookimpl
from hookline.config import Option, check_table
from hookline.errors import ConfigError
from hookline.plugins._notes import set_note
from hookline.types import AliasMove, ModelVersion, RunContext

if TYPE_CHECKING:
    from hookline.project import Project

__all__ = [
    "CONFIG",
    "NAME",
    "after_alias_moved",
    "after_pipeline_run",
    "after_version_registered",
    "before_pipeline_run",
    "on_pipeline_error",
    "settings_for",
]

NAME = "mlflow"
log = logging.getLogger("hookline.plugins.mlflow")

CONFIG = {
    "enabled": Option(
        bool, None, "unset: on when a tracking URI is known; false: off even with one"
    ),
    "tracking_uri": Option(str, None, "the MLflow tracking URI; default $MLFLOW_TRACKING_URI"),
    "registry_uri": Option(
        str, None, "the model registry URI; default $MLFLOW_REGISTRY_URI, else the tracking URI"
    ),
    "experiment": Option(str, None, "experiment of the runs; default the project's name"),
    "model_prefix": Option(str, "", "prepended to hookline model names in MLflow's registry"),
    "runs": Option(bool, True, "mirror runs (params, metrics, tags, record)"),
    "registry": Option(bool, True, "mirror versions and aliases to the MLflow Model Registry"),
    "log_record": Option(bool, True, "log the run record as the artifact hookline/record.json"),
    "catch_up": Option(int, 50, "most missing versions one event mirrors (newest first)"),
    "timeout_seconds": Option(
        int, 5, "per HTTP request (MLFLOW_HTTP_REQUEST_TIMEOUT, when that is unset)"
    ),
    "max_retries": Option(
        int, 1, "retries per request (MLFLOW_HTTP_REQUEST_MAX_RETRIES, when that is unset)"
    ),
    "backoff_factor": Option(
        int, 1, "seconds, doubled per retry (MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR, when unset)"
    ),
}
"""The ``[plugins.mlflow]`` table."""


def settings_for(
    table: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """The validated settings, or ``None`` when the plugin is off (no tracking URI, or
    ``enabled = false``).

    :raises ConfigError: the table does not validate, or ``enabled = true`` without a URI.
    """
    env = os.environ if env is None else env
    cfg = check_table(dict(table), CONFIG, f"plugins.{NAME}")
    if cfg["enabled"] is False:
        return None
    uri = cfg["tracking_uri"] or env.get("MLFLOW_TRACKING_URI")
    if not uri:
        if cfg["enabled"]:
            raise ConfigError(
                "enabled, but no tracking URI is known",
                key=f"plugins.{NAME}.tracking_uri",
                hint="set tracking_uri, or export MLFLOW_TRACKING_URI",
            )
        return None
    if "'" in cfg["model_prefix"]:
        raise ConfigError("quotes are not allowed", key=f"plugins.{NAME}.model_prefix")
    cfg["tracking_uri"] = uri
    cfg["registry_uri"] = cfg["registry_uri"] or env.get("MLFLOW_REGISTRY_URI") or None
    return cfg


# --- run level -----------------------------------------------------------------------------


@hookimpl
def before_pipeline_run(ctx: RunContext) -> None:
    """Create (or, for a restarted run, find) the MLflow run, ``RUNNING``."""
    from hookline.plugins import _mlflow_sync

    cfg = settings_for(ctx.plugin_config(NAME))
    if cfg is not None and cfg["runs"]:
        _mlflow_sync.start(ctx, cfg)


@hookimpl
def after_pipeline_run(ctx: RunContext, record: Mapping[str, Any]) -> None:
    """End the MLflow run (succeeded or rejected) and reconcile the run's model."""
    _finish(ctx, record)


@hookimpl
def on_pipeline_error(ctx: RunContext, record: Mapping[str, Any]) -> None:
    """End the MLflow run as ``FAILED`` and reconcile the run's model."""
    _finish(ctx, record)


def _finish(ctx: RunContext, record: Mapping[str, Any]) -> None:
    cfg = settings_for(ctx.plugin_config(NAME))
    if cfg is None:
        return
    from hookline.plugins import _mlflow_sync

    _mlflow_sync.finish(ctx, cfg, record)
    set_note(ctx, NAME, ctx.notes.get(NAME, {}), final=True)


# --- registry events ---------------------------------------------------------------------


@hookimpl
def after_version_registered(
    ctx: RunContext | None, project: Project, version: ModelVersion
) -> None:
    """Mirror the new version (and anything else MLflow lacks) of its model."""
    _registry_event(ctx, project, version.model, f"{version.model} v{version.version} registered")


@hookimpl
def after_alias_moved(ctx: RunContext | None, project: Project, move: AliasMove) -> None:
    """Point MLflow's alias where hookline's now points (catching up earlier moves)."""
    _registry_event(ctx, project, move.model, f"{move.model}@{move.alias} -> v{move.version}")


def _registry_event(ctx: RunContext | None, project: Project, model: str, event: str) -> None:
    from hookline.plugins import _mlflow_sync

    if ctx is not None:
        cfg = settings_for(ctx.plugin_config(NAME))
        if cfg is not None and cfg["registry"]:
            _mlflow_sync.sync(ctx, cfg, ctx.registry, model, ctx.config.name)
        return
    # A person's change (CLI, dashboard): the project it was made in says where to mirror.
    cfg = settings_for(project.config.plugin_config(NAME))
    if cfg is not None and cfg["registry"]:
        _mlflow_sync.sync(None, cfg, project.registry, model, project.config.name, event=event)
