"""One hookline run as one MLflow run: found by its ``hookline.run_id`` tag, else created.

A run restarted after a transient failure finds the MLflow run its first attempt created
and carries on in it; nothing is logged twice (params already there are left alone,
metrics already there with the same value are not appended again).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hookline.registry import actor
from hookline.types import RunContext

__all__ = [
    "STATUS",
    "end_run",
    "experiment_id",
    "find_run",
    "log_record",
    "log_run_data",
    "run_tags",
    "start_record",
    "start_run",
]

STATUS = {"succeeded": "FINISHED", "rejected": "FINISHED", "failed": "FAILED"}
"""hookline run status -> MLflow run status (a transient failure, still ``running`` in the
record because the platform retries it, is ``FAILED`` until the retry resumes the run)."""

TAG_RUN = "hookline.run_id"
_MAX_TAG = 5000
_MAX_PARAM = 6000
_BATCH = 100
_EXPERIMENTS: dict[tuple[int, str], str] = {}


def _ms(iso: str | None) -> int:
    if iso:
        try:
            return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            pass
    return int(time.time() * 1000)


def experiment_id(client: Any, name: str, project: str) -> str:
    """The id of experiment ``name``, created on first use (one lookup per process)."""
    key = (id(client), name)
    if key not in _EXPERIMENTS:
        from hookline.plugins._mlflow_client import error_code

        found = client.get_experiment_by_name(name)
        if found is None:
            try:
                found_id = client.create_experiment(name, tags={"hookline.project": project})
            except Exception as exc:  # created meanwhile by another process
                if error_code(exc) != "RESOURCE_ALREADY_EXISTS":
                    raise
                found_id = client.get_experiment_by_name(name).experiment_id
        else:
            found_id = found.experiment_id
        _EXPERIMENTS[key] = str(found_id)
    return _EXPERIMENTS[key]


def find_run(client: Any, experiment: str, run_id: str) -> Any | None:
    """The MLflow run tagged with hookline run id ``run_id``, if there is one."""
    if "'" in run_id:
        return None
    found = client.search_runs(
        [experiment], filter_string=f"tags.`{TAG_RUN}` = '{run_id}'", max_results=1
    )
    return found[0] if found else None


def start_record(ctx: RunContext) -> dict[str, Any]:
    """What is known of a run when it starts, shaped like its record."""
    return {
        "run_id": ctx.run_id,
        "pipeline": ctx.pipeline.name,
        "model": ctx.model_name,
        "project": ctx.config.name,
        "trigger": ctx.event.to_dict(),
    }


def run_tags(record: Mapping[str, Any], record_uri: str) -> dict[str, str]:
    """The tags a hookline run carries in MLflow (``hookline.*`` plus MLflow's own)."""
    trigger: Mapping[str, Any] = record.get("trigger") or {}
    tags = {
        TAG_RUN: str(record.get("run_id")),
        "hookline.project": str(record.get("project") or ""),
        "hookline.pipeline": str(record.get("pipeline") or ""),
        "hookline.model": str(record.get("model") or ""),
        "hookline.record_uri": record_uri,
        "hookline.trigger.uri": str(trigger.get("uri") or ""),
        "hookline.trigger.version": str(
            trigger.get("read_version") or trigger.get("version") or trigger.get("etag") or ""
        ),
        "hookline.trigger.sha256": str(trigger.get("sha256") or ""),
        "hookline.trigger.size": str(trigger.get("size") or ""),
        "mlflow.source.name": f"hookline pipeline {record.get('pipeline')}",
        "mlflow.source.type": "JOB",
        "mlflow.user": actor(),
    }
    if record.get("status"):
        status = str(record["status"])
        tags["hookline.status"] = "retrying" if status == "running" else status
        tags["hookline.attempt"] = str(record.get("attempt") or 1)
        if record.get("task"):
            tags["hookline.task"] = str(record["task"])
        checks = record.get("checks") or []
        if checks:
            passed = sum(1 for c in checks if c.get("passed"))
            tags["hookline.checks"] = f"{passed}/{len(checks)} passed"
        if record.get("rejected_by"):
            tags["hookline.rejected_by"] = ", ".join(record["rejected_by"])
        for dep in record.get("deployments") or ():
            if dep.get("version") is not None:
                tags["hookline.version"] = str(dep["version"])
                if dep.get("alias"):
                    tags["hookline.alias"] = str(dep["alias"])
        error = record.get("error") or {}
        for key in ("message", "type", "stage", "plugin", "hook"):
            if error.get(key):
                tags[f"hookline.error.{key}"] = str(error[key])
        tags["mlflow.note.content"] = _summary(record)
    return {k: v[:_MAX_TAG] for k, v in tags.items() if v}


def _summary(record: Mapping[str, Any]) -> str:
    trigger = (record.get("trigger") or {}).get("uri") or "a schedule"
    text = f"hookline run `{record.get('run_id')}` of pipeline `{record.get('pipeline')}` "
    text += f"on {trigger}: "
    text += str(record.get("status"))
    if record.get("rejected_by"):
        text += f" (rejected by {', '.join(record['rejected_by'])})"
    if (record.get("error") or {}).get("message"):
        text += f"\n\n{record['error']['message']}"
    return text


def start_run(
    client: Any, experiment: str, record: Mapping[str, Any], record_uri: str, *, running: bool
) -> str:
    """Find or create the MLflow run of ``record``'s run (``RUNNING`` with ``running``)."""
    run_id = str(record["run_id"])
    found = find_run(client, experiment, run_id)
    if found is not None:
        if running and found.info.status != "RUNNING":
            client.update_run(found.info.run_id, status="RUNNING")
        return str(found.info.run_id)
    run = client.create_run(
        experiment,
        start_time=_ms(record.get("started_at")),
        tags=run_tags(record, record_uri),
        run_name=run_id,
    )
    return str(run.info.run_id)


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text[:_MAX_PARAM]


def _metrics(record: Mapping[str, Any]) -> dict[str, float]:
    found: dict[str, float] = {}

    def add(name: str, value: Any) -> None:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and math.isfinite(float(value)):
            found[name] = float(value)

    for name, value in (record.get("metrics") or {}).items():
        add(str(name), value)
    add("run_seconds", record.get("seconds"))
    for stage, info in (record.get("stages") or {}).items():
        add(f"{stage}_seconds", (info or {}).get("seconds"))
    add("rows", ((record.get("data") or {}).get("profile") or {}).get("rows"))
    for report in record.get("reports") or ():
        prefix = str(report.get("name") or "monitor")
        add(f"{prefix}.drifted", 1.0 if report.get("drifted") else 0.0)
        for name, value in (report.get("metrics") or {}).items():
            add(f"{prefix}.{name}", value)
    return found


def log_run_data(client: Any, mlflow_run: str, record: Mapping[str, Any], record_uri: str) -> str:
    """Log the record's params, metrics and tags to the MLflow run; what was logged."""
    from mlflow.entities import Metric, Param, RunTag

    existing = client.get_run(mlflow_run).data
    params = {
        str(k)[:250]: _param(v)
        for k, v in (record.get("params") or {}).items()
        if str(k)[:250] not in existing.params
    }
    stamp = _ms(record.get("finished_at"))
    metrics = {k: v for k, v in _metrics(record).items() if existing.metrics.get(k) != v}
    tags = run_tags(record, record_uri)
    items: list[Any] = [Param(k, v) for k, v in params.items()]
    items += [Metric(k, v, stamp, 0) for k, v in metrics.items()]
    items += [RunTag(k, v) for k, v in tags.items()]
    for start in range(0, len(items), _BATCH):
        chunk = items[start : start + _BATCH]
        client.log_batch(
            mlflow_run,
            metrics=[i for i in chunk if isinstance(i, Metric)],
            params=[i for i in chunk if isinstance(i, Param)],
            tags=[i for i in chunk if isinstance(i, RunTag)],
        )
    return f"{len(params)} params, {len(metrics)} metrics, {len(tags)} tags"


def log_record(client: Any, mlflow_run: str, record: Mapping[str, Any]) -> None:
    """The run record as the run's artifact ``hookline/record.json``."""
    body = json.dumps(dict(record), indent=2, sort_keys=True, default=str)
    client.log_text(mlflow_run, body, "hookline/record.json")


def end_run(client: Any, mlflow_run: str, record: Mapping[str, Any]) -> str:
    """Set the MLflow run's final status and end time; the status set."""
    status = STATUS.get(str(record.get("status")), "FAILED")
    client.set_terminated(mlflow_run, status=status, end_time=_ms(record.get("finished_at")))
    return status
