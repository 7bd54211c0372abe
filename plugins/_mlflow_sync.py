"""What the ``mlflow`` plugin does at each event, bounded, and what it notes in the run record.

The run's note (``ctx.notes["mlflow"]``) also carries state between the hooks of one run:
the MLflow run id, and ``offline`` once MLflow failed to answer, so the later hooks of that
run make no call at all (one run pays for at most one bounded request).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from hookline.plugins import _mlflow_runs as runs
from hookline.plugins._mlflow_client import Session, bounded, client, redact
from hookline.plugins._mlflow_registry import sync_model
from hookline.registry import Registry
from hookline.runs import RunStore
from hookline.types import RunContext

__all__ = ["finish", "start", "sync"]

log = logging.getLogger("hookline.plugins.mlflow")

NAME = "mlflow"
_INSTALL = "MLflow's client is not installed: pip install 'hookline[mlflow]'"


def _note(ctx: RunContext, cfg: Mapping[str, Any]) -> dict[str, Any]:
    note = ctx.notes.setdefault(NAME, {})
    note.setdefault("tracking_uri", redact(cfg["tracking_uri"]))
    note.setdefault("mirrored", [])
    note.setdefault("not_mirrored", [])
    return note


def _client(session: Session, cfg: Mapping[str, Any]) -> Any:
    """The client (made locally: no request); without MLflow installed, the session stops."""
    try:
        return client(cfg["tracking_uri"], cfg["registry_uri"])
    except ImportError:
        if session.offline is None:
            log.warning("mlflow: %s", _INSTALL)
            session.offline = _INSTALL
            session.errors.append(_INSTALL)
        return None


def _experiment(session: Session, mlflow: Any, cfg: Mapping[str, Any], project: str) -> Any:
    name = cfg["experiment"] or project
    return session.call(f"experiment {name!r}", lambda: runs.experiment_id(mlflow, name, project))


def _close(note: dict[str, Any], session: Session, done: list[str]) -> None:
    note["mirrored"] = [*note.get("mirrored", []), *done]
    lost = [*note.get("not_mirrored", []), *session.lost]
    note["not_mirrored"] = list(dict.fromkeys(lost))
    if session.errors:
        note["errors"] = [*note.get("errors", []), *session.errors][-5:]
    if session.offline is not None:
        note["offline"] = session.offline


def _record_uri(ctx: RunContext) -> str:
    return ctx.storage.url(f"{ctx.run_prefix}record.json")


def start(ctx: RunContext, cfg: Mapping[str, Any]) -> None:
    """``before_pipeline_run``: find or create the MLflow run."""
    note = _note(ctx, cfg)
    session = Session(note.get("offline"))
    done: list[str] = []
    with bounded(cfg):
        mlflow = _client(session, cfg)
        experiment = _experiment(session, mlflow, cfg, ctx.config.name)
        if experiment is None:
            session.lost.append("run start")
        else:
            record = runs.start_record(ctx)
            run = session.call(
                "run start",
                lambda: runs.start_run(mlflow, experiment, record, _record_uri(ctx), running=True),
            )
            if run is not None:
                note.update(experiment_id=experiment, run_id=run)
                done.append("run start")
    _close(note, session, done)


def _log_run(
    session: Session,
    mlflow: Any,
    run: str,
    record: Mapping[str, Any],
    record_uri: str,
    cfg: Mapping[str, Any],
) -> list[str]:
    """Params, metrics, tags, the record artifact and the final status of one run."""
    done: list[str] = []
    logged = session.call(
        "params, metrics and tags", lambda: runs.log_run_data(mlflow, run, record, record_uri)
    )
    if logged:
        done.append(logged)
    if cfg["log_record"] and session.do(
        "run record artifact", lambda: runs.log_record(mlflow, run, record)
    ):
        done.append("run record artifact hookline/record.json")
    status = session.call("run status", lambda: runs.end_run(mlflow, run, record))
    if status:
        done.append(f"status {status}")
    return done


def finish(ctx: RunContext, cfg: Mapping[str, Any], record: Mapping[str, Any]) -> None:
    """``after_pipeline_run`` / ``on_pipeline_error``: log the run, end it, reconcile the
    run's model."""
    note = _note(ctx, cfg)
    session = Session(note.get("offline"))
    done: list[str] = []
    with bounded(cfg):
        mlflow = _client(session, cfg)
        if cfg["runs"]:
            run = note.get("run_id")
            if run is None and session.offline is None:  # the start was not mirrored
                experiment = _experiment(session, mlflow, cfg, ctx.config.name)
                if experiment is not None:
                    run = session.call(
                        "run",
                        lambda: runs.start_run(
                            mlflow, experiment, record, _record_uri(ctx), running=False
                        ),
                    )
                    if run is not None:
                        note.update(experiment_id=experiment, run_id=run)
            if run is not None:
                done += _log_run(session, mlflow, run, record, _record_uri(ctx), cfg)
            else:
                session.lost.extend(
                    ["params, metrics and tags", "run record artifact", "run status"]
                )
        # A run whose registry events reconciled its model already has it in line; others
        # (rejected, failed, monitoring runs) reconcile now, catching up moves made offline.
        if cfg["registry"] and ctx.model_name not in note.get("reconciled", []):
            done += _sync(session, mlflow, ctx, cfg, ctx.registry, ctx.model_name, ctx.config.name)
    _close(note, session, done)


def sync(
    ctx: RunContext | None,
    cfg: Mapping[str, Any],
    registry: Registry,
    model: str,
    project: str,
    *,
    event: str = "",
) -> None:
    """A registry event: reconcile ``model``. With ``ctx`` (a run made the change) the
    outcome goes into the run's note; without (a person did), into the log."""
    note = _note(ctx, cfg) if ctx is not None else {}
    session = Session(note.get("offline"))
    with bounded(cfg):
        mlflow = _client(session, cfg)
        done = _sync(session, mlflow, ctx, cfg, registry, model, project)
    if ctx is not None:
        if session.offline is None and not session.lost:
            note["reconciled"] = sorted({*note.get("reconciled", []), model})
        _close(note, session, done)
    elif session.lost:
        log.warning(
            "mlflow: %s: not mirrored now (caught up on the next event): %s",
            event,
            "; ".join(session.lost),
        )
    else:
        log.info("mlflow: %s: mirrored (%s)", event, "; ".join(done) or "already in line")


def _sync(
    session: Session,
    mlflow: Any,
    ctx: RunContext | None,
    cfg: Mapping[str, Any],
    registry: Registry,
    model: str,
    project: str,
) -> list[str]:
    own_run = ctx.notes.get(NAME, {}).get("run_id") if ctx is not None else None
    backfilled: list[str] = []

    def run_of(hookline_run: str) -> str | None:
        """The MLflow run of a hookline run; one that ran while MLflow was away is
        back-filled from its stored record."""
        if ctx is not None and hookline_run == ctx.run_id and own_run:
            return str(own_run)
        experiment = runs.experiment_id(mlflow, cfg["experiment"] or project, project)
        found = runs.find_run(mlflow, experiment, hookline_run)
        if found is not None:
            return str(found.info.run_id)
        record = RunStore(registry.storage).get(hookline_run, missing_ok=True)
        if record is None or not cfg["runs"]:
            return None
        uri = registry.storage.url(RunStore(registry.storage).record_key(hookline_run))
        run = runs.start_run(mlflow, experiment, record, uri, running=False)
        _log_run(session, mlflow, run, record, uri, cfg)
        backfilled.append(f"run {hookline_run} (back-filled from its record)")
        return run

    result = sync_model(
        session,
        mlflow,
        registry,
        model,
        prefix=cfg["model_prefix"],
        tracking_uri=cfg["tracking_uri"],
        catch_up=cfg["catch_up"],
        run_of=run_of,
    )
    done = backfilled + [f"model version {model} v{n}" for n in result["created"]]
    done += [
        f"alias {model}@{alias} -> v{version}" if version is not None else f"alias {alias} unset"
        for alias, version in result["aliases"].items()
    ]
    return done
