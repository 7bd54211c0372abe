"""The ONNX parity gate over the datasets the tests use: every estimator either converts
with identical labels and probabilities (or outputs) within tolerance, or the result
records why not. The matrix in docs/serving.md ("ONNX") is this test's expectations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _plugin_helpers import table
from hookline.config import check_table
from hookline.plugins import train
from hookline.plugins._ingest_schema import kind_of
from hookline.plugins._onnx import (
    PROBABILITY_TOLERANCE,
    VALUE_TOLERANCE,
    export,
)
from hookline.types import Dataset

pytest.importorskip("skl2onnx")
datasets = pytest.importorskip("sklearn.datasets")

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"


def multiclass() -> pd.DataFrame:
    frame = table(400, seed=3)
    score = frame.x1.fillna(0) + frame.x2.fillna(0)
    frame["label"] = np.select([score < -0.5, score < 0.5], ["low", "mid"], "high")
    return frame


def regression() -> pd.DataFrame:
    frame = table(400, seed=4, label=False)
    noise = np.random.default_rng(0).normal(0, 0.1, len(frame))
    frame["y"] = 3 * frame.x1 + np.where(frame.color == "red", 2.0, 0.0) + noise
    return frame


def many_categories() -> pd.DataFrame:
    """A text feature with more values than max_categories (50), and gaps."""
    return table(1500, seed=5, colors=tuple(f"c{i}" for i in range(80)))


def penguins() -> pd.DataFrame:
    return pd.concat(
        [pd.read_csv(QUICKSTART / "batch1.csv"), pd.read_csv(QUICKSTART / "batch2.csv")],
        ignore_index=True,
    )


def bundled(name: str):
    return lambda: getattr(datasets, f"load_{name}")(as_frame=True).frame


DATASETS = {
    # name: (make, target, task, trainer settings)
    "binary": (lambda: table(300), "label", "classification", {}),
    "multiclass": (multiclass, "label", "classification", {}),
    "regression": (regression, "y", "regression", {}),
    "many_categories": (many_categories, "label", "classification", {}),
    "penguins": (penguins, "species", "classification", {"exclude": ["year"]}),
    "breast_cancer": (bundled("breast_cancer"), "target", "classification", {}),
    "wine": (bundled("wine"), "target", "classification", {}),
    "diabetes": (bundled("diabetes"), "target", "regression", {}),
}

CLASSIFIERS = {
    "auto": {},  # HistGradientBoostingClassifier
    "sklearn.ensemble.RandomForestClassifier": {"n_estimators": 30},
    "sklearn.ensemble.ExtraTreesClassifier": {"n_estimators": 30},
    "sklearn.ensemble.GradientBoostingClassifier": {"n_estimators": 30},
    "sklearn.tree.DecisionTreeClassifier": {},
    "sklearn.linear_model.LogisticRegression": {"max_iter": 1000},
    "sklearn.linear_model.SGDClassifier": {"loss": "log_loss"},
    "sklearn.linear_model.RidgeClassifier": {},
    "sklearn.neighbors.KNeighborsClassifier": {},
    "sklearn.naive_bayes.GaussianNB": {},
    "sklearn.svm.SVC": {"probability": True},
    "sklearn.svm.LinearSVC": {},
    "sklearn.neural_network.MLPClassifier": {"max_iter": 300},
    "sklearn.ensemble.AdaBoostClassifier": {"n_estimators": 20},
    "sklearn.discriminant_analysis.LinearDiscriminantAnalysis": {},
}
REGRESSORS = {
    "auto": {},  # HistGradientBoostingRegressor
    "sklearn.ensemble.RandomForestRegressor": {"n_estimators": 30},
    "sklearn.ensemble.ExtraTreesRegressor": {"n_estimators": 30},
    "sklearn.ensemble.GradientBoostingRegressor": {"n_estimators": 30},
    "sklearn.tree.DecisionTreeRegressor": {},
    "sklearn.linear_model.LinearRegression": {},
    "sklearn.linear_model.Ridge": {},
    "sklearn.linear_model.Lasso": {"alpha": 0.01},
    "sklearn.linear_model.ElasticNet": {"alpha": 0.01},
    "sklearn.linear_model.SGDRegressor": {},
    "sklearn.linear_model.HuberRegressor": {"max_iter": 500},
    "sklearn.linear_model.BayesianRidge": {},
    "sklearn.neighbors.KNeighborsRegressor": {},
    "sklearn.svm.SVR": {},
    "sklearn.neural_network.MLPRegressor": {"max_iter": 300},
}

# What does not convert, or converts to a model that predicts differently, and the start
# of the reason recorded (skl2onnx 1.20; see docs/serving.md).
EXPECTED_FAILURES = {
    # skl2onnx's LinearSVC shape calculator asks for the zipmap option it then refuses
    "sklearn.svm.LinearSVC": "conversion failed: NameError: Option 'zipmap'",
    # the binary LinearDiscriminantAnalysis converter computes other probabilities
    ("binary", "sklearn.discriminant_analysis.LinearDiscriminantAnalysis"): "parity: probab",
    ("breast_cancer", "sklearn.discriminant_analysis.LinearDiscriminantAnalysis"): "parity: prob",
}

CASES = [
    (data, estimator)
    for data, (_, _, task, _) in DATASETS.items()
    for estimator in (CLASSIFIERS if task == "classification" else REGRESSORS)
    if not (
        data == "many_categories"
        and estimator not in ("auto", "sklearn.linear_model.LogisticRegression")
    )
]


def fit(data: str, estimator: str):
    make, target, task, extra = DATASETS[data]
    frame = make()
    params = (CLASSIFIERS if task == "classification" else REGRESSORS)[estimator]
    schema = {c: {"dtype": kind_of(frame[c])} for c in frame.columns}
    dataset = Dataset(frame=frame, schema=schema, profile={}, target=target, source=None)
    cfg = check_table({"estimator": estimator, "params": params, **extra}, train.CONFIG, "")
    return train.fit(dataset, cfg)


@pytest.mark.parametrize(("data", "estimator"), CASES)
def test_parity_or_a_recorded_reason(data, estimator):
    model = fit(data, estimator)
    result = export(model.estimator, model.features, model.task, model.holdout)
    expected = EXPECTED_FAILURES.get((data, estimator), EXPECTED_FAILURES.get(estimator))
    if expected is not None:
        assert result.status == "failed" and result.data is None
        assert result.reason.startswith(expected), result.reason
        return
    assert result.ok, result.reason
    parity = result.parity
    holdout = model.holdout[0]
    assert parity["passed"] and parity["rows"] > len(holdout)  # the probes were predicted
    if model.task == "classification":
        assert parity["labels_differ"] == 0
        if "max_probability_deviation" in parity:
            assert parity["max_probability_deviation"] <= PROBABILITY_TOLERANCE
    else:
        assert parity["max_relative_deviation"] <= VALUE_TOLERANCE
    assert result.spec["opsets"]["ai.onnx"] <= 17 and result.spec["opsets"]["ai.onnx.ml"] <= 3


def test_categories_unseen_in_training_and_gaps_predict_alike():
    from hookline.onnx import load

    model = fit("penguins", "auto")
    result = export(model.estimator, model.features, model.task, model.holdout)
    onnx_model = load(result.data, result.manifest())
    frame = model.holdout[0].head(6).copy()
    frame["island"] = ["Atlantis", None, "Biscoe", "Dream", "", "Torgersen"]
    frame.loc[frame.index[2], "bill_length_mm"] = np.nan
    frame["sex"] = frame["sex"].astype(object)
    frame.loc[frame.index[3], "sex"] = np.nan
    assert onnx_model.predict(frame).tolist() == model.estimator.predict(frame).tolist()
    gap = np.abs(onnx_model.predict_proba(frame) - model.estimator.predict_proba(frame))
    assert gap.max() <= PROBABILITY_TOLERANCE
