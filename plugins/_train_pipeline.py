"""The trainer's scikit-learn pipeline: the estimator from its dotted path, and the
preprocessing in front of it (see :mod:`hookline.plugins.train`)."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import Any

from hookline.errors import ConfigError

__all__ = ["build_pipeline", "estimator_for", "is_tree_model", "text_categories"]


def estimator_for(
    task: str, cfg: Mapping[str, Any], defaults: Mapping[str, str]
) -> tuple[str, Any]:
    """The configured estimator (``defaults[task]`` for ``auto``), built with ``params``.

    :raises ConfigError: a path that does not import, or parameters it does not take.
    """
    path = cfg["estimator"] if cfg["estimator"] != "auto" else defaults[task]
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


def build_pipeline(
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
                                categories=text_categories(X, text, cfg),
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


def text_categories(X: Any, text: list[str], cfg: Mapping[str, Any]) -> Any:
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
