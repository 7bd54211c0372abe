"""Fixtures for the plugin kit's own tests: plugins that follow the rules, and a fresh
virtual environment factory for the install tests."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hookline import CheckResult, Deployment, MonitorReport, hookimpl


class GoodPlugin:
    """Implements every hook the way the docs say, writing only through ctx.storage."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def before_pipeline_run(self, ctx):
        self.calls.append("before_pipeline_run")

    @hookimpl
    def before_stage_run(self, ctx, stage):
        self.calls.append(f"before_stage_run:{stage}")

    @hookimpl
    def ingest(self, ctx, source):
        if source is None or source.suffix != ".csv":
            return None
        import pandas as pd
        from hookline import Dataset
        from hookline.testing import describe_frame

        frame = pd.read_csv(source.path)
        target = frame.columns[-1]
        schema, profile = describe_frame(frame, target)
        return Dataset(frame=frame, schema=schema, profile=profile, target=target, source=source)

    @hookimpl
    def train(self, ctx, dataset):
        from hookline.testing import sample_model

        return sample_model(dataset)

    @hookimpl
    def validate(self, ctx, dataset, model):
        rows = len(dataset.frame)
        checks = [
            CheckResult(
                name="good.min_rows",
                passed=rows >= 10,
                observed=rows,
                threshold=10,
                message="" if rows >= 10 else "too few rows",
            )
        ]
        if model is not None:
            checks.append(
                CheckResult(
                    name="good.has_metrics",
                    passed=bool(model.metrics),
                    observed=len(model.metrics),
                    threshold=1,
                    kind="model",
                    blocking=False,
                    message="no metrics",
                )
            )
        return checks

    @hookimpl
    def deploy(self, ctx, model, checks):
        version = ctx.registry.register_estimator(
            ctx.model_name, model.estimator, {"metrics": dict(model.metrics), "run_id": ctx.run_id}
        )
        return Deployment(
            target="registry",
            model=ctx.model_name,
            version=version.version,
            alias=None,
            status="registered",
        )

    @hookimpl
    def monitor(self, ctx, dataset):
        nulls = {k: int(v) for k, v in dataset.frame.isna().sum().items()}
        uri = ctx.write_output("nulls.json", json.dumps(nulls).encode())
        return MonitorReport(
            name="good.nulls",
            model=ctx.model_name,
            version=None,
            drifted=False,
            features={k: {"nulls": v} for k, v in nulls.items()},
            uri=uri,
        )

    @hookimpl
    def after_stage_run(self, ctx, stage, result, seconds):
        ctx.notes.setdefault("stages", []).append(stage)

    @hookimpl
    def on_stage_error(self, ctx, stage, error):
        ctx.notes["failed_stage"] = stage

    @hookimpl
    def after_pipeline_run(self, ctx, record):
        ctx.write_output("good-summary.json", json.dumps({"status": record["status"]}).encode())

    @hookimpl
    def on_pipeline_error(self, ctx, error, record):
        ctx.log.warning("run failed: %s", error)


@pytest.fixture
def good_plugin() -> GoodPlugin:
    return GoodPlugin()


def replace(obj: Any, **changes: Any) -> Any:
    return dataclasses.replace(obj, **changes)
