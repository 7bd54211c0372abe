"""The scikit-learn trainer in isolation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _plugin_helpers import FAST, table
from hookline.config import check_table
from hookline.errors import ConfigError, DataError
from hookline.plugins import train
from hookline.plugins._ingest_schema import kind_of
from hookline.types import Dataset


def dataset(frame: pd.DataFrame, target: str = "label") -> Dataset:
    schema = {c: {"dtype": kind_of(frame[c])} for c in frame.columns}
    return Dataset(frame=frame, schema=schema, profile={}, target=target, source=None)


def fit(frame: pd.DataFrame, target: str = "label", **config):
    return train.fit(dataset(frame, target), check_table(config, train.CONFIG, "plugins.sklearn"))


def test_default_classifier_pipeline_on_raw_columns():
    model = fit(table(200), params={"max_iter": 20})
    assert model.task == "classification"
    assert model.params["estimator"] == "sklearn.ensemble.HistGradientBoostingClassifier"
    assert model.params["max_iter"] == 20 and model.params["random_state"] == 42
    assert set(model.metrics) == {"accuracy", "f1", "roc_auc"}
    assert 0.7 < model.metrics["accuracy"] <= 1.0
    X_test, y_test = model.holdout
    assert len(X_test) == 40 and model.params["rows_test"] == 40
    assert model.params["stratified"] is True
    assert (
        y_test.value_counts(normalize=True).round(1).to_dict()
        == table(200)["label"].value_counts(normalize=True).round(1).to_dict()
    )
    # the pipeline takes raw columns: gaps, text, and a category it never saw
    raw = pd.DataFrame({"x1": [0.1, None], "x2": [None, 1.0], "color": ["purple", None]})
    assert len(model.estimator.predict(raw)) == 2


def test_feature_schema_is_json_and_names_categories():
    model = fit(table(120), **FAST)
    assert model.features == {
        "x1": {"dtype": "number", "nullable": False},
        "x2": {"dtype": "number", "nullable": True},
        "color": {"dtype": "string", "nullable": True, "categories": ["blue", "green", "red"]},
    }
    json.dumps(model.features), json.dumps(model.reference_profile), json.dumps(model.params)


def test_reference_profile_for_drift():
    frame = table(300)
    model = fit(frame, **FAST)
    ref = model.reference_profile["features"]
    x1 = ref["x1"]
    assert x1["kind"] == "numeric" and len(x1["edges"]) == 9 and len(x1["shares"]) == 10
    assert sum(x1["shares"]) + x1["null_bin"] == pytest.approx(1.0)
    assert len(x1["sketch"]) == 300 and x1["sketch"][0] == pytest.approx(frame["x1"].min())
    color = ref["color"]
    assert color["kind"] == "categorical"
    assert sum(color["shares"].values()) + color["null_share"] + color[
        "other_share"
    ] == pytest.approx(1.0)
    assert model.reference_profile["target"]["classes"].keys() == {"yes", "no"}
    assert model.reference_profile["schema"]["label"]["dtype"] == "string"


def test_regression_metrics_and_default_regressor():
    rng = np.random.default_rng(3)
    frame = table(150, label=False)
    frame["price"] = frame["x1"].fillna(0) * 3.0 + rng.normal(0, 0.1, 150)
    model = fit(frame, "price", params={"max_iter": 30})
    assert model.task == "regression"
    assert model.params["estimator"] == "sklearn.ensemble.HistGradientBoostingRegressor"
    assert set(model.metrics) == {"rmse", "mae", "r2"}
    assert model.metrics["r2"] > 0.5


def test_integer_labels_with_few_values_are_classes():
    frame = table(100)
    frame["label"] = (frame["label"] == "yes").astype(int)
    assert fit(frame, **FAST).task == "classification"
    assert (
        fit(frame, task="regression", estimator="sklearn.linear_model.LinearRegression").task
        == "regression"
    )


def test_multiclass_f1_is_macro():
    from sklearn.metrics import f1_score

    frame = table(240, colors=("a", "b", "c")).drop(columns=["label"])
    frame["label"] = np.where(frame["x1"] > 0.5, "high", np.where(frame["x1"] < -0.5, "low", "mid"))
    model = fit(frame, **FAST)
    X, y = model.holdout
    assert model.metrics["f1"] == pytest.approx(
        f1_score(y, model.estimator.predict(X), average="macro")
    )
    assert set(model.metrics) == {"accuracy", "f1", "roc_auc"}


def test_single_class_target_is_a_data_error():
    frame = table(50)
    frame["label"] = "yes"
    with pytest.raises(DataError, match=r"the target column 'label' has a single class \('yes'\)"):
        fit(frame, **FAST)


def test_too_few_rows():
    with pytest.raises(DataError, match="only 6 labelled rows; at least 10 are needed"):
        fit(table(6), **FAST)


def test_same_seed_same_model():
    first, second = fit(table(150), **FAST), fit(table(150), **FAST)
    assert first.metrics == second.metrics
    assert first.holdout[0].index.tolist() == second.holdout[0].index.tolist()


def test_feature_selection():
    model = fit(table(80), exclude=["x2"], **FAST)
    assert list(model.features) == ["x1", "color"]
    model = fit(table(80), features=["x1"], **FAST)
    assert list(model.features) == ["x1"]
    with pytest.raises(DataError, match="configured feature column\\(s\\) missing: 'age'"):
        fit(table(80), features=["age"], **FAST)


def test_estimator_errors_name_the_config_key():
    with pytest.raises(
        ConfigError,
        match=r"\[plugins.sklearn.estimator\] cannot import "
        r"estimator 'sklearn.ensemble.NoSuchForest'",
    ):
        fit(table(50), estimator="sklearn.ensemble.NoSuchForest")
    with pytest.raises(
        ConfigError,
        match=r"\[plugins.sklearn.params\] bad parameters for "
        r"sklearn.linear_model.LogisticRegression",
    ):
        fit(table(50), estimator="sklearn.linear_model.LogisticRegression", params={"depth": 3})


def test_the_fitted_pipeline_saves_with_skops_and_loads_back():
    from hookline import modelio

    model = fit(table(80), **FAST)
    data = modelio.dumps(model.estimator)
    loaded = modelio.loads(data, expected_sha256=modelio.sha256(data), where="test")
    X = model.holdout[0]
    assert (loaded.predict(X) == model.estimator.predict(X)).all()
