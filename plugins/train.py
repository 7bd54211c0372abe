"""The built-in ``train``: a scikit-learn pipeline fitted on the upload (entry point
``sklearn``).

One :class:`sklearn.pipeline.Pipeline` holds the preprocessing (impute and scale numbers,
impute and one-hot encode text with ``handle_unknown="ignore"``) and the estimator, so the
registered model takes the raw columns. The estimator is named by dotted path in
``[plugins.sklearn]``; by default a histogram gradient-boosting classifier or regressor,
chosen by the target's type.
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Mapping
from typing import Any

from hookline import hookimpl
from hookline.config import Option
from hookline.errors import ConfigError, DataError
from hookline.jsonio import jsonable
from hookline.plugins._common import schema_columns, settings
from hookline.plugins._stats import metrics_for, reference_profile
from hookline.types import Dataset, RunContext, TrainedModel

NAME = "sklearn"

DEFAULT_ESTIMATORS = {
    "classification": "sklearn.ensemble.HistGradientBoostingClassifier",
    "regression": "sklearn.ensemble.HistGradientBoostingRegressor",
}

CONFIG = {
    "estimator": Option(
        str,
        "auto",
        "dotted path of the estimator class; `auto` picks "
        "HistGradientBoostingClassifier or ...Regressor by the target",
    ),
    "params": Option(dict, {}, "keyword arguments for the estimator"),
    "task": Option(
        str,
        "auto",
        "`auto` infers it from the target: text, booleans and "
        "integers with few distinct values are classes",
        choices=("auto", "classification", "regression"),
    ),
    "features": Option(list, [], "the feature columns; empty means every column but the target"),
    "exclude": Option(list, [], "columns never used as features (ids, dates, leaks)"),
    "test_size": Option(float, 0.2, "share of rows held out for metrics and gates"),
    "seed": Option(int, 42, "seed of the split and of the estimator's random_state"),
    "stratify": Option(bool, True, "stratify the hold-out split by class (classification)"),
    "numeric_impute": Option(
        str,
        "median",
        "how missing numbers are filled",
        choices=("mean", "median", "most_frequent", "constant"),
    ),
    "categorical_impute": Option(
        str,
        "most_frequent",
        "how missing text is filled (`constant` fills `missing`)",
        choices=("most_frequent", "constant"),
    ),
    "scale": Option(
        bool,
        True,
        "standardise numeric features (never for tree models: their splits do not move)",
    ),
    "max_categories": Option(
        int,
        50,
        "distinct codes per text feature: beyond it, the most frequent values keep a "
        "one-hot column and rarer ones are encoded like unseen values (all zeros); 0: no limit",
    ),
    "class_threshold": Option(
        int, 20, "an integer target with at most this many distinct values is treated as classes"
    ),
    "min_rows": Option(int, 10, "fewer labelled rows than this is an error"),
    "reference_bins": Option(
        int, 10, "quantile bins per numeric feature in the drift reference profile"
    ),
    "reference_sketch": Option(
        int, 1000, "quantiles kept per numeric feature for the KS drift test"
    ),
}


@hookimpl(trylast=True)
def train(ctx: RunContext, dataset: Dataset) -> TrainedModel | None:
    """Fit the configured estimator on ``dataset`` and measure it on a seeded hold-out."""
    cfg = settings(ctx, NAME, CONFIG)
    return fit(dataset, cfg)


def fit(dataset: Dataset, cfg: Mapping[str, Any]) -> TrainedModel:
    """Build, fit and measure the pipeline; the body of :func:`train`.

    :raises DataError: no target, a single class, or too few rows.
    :raises ConfigError: an estimator path or parameter that does not work.
    """
    from sklearn.model_selection import train_test_split

    frame = dataset.frame
    uri = dataset.source.uri if dataset.source else None
    target = dataset.target
    if target is None or target not in frame.columns:
        raise DataError(
            "the dataset has no target column to learn", uri=uri, hint="set [plugins.pandas] target"
        )
    frame = frame.loc[frame[target].notna()]
    features = _feature_names(frame, target, cfg, uri)
    X, y = frame[features], frame[target]
    if len(frame) < cfg["min_rows"]:
        raise DataError(
            f"only {len(frame)} labelled rows; at least {cfg['min_rows']} are "
            "needed to train and hold out",
            uri=uri,
            hint="upload more rows, or lower [plugins.sklearn] min_rows",
        )
    columns = schema_columns(dataset.schema)
    task = _task(y, cfg, columns.get(target, {}).get("dtype"))
    stratify = None
    stratified = False
    if task == "classification":
        counts = y.value_counts()
        if len(counts) < 2:
            raise DataError(
                f"the target column {target!r} has a single class ({counts.index[0]!r}): "
                "there is nothing to tell apart",
                uri=uri,
                hint="upload rows of at least two classes, or set [plugins.sklearn] task = "
                '"regression" for a numeric target',
            )
        n_test = math.ceil(len(y) * cfg["test_size"])
        if cfg["stratify"] and counts.min() >= 2 and n_test >= len(counts):
            stratify, stratified = y, True
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=cfg["test_size"], random_state=cfg["seed"], stratify=stratify
    )
    spec = {name: _feature_spec(X, name) for name in features}
    estimator_path, estimator = _estimator(task, cfg)
    pipeline = _pipeline(spec, estimator, cfg, X_train)
    pipeline.fit(X_train, y_train)
    metrics = {
        k: v for k, v in metrics_for(task, pipeline, X_test, y_test).items() if math.isfinite(v)
    }
    params = {
        "estimator": estimator_path,
        **jsonable(_params(estimator)),
        "test_size": cfg["test_size"],
        "seed": cfg["seed"],
        "stratified": stratified,
        "rows_train": len(X_train),
        "rows_test": len(X_test),
    }
    profile = {
        "version": 1,
        "rows": len(X),
        "task": task,
        "features": reference_profile(
            X, spec, bins=cfg["reference_bins"], sketch=cfg["reference_sketch"]
        ),
        "target": _target_profile(y, target, task),
        "schema": dict(dataset.schema),
    }
    return TrainedModel(
        estimator=pipeline,
        task="classification" if task == "classification" else "regression",
        features=jsonable(spec),
        target=target,
        metrics=metrics,
        params=params,
        reference_profile=jsonable(profile),
        holdout=(X_test, y_test),
        flavor="sklearn",
    )


def _feature_names(frame: Any, target: str, cfg: Mapping[str, Any], uri: str | None) -> list[str]:
    wanted = list(cfg["features"]) or [c for c in frame.columns if c != target]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DataError(
            f"configured feature column(s) missing: {', '.join(map(repr, missing))}",
            uri=uri,
            hint="fix [plugins.sklearn] features",
        )
    names = [c for c in wanted if c != target and c not in set(cfg["exclude"])]
    if not names:
        raise DataError(
            "no feature columns left to learn from",
            uri=uri,
            hint="the file needs at least one column besides the target",
        )
    return names


def _task(y: Any, cfg: Mapping[str, Any], declared_dtype: str | None) -> str:
    from hookline.plugins._ingest_schema import KINDS, kind_of

    if cfg["task"] != "auto":
        return str(cfg["task"])
    kind = declared_dtype if declared_dtype in KINDS else kind_of(y)
    if kind in ("string", "boolean"):
        return "classification"
    integral = kind == "integer" or bool((y.dropna() % 1 == 0).all())
    if integral and y.nunique() <= cfg["class_threshold"]:
        return "classification"
    return "regression"


def _feature_spec(X: Any, name: str) -> dict[str, Any]:
    from hookline.plugins._ingest_schema import kind_of

    dtype = kind_of(X[name])  # what the column holds (ingest coerced it to the schema)
    spec: dict[str, Any] = {"dtype": dtype, "nullable": bool(X[name].isna().any())}
    if dtype == "string":
        values = X[name].dropna().astype("str").unique()
        if len(values) <= 1000:
            spec["categories"] = sorted(str(v) for v in values)
    return spec


def _estimator(task: str, cfg: Mapping[str, Any]) -> tuple[str, Any]:
    path = cfg["estimator"] if cfg["estimator"] != "auto" else DEFAULT_ESTIMATORS[task]
    module_name, _, cls_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(
            f"cannot import estimator {path!r}: {exc}",
            key="plugins.sklearn.estimator",
            hint='give a dotted path such as "sklearn.ensemble.RandomForestClassifier"',
        ) from None
    params = dict(cfg["params"])
    try:
        accepted = dict(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        accepted = {}
    if "random_state" in accepted and "random_state" not in params:
        params["random_state"] = cfg["seed"]
    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise ConfigError(
            f"bad parameters for {path}: {exc}",
            key="plugins.sklearn.params",
            hint=f"{cls_name} accepts: {', '.join(sorted(accepted))}",
        ) from None
    return path, estimator


def _pipeline(
    spec: Mapping[str, Mapping[str, Any]], estimator: Any, cfg: Mapping[str, Any], X: Any
) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [n for n, s in spec.items() if s["dtype"] != "string"]
    text = [n for n, s in spec.items() if s["dtype"] == "string"]
    parts = []
    if numeric:
        steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy=cfg["numeric_impute"]))]
        if cfg["scale"] and not is_tree_model(estimator):
            steps.append(("scale", StandardScaler()))
        parts.append(("numeric", Pipeline(steps), numeric))
    if text:
        impute = (
            SimpleImputer(strategy="constant", fill_value="missing")
            if cfg["categorical_impute"] == "constant"
            else SimpleImputer(strategy="most_frequent")
        )
        parts.append(
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", impute),
                        (
                            "onehot",
                            OneHotEncoder(
                                categories=_text_categories(X, text, cfg),
                                handle_unknown="ignore",
                            ),
                        ),
                    ]
                ),
                text,
            )
        )
    preprocess = ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)
    return Pipeline([("preprocess", preprocess), ("model", estimator)])


def is_tree_model(estimator: Any) -> bool:
    """Whether ``estimator`` is a decision tree or an ensemble of them: such models split on
    thresholds, so standardising their inputs changes nothing but the float rounding
    (which then differs between scikit-learn's float64 and an ONNX model's float32)."""
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.tree import BaseDecisionTree

    return isinstance(
        estimator,
        BaseDecisionTree
        | ExtraTreesClassifier
        | ExtraTreesRegressor
        | GradientBoostingClassifier
        | GradientBoostingRegressor
        | HistGradientBoostingClassifier
        | HistGradientBoostingRegressor
        | RandomForestClassifier
        | RandomForestRegressor,
    )


def _text_categories(X: Any, text: list[str], cfg: Mapping[str, Any]) -> Any:
    """The one-hot categories of the text features: ``auto`` (every value seen) unless a
    feature has more than ``max_categories`` values once imputed; then each feature keeps
    its ``max_categories - 1`` most frequent values (ties: the smaller value) and the rarer
    ones are encoded as all zeros, like values never seen.

    This is scikit-learn's ``max_categories`` with the pooled column left implicit: the
    same number of distinguishable codes per feature, and a form skl2onnx converts (its
    ``OneHotEncoder`` converter does not handle infrequent categories after an imputer).
    """
    limit = int(cfg["max_categories"] or 0)
    if not limit:
        return "auto"
    chosen, pooled = [], False
    for name in text:
        column = X[name]
        counts = {str(k): int(v) for k, v in column.dropna().astype("str").value_counts().items()}
        missing = int(column.isna().sum())
        if missing:
            if cfg["categorical_impute"] == "constant":
                fill = "missing"
            elif counts:  # SimpleImputer's mode: the most frequent value, ties to the smallest
                top = max(counts.values())
                fill = min(k for k, v in counts.items() if v == top)
            else:
                fill = "missing"
            counts[fill] = counts.get(fill, 0) + missing
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if len(ranked) > limit:
            pooled = True
            ranked = ranked[: max(limit - 1, 1)]
        chosen.append(sorted(str(value) for value, _ in ranked))
    return chosen if pooled else "auto"


def _params(estimator: Any) -> dict[str, Any]:
    out = {}
    for key, value in estimator.get_params(deep=False).items():
        out[key] = (
            value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        )
    return out


def _target_profile(y: Any, name: str, task: str) -> dict[str, Any]:
    from hookline.plugins._ingest_schema import kind_of

    out: dict[str, Any] = {"name": name, "dtype": kind_of(y), "nullable": False}
    if task == "classification":
        shares = y.astype("str").value_counts(normalize=True)
        out["classes"] = {str(k): float(v) for k, v in shares.items()}
    else:
        out.update(mean=float(y.mean()), std=float(y.std()), min=float(y.min()), max=float(y.max()))
    return out
