"""The registry deploy plugin in isolation: what a version holds, which alias moves."""

from __future__ import annotations

import hashlib
import json

import pytest
from _plugin_helpers import FAST, context, source_for, table, write_csv
from hookline.config import check_table
from hookline.plugins import ingest, registry, train
from hookline.registry import Registry
from hookline.types import CheckResult


def trained(storage, tmp_path, *, plugins=None, name="batch.csv", rows=120, seed=0):
    """Ingest and train as the runner would; return (ctx, model, upload bytes)."""
    path = write_csv(tmp_path / name, table(rows, seed=seed))
    ctx = context(storage, upload=path, plugins={"pandas": {"target": "label"}, **(plugins or {})})
    source = source_for(ctx, path)
    ctx.sources.append(source)  # what the runner does when it fetches the upload
    dataset = ingest.ingest(ctx=ctx, source=source)
    model = train.fit(dataset, check_table(FAST, train.CONFIG, ""))
    return ctx, model, path.read_bytes()


CHECKS = [
    CheckResult("min_rows", True, 120, 20),
    CheckResult("latency", True, 0.01, 10.0, kind="model"),
]


def test_deploy_registers_everything_and_promotes(storage, tmp_path):
    ctx, model, data = trained(storage, tmp_path)
    deployment = registry.deploy(ctx=ctx, model=model, checks=CHECKS)
    assert (
        deployment.target,
        deployment.model,
        deployment.version,
        deployment.alias,
        deployment.status,
    ) == ("registry", "sample-model", 1, "production", "promoted")
    reg = Registry(storage)
    version = reg.get("sample-model", 1)
    assert set(version.artifacts) == {
        "model.skops",
        "model.onnx",
        "schema.json",
        "reference_profile.json",
        "holdout.json",
    }
    holdout = json.loads(reg.read_artifact("sample-model", 1, "holdout.json"))
    assert holdout["columns"][-1] == "__target__" and holdout["data"]
    assert all(len(row) == len(holdout["columns"]) for row in holdout["data"])
    manifest = version.manifest
    assert manifest["format"] == "skops" and manifest["task"] == "classification"
    assert manifest["target"] == "label" and manifest["features"] == model.features
    assert manifest["metrics"] == model.metrics and manifest["run_id"] == ctx.run_id
    assert manifest["lineage"] == {
        "trigger_uri": ctx.event.uri,
        "trigger_version": "v1",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "run_id": ctx.run_id,
        "config_hash": ctx.config.digest,
        "pipeline": "train",
    }
    assert {"python", "scikit-learn", "skops"} <= set(manifest["libraries"])
    assert [c["name"] for c in manifest["checks"]] == ["min_rows", "latency"]
    assert deployment.details["sha256"] == version.artifacts["model.skops"]["sha256"]
    schema = json.loads(reg.read_artifact("sample-model", 1, "schema.json"))
    assert schema["label"] == {"dtype": "string", "nullable": False, "target": True}
    assert schema["color"]["dtype"] == "string"
    profile = json.loads(reg.read_artifact("sample-model", 1, "reference_profile.json"))
    assert profile["features"]["x1"]["kind"] == "numeric"
    state = reg.alias("sample-model", "production")
    assert state.version == 1 and state.history[-1]["run_id"] == ctx.run_id
    assert state.history[-1]["reason"] == f"run {ctx.run_id}: 2/2 checks passed"
    estimator, _ = reg.load_model("sample-model")
    X = model.holdout[0]
    assert (estimator.predict(X) == model.estimator.predict(X)).all()


def test_require_approval_stages_and_approve_promotes(storage, tmp_path):
    ctx, model, _ = trained(storage, tmp_path, plugins={"registry": {"require_approval": True}})
    deployment = registry.deploy(ctx=ctx, model=model, checks=CHECKS)
    assert (deployment.alias, deployment.status) == ("staging", "staged")
    assert deployment.details["approve_with"] == "hookline models approve sample-model 1"
    reg = Registry(storage)
    assert reg.alias("sample-model", "production") is None
    assert reg.alias("sample-model", "staging").version == 1
    state = reg.approve("sample-model", 1, by="alice")
    assert state.version == 1 and state.history[-1]["by"] == "alice"


def test_a_restarted_run_does_not_register_twice(storage, tmp_path):
    ctx, model, _ = trained(storage, tmp_path)
    first = registry.deploy(ctx=ctx, model=model, checks=CHECKS)
    again = registry.deploy(ctx=ctx, model=model, checks=CHECKS)
    assert first.version == again.version == 1
    assert [v.version for v in Registry(storage).versions("sample-model")] == [1]


def test_promotion_closes_open_retrain_requests(storage, tmp_path):
    storage.write(
        "monitoring/sample-model/retrain/score-1.json",
        json.dumps({"model": "sample-model", "status": "open"}).encode(),
    )
    storage.write(
        "monitoring/sample-model/retrain/score-0.json",
        json.dumps({"model": "sample-model", "status": "done"}).encode(),
    )
    ctx, model, _ = trained(storage, tmp_path)
    deployment = registry.deploy(ctx=ctx, model=model, checks=CHECKS)
    assert deployment.details["closed_retrain_requests"] == [
        storage.url("monitoring/sample-model/retrain/score-1.json")
    ]
    request = json.loads(storage.read("monitoring/sample-model/retrain/score-1.json"))
    assert request["status"] == "done" and request["version"] == 1
    assert request["fulfilled_by"] == ctx.run_id and request["outcome"] == "promoted"
    assert json.loads(storage.read("monitoring/sample-model/retrain/score-0.json")) == {
        "model": "sample-model",
        "status": "done",
    }


def test_staging_leaves_retrain_requests_open(storage, tmp_path):
    storage.write(
        "monitoring/sample-model/retrain/score-1.json",
        json.dumps({"model": "sample-model", "status": "open"}).encode(),
    )
    ctx, model, _ = trained(storage, tmp_path, plugins={"registry": {"require_approval": True}})
    registry.deploy(ctx=ctx, model=model, checks=CHECKS)
    request = json.loads(storage.read("monitoring/sample-model/retrain/score-1.json"))
    assert request["status"] == "open"


def test_trusted_types_reach_the_core_registry(tmp_path):
    from _plugin_helpers import BUILTINS
    from hookline._manager import make_plugin_manager
    from hookline.config import parse_config
    from hookline.runner import Hookline

    config = parse_config(
        {
            "project": {"storage": str(tmp_path / "s")},
            "pipelines": {
                "t": {"model": "m", "stages": ["ingest"], "trigger": {"prefix": "landing/"}}
            },
            "registry": {"trusted_types": ["acme.models.Tree"]},
        },
        env={},
    )
    app = Hookline(config, pm=make_plugin_manager(pinned=BUILTINS))
    assert app.registry.trusted_types == ("acme.models.Tree",)


def test_trusted_types_in_the_plugin_table_are_refused_with_the_new_place(tmp_path):
    from _plugin_helpers import BUILTINS
    from hookline._manager import make_plugin_manager
    from hookline.config import parse_config
    from hookline.errors import ConfigError
    from hookline.runner import Hookline

    config = parse_config(
        {
            "project": {"storage": str(tmp_path / "s")},
            "pipelines": {
                "t": {"model": "m", "stages": ["ingest"], "trigger": {"prefix": "landing/"}}
            },
            "plugins": {"registry": {"trusted_types": ["acme.models.Tree"]}},
        },
        env={},
    )
    with pytest.raises(ConfigError, match=r"plugins\.registry\.trusted_types"):
        Hookline(config, pm=make_plugin_manager(pinned=BUILTINS))
