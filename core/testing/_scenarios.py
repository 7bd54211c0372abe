"""The situations each hook is called in by the conformance kit, and their inputs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hookline.errors import HookFailed
from hookline.events import ScheduleEvent, StorageEvent
from hookline.testing._samples import (
    MODEL_NAME,
    make_context,
    sample_checks,
    sample_dataset,
    sample_model,
    sample_record,
    sample_source,
)
from hookline.testing._sandbox import Sandbox
from hookline.types import AliasMove, CheckResult, Deployment, RunContext, Task

__all__ = ["SCENARIOS", "PluginConfig", "Scenario", "build_calls", "table_for"]


@dataclass(frozen=True)
class Scenario:
    """One way a hook gets called.

    :param name: short id, shown in test ids as ``HOOK[NAME]``.
    :param description: completes "called ...", for messages.
    :param task: the sample table's task type.
    :param pipeline: ``train`` or ``monitor`` (the sample pipelines of ``make_context``).
    """

    name: str
    description: str
    task: Task = "classification"
    pipeline: str = "train"


PluginConfig = Mapping[str, Any] | Callable[[Scenario], Mapping[str, Any]] | None
"""The ``[plugins.NAME]`` table to run with: a mapping, or a function of the scenario
(e.g. ``lambda s: {"target": TARGETS[s.task]}``) when it depends on the sample table."""


def table_for(config: PluginConfig, scenario: Scenario) -> dict[str, Any]:
    """The plugin table ``config`` gives for ``scenario``."""
    if callable(config):
        return dict(config(scenario))
    return dict(config or {})


_CLS = Scenario("classification", "on the sample classification table")
_REG = Scenario("regression", "on the sample regression table", task="regression")

SCENARIOS: dict[str, tuple[Scenario, ...]] = {
    "before_pipeline_run": (
        Scenario("train-run", "at the start of a training run"),
        Scenario("monitor-run", "at the start of a monitoring run", pipeline="monitor"),
    ),
    "before_stage_run": (Scenario("each-stage", "before each stage of a training run"),),
    "ingest": (
        Scenario("classification-csv", "on an uploaded CSV (classification table)"),
        Scenario("regression-csv", "on an uploaded CSV (regression table)", task="regression"),
        Scenario("scheduled", "with source=None, as in a scheduled run", pipeline="monitor"),
    ),
    "train": (_CLS, _REG),
    "validate": (_CLS, _REG, Scenario("no-model", "with model=None (pipeline without train)")),
    "deploy": (_CLS, _REG),
    "monitor": (
        Scenario(
            "classification",
            "on a labelled batch, a production model registered",
            pipeline="monitor",
        ),
        Scenario(
            "regression",
            "on a labelled batch, a production regression model registered",
            task="regression",
            pipeline="monitor",
        ),
        Scenario("unlabelled", "on a scoring batch without labels", pipeline="monitor"),
        Scenario("no-production-model", "with an empty registry", pipeline="monitor"),
    ),
    "after_stage_run": (Scenario("each-stage", "after each stage of a training run"),),
    "on_stage_error": (Scenario("train-failed", "after the train stage raised"),),
    "after_pipeline_run": (
        Scenario("succeeded", "after a run that promoted a model"),
        Scenario("rejected", "after a run a blocking check rejected"),
    ),
    "on_pipeline_error": (Scenario("failed", "after a run that failed in train"),),
    "after_version_registered": (
        Scenario("by-run", "after a pipeline run registered a version"),
        Scenario("by-person", "after a version registered outside a run (ctx=None)"),
    ),
    "after_alias_moved": (
        Scenario("by-run", "after a pipeline run promoted a version"),
        Scenario("by-person", "after a person rolled production back (ctx=None)"),
    ),
    "after_version_updated": (
        Scenario("tagged", "after a person tagged a version and described it (ctx=None)"),
    ),
}
"""Hook name to the scenarios it is called in."""


def _error() -> HookFailed:
    try:
        try:
            raise ValueError("Input X contains NaN")
        except ValueError as exc:
            raise HookFailed(plugin="sklearn", hook="train", original=exc) from exc
    except HookFailed as failed:
        return failed


def _register_production(ctx: RunContext, task: Task) -> None:
    model = sample_model(sample_dataset(task))
    metadata = {
        "run_id": "earlier-run",
        "task": model.task,
        "target": model.target,
        "features": dict(model.features),
        "metrics": dict(model.metrics),
        "params": dict(model.params),
        "reference_profile": dict(model.reference_profile),
    }
    version = ctx.registry.register_estimator(MODEL_NAME, model.estimator, metadata)
    ctx.registry.move_alias(MODEL_NAME, "production", version.version, run_id="earlier-run")


def _registry_event(ctx: RunContext, hook: str, scenario: Scenario, model: Any) -> dict[str, Any]:
    """Arguments of a registry event, after the change really happened in the sandbox."""
    from hookline.project import Project

    project = Project(ctx.config, storage=ctx.storage)
    metadata = {"run_id": ctx.run_id, "task": model.task, "metrics": dict(model.metrics)}
    version = ctx.registry.register_estimator(MODEL_NAME, model.estimator, metadata)
    by_run = scenario.name == "by-run"
    if hook == "after_version_registered":
        return {"ctx": ctx if by_run else None, "project": project, "version": version}
    if hook == "after_version_updated":
        meta = ctx.registry.update_version(
            MODEL_NAME,
            version.version,
            tags={"reviewed": "yes", "dataset": "2026-12"},
            description="Retrained on the December export",
            by="ops",
        )
        return {"ctx": None, "project": project, "version": version, "meta": meta}
    state = ctx.registry.move_alias(
        MODEL_NAME, "production", version.version, run_id=ctx.run_id if by_run else None
    )
    entry = state.history[-1]
    move = AliasMove(
        model=MODEL_NAME,
        alias="production",
        version=version.version,
        previous=entry["previous"],
        action="promote" if by_run else "rollback",
        by=str(entry["by"]),
        at=str(entry["at"]),
        reason="",
        run_id=ctx.run_id if by_run else None,
        seq=state.seq,
    )
    return {"ctx": ctx if by_run else None, "project": project, "move": move}


def build_calls(
    hook: str, scenario: Scenario, sandbox: Sandbox, name: str, table: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The keyword arguments of each call ``scenario`` makes (most make one)."""
    from hookline.storage import LocalStorage

    storage = LocalStorage(sandbox.storage_dir)
    plugins = {name: dict(table)}
    if scenario.name == "scheduled":  # a batch is waiting under the landing prefix
        ctx = make_context(
            storage,
            pipeline=scenario.pipeline,
            plugins=plugins,
            event=ScheduleEvent(scenario.pipeline, event_id="nightly-1"),
        )
        batch = sample_source(sandbox.work_dir, scenario.task, seed=1)
        assert ctx.pipeline.trigger is not None
        with open(batch.path, "rb") as fh:
            storage.upload(ctx.pipeline.trigger.prefix + "batch.csv", fh)
        return [{"ctx": ctx, "source": None}]
    source = sample_source(
        sandbox.work_dir, scenario.task, seed=1 if scenario.pipeline == "monitor" else 0
    )
    ctx = make_context(storage, pipeline=scenario.pipeline, plugins=plugins, upload=source.path)
    assert isinstance(ctx.event, StorageEvent)
    source = dataclasses.replace(source, uri=ctx.event.uri)
    if hook == "ingest":
        return [{"ctx": ctx, "source": source}]
    if hook in ("before_pipeline_run",):
        return [{"ctx": ctx}]
    if hook == "before_stage_run":
        return [{"ctx": ctx, "stage": stage} for stage in ctx.pipeline.stages]
    if hook == "monitor":
        if scenario.name != "no-production-model":
            _register_production(ctx, scenario.task)
        dataset = sample_dataset(
            scenario.task, seed=1, source=source, labelled=scenario.name != "unlabelled"
        )
        return [{"ctx": ctx, "dataset": dataset}]
    dataset = sample_dataset(scenario.task, source=source)
    if hook == "train":
        return [{"ctx": ctx, "dataset": dataset}]
    if hook == "validate":
        model = None if scenario.name == "no-model" else sample_model(dataset)
        return [{"ctx": ctx, "dataset": dataset, "model": model}]
    model = sample_model(dataset)
    checks = sample_checks(model)
    if hook == "deploy":
        return [{"ctx": ctx, "model": model, "checks": checks}]
    if hook == "after_stage_run":
        deployment = Deployment(
            target="registry", model=MODEL_NAME, version=1, alias="production", status="promoted"
        )
        results = {"ingest": dataset, "train": model, "validate": checks, "deploy": [deployment]}
        return [
            {"ctx": ctx, "stage": stage, "result": results[stage], "seconds": 0.25}
            for stage in ctx.pipeline.stages
        ]
    if hook == "on_stage_error":
        return [{"ctx": ctx, "stage": "train", "error": _error()}]
    if hook in ("after_version_registered", "after_alias_moved", "after_version_updated"):
        return [_registry_event(ctx, hook, scenario, model)]
    if hook == "on_pipeline_error":
        error = _error()
        return [
            {"ctx": ctx, "error": error, "record": sample_record(ctx, status="failed", error=error)}
        ]
    if hook == "after_pipeline_run":
        if scenario.name == "rejected":
            checks = [
                *checks,
                CheckResult(
                    name="metric.f1",
                    passed=False,
                    observed=0.41,
                    threshold=0.7,
                    kind="model",
                    message="f1 0.41 is below the required 0.7",
                ),
            ]
        record = sample_record(ctx, status=scenario.name, model=model, checks=checks)
        return [{"ctx": ctx, "record": record}]
    raise ValueError(f"no scenario inputs for hook {hook!r}")
