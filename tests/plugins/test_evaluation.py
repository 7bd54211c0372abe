"""The trainer's evaluation on real datasets shipped with scikit-learn (breast cancer, wine,
diabetes): pos_label, cross-validation, grouped and time-ordered splits, parameter search
within a budget, and the model card. Where scikit-learn computes a number, the test
computes it again by hand with scikit-learn and expects the same."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hookline.config import check_table
from hookline.errors import ConfigError
from hookline.plugins import train
from hookline.plugins._ingest_schema import kind_of
from hookline.types import Dataset
from sklearn import datasets
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.model_selection import (
    GroupKFold,
    StratifiedKFold,
    TimeSeriesSplit,
    cross_validate,
    train_test_split,
)

FAST = {"estimator": "sklearn.linear_model.LogisticRegression", "params": {"max_iter": 2000}}


def frame_of(loader) -> pd.DataFrame:
    bunch = loader(as_frame=True)
    frame = bunch.frame.copy()
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    return frame


def fit(frame: pd.DataFrame, target: str = "target", **config):
    schema = {c: {"dtype": kind_of(frame[c])} for c in frame.columns}
    dataset = Dataset(frame=frame, schema=schema, profile={}, target=target, source=None)
    return train.fit(dataset, check_table(config, train.CONFIG, "plugins.sklearn"))


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    return frame_of(datasets.load_breast_cancer)


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    return frame_of(datasets.load_wine)


@pytest.fixture(scope="module")
def diabetes() -> pd.DataFrame:
    return frame_of(datasets.load_diabetes)


def test_pos_label_chooses_the_class_f1_is_about(cancer):
    """Once: F1 of a binary target was always the alphabetically second class."""
    default = fit(cancer, **FAST)
    malignant = fit(cancer, pos_label="0", **FAST)
    X_test, y_test = malignant.holdout
    predicted = malignant.estimator.predict(X_test)
    assert malignant.metrics["f1"] == pytest.approx(f1_score(y_test, predicted, pos_label=0))
    assert default.metrics["f1"] == pytest.approx(f1_score(y_test, predicted, pos_label=1))
    assert malignant.params["pos_label"] == "0" and default.params["pos_label"] == "1"
    assert malignant.card["model"]["pos_label"] == "0"
    # roc_auc does not depend on which class is called positive
    assert malignant.metrics["roc_auc"] == pytest.approx(default.metrics["roc_auc"])
    with pytest.raises(ConfigError, match=r"pos_label 'benign' is not one of the classes"):
        fit(cancer, pos_label="benign", **FAST)


def test_stratified_cross_validation_is_cross_validate(cancer):
    model = fit(cancer, cv_folds=5, **FAST)
    cv = model.card["cv"]
    assert cv["folds"] == 5 and cv["splitter"].startswith("StratifiedKFold(5")
    # by hand: the same training rows, folds and estimator
    X, y = cancer.drop(columns="target"), cancer["target"]
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=42, stratify=y)
    expected = cross_validate(
        clone(model.estimator),
        X_train,
        y_train,
        cv=StratifiedKFold(5, shuffle=True, random_state=42),
        scoring={"accuracy": "accuracy", "roc_auc": "roc_auc"},
    )
    for name in ("accuracy", "roc_auc"):
        assert cv["metrics"][name]["folds"] == pytest.approx(list(expected[f"test_{name}"]))
        assert cv["metrics"][name]["mean"] == pytest.approx(expected[f"test_{name}"].mean())
        assert cv["metrics"][name]["std"] == pytest.approx(expected[f"test_{name}"].std(ddof=1))
        spread = model.card["metrics"][name]
        assert spread["cv_mean"] == cv["metrics"][name]["mean"]
        assert spread["holdout"] == model.metrics[name]
    assert model.params["cv_folds"] == 5


def test_grouped_split_keeps_groups_whole(wine):
    frame = wine.copy()
    frame["batch"] = np.arange(len(frame)) % 12
    model = fit(frame, split="group", split_column="batch", cv_folds=4, **FAST)
    X_test, _ = model.holdout
    held = set(frame.loc[X_test.index, "batch"])
    trained = set(frame.loc[frame.index.difference(X_test.index), "batch"])
    assert held and not held & trained
    assert "batch" not in model.features  # grouping by it is the point; learning it leaks
    assert model.card["excluded"]["batch"] == "the cross-validation group column"
    assert model.card["cv"]["splitter"] == "GroupKFold(4) by 'batch'"
    train_rows = frame.loc[frame.index.difference(X_test.index)]
    expected = cross_validate(
        clone(model.estimator),
        train_rows[list(model.features)],
        train_rows["target"],
        groups=train_rows["batch"],
        cv=GroupKFold(4),
        scoring="accuracy",
    )
    assert model.card["cv"]["metrics"]["accuracy"]["mean"] == pytest.approx(
        expected["test_score"].mean()
    )


def test_time_split_holds_out_the_latest_rows_and_chains_forward(diabetes):
    frame = diabetes.sample(frac=1, random_state=0).reset_index(drop=True)
    frame["day"] = pd.date_range("2023-01-01", periods=len(frame), freq="D")[::-1]
    model = fit(frame, split="time", split_column="day", cv_folds=4, params={"max_iter": 50})
    X_test, _ = model.holdout
    latest = frame.loc[X_test.index, "day"]
    rest = frame.loc[frame.index.difference(X_test.index), "day"]
    assert latest.min() > rest.max()
    assert len(X_test) == math.ceil(len(frame) * 0.2)
    assert model.card["cv"]["splitter"].startswith("TimeSeriesSplit(4)")
    ordered = frame.loc[rest.sort_values(kind="stable").index]
    expected = cross_validate(
        clone(model.estimator),
        ordered[list(model.features)],
        ordered["target"],
        cv=TimeSeriesSplit(4),
        scoring="neg_root_mean_squared_error",
    )
    assert model.card["cv"]["metrics"]["rmse"]["folds"] == pytest.approx(
        list(-expected["test_score"])
    )


def test_random_search_within_a_budget_records_what_it_chose(cancer):
    search = {
        "params": {"C": {"loguniform": [0.001, 10.0]}, "fit_intercept": [True, False]},
        "candidates": 6,
        "folds": 3,
    }
    model = fit(cancer, search=search, **FAST)
    found = model.card["search"]
    assert found["searcher"] == "RandomizedSearchCV" and found["tried"] == 6
    assert set(found["best_params"]) == {"C", "fit_intercept"}
    assert model.params["C"] == pytest.approx(found["best_params"]["C"])
    assert model.params["search"]["best_params"] == found["best_params"]
    assert found["top"][0]["mean"] == pytest.approx(found["best_score"])
    # a budget far below one fold fit per candidate leaves a single candidate
    tight = fit(cancer, search={**search, "budget_seconds": 1e-6}, **FAST)
    assert tight.card["search"]["candidates"] == 1 and tight.card["search"]["tried"] == 1
    assert tight.card["search"]["estimated_seconds"] > 0


def test_halving_search_and_bad_search_settings(wine):
    search = {
        "method": "halving",
        "params": {"max_depth": [2, 3, None], "learning_rate": {"uniform": [0.05, 0.3]}},
        "candidates": 9,
        "folds": 3,
        "budget_seconds": 600,
    }
    model = fit(wine, search=search, params={"max_iter": 20})
    assert model.card["search"]["searcher"] == "HalvingRandomSearchCV"
    assert model.card["search"]["tried"] >= 9
    with pytest.raises(ConfigError, match=r"plugins\.sklearn\.search\.params\.depth"):
        fit(wine, search={"params": {"depth": [1, 2]}}, params={"max_iter": 5})
    with pytest.raises(ConfigError, match=r"plugins\.sklearn\.search\.params\.max_depth"):
        fit(wine, search={"params": {"max_depth": {"normal": [1, 2]}}})
    with pytest.raises(ConfigError, match=r"plugins\.sklearn\.search\.tries"):
        fit(wine, search={"params": {"max_depth": [1]}, "tries": 3})


def test_the_card_of_a_classifier(wine):
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import confusion_matrix

    model = fit(wine, importance_rows=1000, **FAST)
    card = model.card
    X_test, y_test = model.holdout
    labels = sorted(wine["target"].unique())
    assert card["confusion_matrix"]["labels"] == [str(c) for c in labels]
    assert card["confusion_matrix"]["matrix"] == (
        confusion_matrix(y_test, model.estimator.predict(X_test), labels=labels).tolist()
    )
    assert {c: v["support"] for c, v in card["per_class"].items()} == {
        str(c): int((y_test == c).sum()) for c in labels
    }
    expected = permutation_importance(
        model.estimator, X_test, y_test, scoring="f1_macro", n_repeats=5, random_state=42
    )
    by_name = {row["feature"]: row["mean"] for row in card["importance"]["features"]}
    assert by_name == pytest.approx(dict(zip(X_test.columns, expected.importances_mean)))
    means = [row["mean"] for row in card["importance"]["features"]]
    assert means == sorted(means, reverse=True)
    assert card["holdout"]["rows"] == len(y_test) and card["data"]["rows"] == len(wine)


def test_the_card_of_a_regressor_and_text_from_the_config(diabetes):
    text = {"intended_use": "research only", "owners": ["data team"]}
    model = fit(diabetes, card=text, params={"max_iter": 50}, importance_repeats=2)
    card = model.card
    residuals = card["residuals"]
    X_test, y_test = model.holdout
    errors = y_test.to_numpy() - model.estimator.predict(X_test)
    assert residuals["mean"] == pytest.approx(errors.mean())
    assert residuals["quantiles"]["p50"] == pytest.approx(np.median(errors))
    assert sum(residuals["histogram"]["counts"]) == len(y_test)
    assert card["importance"]["metric"] == "rmse" and card["importance"]["repeats"] == 2
    assert card["intended_use"] == "research only" and card["owners"] == ["data team"]
    with pytest.raises(ConfigError, match=r"plugins\.sklearn\.card\.purpose"):
        fit(diabetes, card={"purpose": "x"})
