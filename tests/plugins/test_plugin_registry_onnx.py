"""The ONNX artifact the registry deploy plugin adds to a version, and its parity gate."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from _plugin_helpers import FAST, context, source_for, table, write_csv
from hookline.config import check_table
from hookline.errors import ConfigError, ModelIntegrityError, NotFound
from hookline.onnx import load_version
from hookline.plugins import ingest, registry, train
from hookline.registry import Registry
from hookline.types import CheckResult

CHECKS = [CheckResult("min_rows", True, 300, 20)]


def trained(storage, tmp_path, *, estimator=FAST, plugins=None, rows=300):
    path = write_csv(tmp_path / "batch.csv", table(rows))
    ctx = context(storage, upload=path, plugins={"pandas": {"target": "label"}, **(plugins or {})})
    source = source_for(ctx, path)
    ctx.sources.append(source)
    dataset = ingest.ingest(ctx=ctx, source=source)
    return ctx, train.fit(dataset, check_table(estimator, train.CONFIG, ""))


def test_the_version_carries_a_verified_onnx_model_that_predicts_the_same(storage, tmp_path):
    ctx, model = trained(storage, tmp_path, estimator={})  # the default: gradient boosting
    deployment = registry.deploy(ctx=ctx, model=model, checks=CHECKS)
    assert deployment.details["onnx"] == {"status": "ok", "reason": None}
    reg = Registry(storage)
    mv = reg.get("sample-model", 1)
    stored = (tmp_path / "store/registry/sample-model/versions/000001/model.onnx").read_bytes()
    assert mv.artifacts["model.onnx"] == {
        "sha256": hashlib.sha256(stored).hexdigest(),
        "size": len(stored),
    }
    entry = mv.manifest["onnx"]
    assert entry["status"] == "ok" and entry["opsets"]["ai.onnx"] <= 17
    assert entry["classes"] == ["no", "yes"]
    assert [i["features"] for i in entry["inputs"]] == [["x1"], ["x2"], ["color"]]
    assert entry["parity"]["passed"] and entry["parity"]["labels_differ"] == 0
    assert entry["parity"]["max_probability_deviation"] <= 1e-4
    assert {"skl2onnx", "onnx", "onnxruntime"} <= set(mv.manifest["libraries"])

    onnx_model, _ = load_version(reg, "sample-model", 1)
    X = model.holdout[0]
    assert (onnx_model.predict(X) == model.estimator.predict(X)).all()
    rows = [(0.3, None, "purple"), (None, 1.0, None), (-2.0, 0.5, "red")]
    labels, proba = onnx_model.predict_both(rows)
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["x1", "x2", "color"])
    assert labels.tolist() == model.estimator.predict(frame).tolist()
    assert np.abs(proba - model.estimator.predict_proba(frame)).max() <= 1e-4


def test_a_parity_failure_keeps_the_version_and_says_why(storage, tmp_path):
    # skl2onnx converts a binary LinearDiscriminantAnalysis with wrong probabilities
    lda = {"estimator": "sklearn.discriminant_analysis.LinearDiscriminantAnalysis"}
    ctx, model = trained(storage, tmp_path, estimator=lda)
    deployment = registry.deploy(ctx=ctx, model=model, checks=CHECKS)
    assert deployment.status == "promoted"
    mv = Registry(storage).get("sample-model", 1)
    assert "model.onnx" not in mv.artifacts and "model.skops" in mv.artifacts
    entry = mv.manifest["onnx"]
    assert entry["status"] == "failed"
    assert entry["reason"].startswith("parity: probabilities differ by up to")
    assert entry["parity"]["max_probability_deviation"] > 1e-4
    assert deployment.details["onnx"]["status"] == "failed"
    with pytest.raises(NotFound, match="no ONNX artifact: parity"):
        load_version(Registry(storage), "sample-model", 1)


def test_a_conversion_failure_is_recorded(storage, tmp_path):
    svc = {"estimator": "sklearn.svm.LinearSVC"}
    ctx, model = trained(storage, tmp_path, estimator=svc)
    registry.deploy(ctx=ctx, model=model, checks=CHECKS)
    entry = Registry(storage).get("sample-model", 1).manifest["onnx"]
    assert entry["status"] == "failed" and entry["reason"].startswith("conversion failed:")
    assert "LinearSVC" in entry["reason"]


def test_require_blocks_the_deploy_when_it_does_not_convert(storage, tmp_path):
    svc = {"estimator": "sklearn.svm.LinearSVC"}
    ctx, model = trained(
        storage, tmp_path, estimator=svc, plugins={"registry": {"onnx": "require"}}
    )
    with pytest.raises(ConfigError, match=r"\[plugins.registry.onnx\].*no ONNX form"):
        registry.deploy(ctx=ctx, model=model, checks=CHECKS)
    assert Registry(storage).versions("sample-model") == []


def test_off_registers_no_onnx(storage, tmp_path):
    ctx, model = trained(storage, tmp_path, plugins={"registry": {"onnx": "off"}})
    registry.deploy(ctx=ctx, model=model, checks=CHECKS)
    mv = Registry(storage).get("sample-model", 1)
    assert "model.onnx" not in mv.artifacts and mv.manifest["onnx"]["status"] == "off"


def test_a_modified_onnx_artifact_is_refused(storage, tmp_path):
    ctx, model = trained(storage, tmp_path)
    registry.deploy(ctx=ctx, model=model, checks=CHECKS)
    path = tmp_path / "store/registry/sample-model/versions/000001/model.onnx"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match="checksum mismatch"):
        load_version(Registry(storage), "sample-model", 1)
