"""The drift monitor in isolation: scoring, PSI and KS, decay, shadow, retrain requests."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from _plugin_helpers import FAST, context, source_for, table, write_csv
from hookline.config import check_table
from hookline.errors import DataError
from hookline.plugins import drift, ingest, registry, train
from hookline.registry import Registry


@pytest.fixture
def production(storage, tmp_path):
    """A production model of the sample project, trained on ``table(400)``."""
    path = write_csv(tmp_path / "train.csv", table(400))
    ctx = context(storage, upload=path, plugins={"pandas": {"target": "label"}})
    dataset = ingest.ingest(ctx=ctx, source=source_for(ctx, path))
    model = train.fit(dataset, check_table(FAST, train.CONFIG, ""))
    registry.deploy(ctx=ctx, model=model, checks=[])
    return model


def monitor(storage, tmp_path, frame, *, name="batch.csv", **config):
    path = write_csv(tmp_path / name, frame)
    ctx = context(storage, pipeline="monitor", upload=path, plugins={"drift": config})
    dataset = ingest.ingest(ctx=ctx, source=source_for(ctx, path))
    return ctx, drift.monitor(ctx=ctx, dataset=dataset)


def test_same_distribution_no_drift(storage, tmp_path, production):
    ctx, report = monitor(storage, tmp_path, table(300, seed=7))
    assert report.name == "drift" and report.model == "sample-model" and report.version == 1
    assert not report.drifted, report.features
    assert set(report.features) == {"x1", "x2", "color"}
    x1 = report.features["x1"]
    assert x1["psi"] < 0.1 and x1["ks_pvalue"] > 0.01 and x1["threshold"] == 0.2
    assert report.features["color"]["psi"] < 0.1 and "ks_pvalue" not in report.features["color"]
    assert not report.retrain_requested


def test_shift_is_drift_and_requests_a_retrain(storage, tmp_path, production):
    shifted = table(300, seed=7, shift=2.0)
    ctx, report = monitor(storage, tmp_path, shifted, retrain_on_drift=True)
    assert report.drifted and report.details["drifted_features"] == ["x1"]
    assert report.features["x1"]["psi"] > 1.0 and report.features["x1"]["ks_pvalue"] < 1e-6
    assert not report.features["x2"]["drifted"]
    assert report.retrain_requested
    key = f"monitoring/sample-model/retrain/{ctx.run_id}.json"
    request = json.loads(storage.read(key))
    assert request["model"] == "sample-model" and request["status"] == "open"
    assert request["run_id"] == ctx.run_id and request["features"] == ["x1"]
    assert request["reason"].startswith("drift in 1 feature(s): x1")
    assert request["requested_at"].endswith("Z")
    # a second drifted batch points at the open request instead of piling up another
    ctx2, again = monitor(storage, tmp_path, shifted, name="again.csv", retrain_on_drift=True)
    assert again.details["retrain_request"] == storage.url(key)
    assert [i.key for i in storage.list("monitoring/sample-model/retrain/")] == [key]


def test_no_retrain_request_unless_configured(storage, tmp_path, production):
    ctx, report = monitor(storage, tmp_path, table(200, seed=3, shift=2.0))
    assert report.drifted and not report.retrain_requested
    assert list(storage.list("monitoring/sample-model/retrain/")) == []


def test_report_and_predictions_are_written(storage, tmp_path, production):
    frame = table(50, seed=9)
    ctx, report = monitor(storage, tmp_path, frame)
    key = f"monitoring/sample-model/reports/{ctx.run_id}.json"
    assert report.uri == storage.url(key)
    doc = json.loads(storage.read(key))
    assert doc["model"] == "sample-model" and doc["rows"] == 50 and doc["run_id"] == ctx.run_id
    assert doc["features"]["x1"]["psi"] == pytest.approx(report.features["x1"]["psi"])
    assert doc["thresholds"]["psi_threshold"] == 0.2
    predictions = pd.read_csv(io.BytesIO(storage.read(f"runs/{ctx.run_id}/predictions.csv")))
    assert list(predictions.columns) == ["row", "prediction", "proba_no", "proba_yes"]
    assert len(predictions) == 50
    expected = production.estimator.predict(frame[["x1", "x2", "color"]])
    assert predictions["prediction"].tolist() == list(expected)
    assert np.allclose(predictions["proba_no"] + predictions["proba_yes"], 1.0)
    written = sorted(i.key for i in storage.list("") if ctx.run_id in i.key)
    assert written == [key, f"runs/{ctx.run_id}/predictions.csv"]


def test_labels_give_batch_metrics_and_decay(storage, tmp_path, production):
    frame = table(200, seed=5)
    frame["label"] = np.where(frame["label"] == "yes", "no", "yes")  # the world flipped
    ctx, report = monitor(storage, tmp_path, frame, retrain_on_drift=True)
    assert report.metrics["accuracy"] < 0.3
    decay = report.details["decay"]
    assert decay["decayed"] and decay["metric"] == "f1" and decay["labelled_rows"] == 200
    assert decay["baseline"] == production.metrics["f1"]
    assert report.retrain_requested  # decay alone is a reason
    assert any("f1 fell from" in r for r in report.details["reasons"])


def test_unseen_categories_are_counted_not_fatal(storage, tmp_path, production):
    frame = table(100, seed=2)
    frame.loc[:9, "color"] = "purple"
    ctx, report = monitor(storage, tmp_path, frame)
    assert report.features["color"]["unseen"] == 10
    assert report.features["color"]["unseen_values"] == ["purple"]
    assert report.details["unseen_categories"] == {"color": 10}


def test_missing_feature_is_a_data_error(storage, tmp_path, production):
    from hookline.types import Dataset

    path = write_csv(tmp_path / "narrow.csv", table(40).drop(columns=["x2"]))
    ctx = context(storage, pipeline="monitor", upload=path)
    # the built-in ingest already refuses this file; another ingest plugin might not
    dataset = Dataset(
        frame=pd.read_csv(path), schema={}, profile={}, target=None, source=source_for(ctx, path)
    )
    with pytest.raises(
        DataError,
        match=r"the batch lacks column\(s\) model 'sample-model' v1 "
        r"needs: 'x2'",
    ):
        drift.monitor(ctx=ctx, dataset=dataset)


def test_shadow_scoring_with_a_challenger(storage, tmp_path, production):
    path = write_csv(tmp_path / "train2.csv", table(400, seed=11))
    ctx = context(storage, upload=path, plugins={"pandas": {"target": "label"}})
    dataset = ingest.ingest(ctx=ctx, source=source_for(ctx, path))
    challenger = train.fit(dataset, check_table({**FAST, "features": ["x2"]}, train.CONFIG, ""))
    version = Registry(storage).register_estimator(
        "sample-model",
        challenger.estimator,
        {"task": "classification", "features": challenger.features},
    )
    Registry(storage).move_alias("sample-model", "challenger", version.version)
    ctx, report = monitor(storage, tmp_path, table(200, seed=4))
    shadow = report.details["shadow"]
    assert shadow["version"] == 2 and shadow["production_version"] == 1
    assert 0.0 <= shadow["agreement"] < 1.0
    assert shadow["metrics"]["production"]["f1"] > shadow["metrics"]["challenger"]["f1"]
    assert shadow["challenger_better"] is False
    predictions = pd.read_csv(io.BytesIO(storage.read(f"runs/{ctx.run_id}/predictions.csv")))
    assert "challenger_prediction" in predictions.columns


def test_no_production_model_means_nothing_to_watch(storage, tmp_path):
    path = write_csv(tmp_path / "batch.csv", table(30))
    ctx = context(storage, pipeline="monitor", upload=path, plugins={"pandas": {"target": "label"}})
    dataset = ingest.ingest(ctx=ctx, source=source_for(ctx, path))
    assert drift.monitor(ctx=ctx, dataset=dataset) is None
    assert "has no 'production' version yet" in ctx.notes["drift"]
