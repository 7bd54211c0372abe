"""How the trainer measures a model, with scikit-learn's own model selection and inspection.

* The hold-out: a seeded random split (stratified for classes), whole groups of a column
  (:class:`~sklearn.model_selection.GroupShuffleSplit`), or the latest rows by a time
  column.
* Optional k-fold cross-validation on the training rows with
  :func:`~sklearn.model_selection.cross_validate` and the splitter matching the hold-out:
  :class:`~sklearn.model_selection.StratifiedKFold` (or ``KFold`` for regression),
  :class:`~sklearn.model_selection.GroupKFold`, or the forward-chaining
  :class:`~sklearn.model_selection.TimeSeriesSplit`; mean and spread of every metric.
* The model card's evaluation: per-class metrics and the confusion matrix
  (:func:`~sklearn.metrics.classification_report`, :func:`~sklearn.metrics.confusion_matrix`)
  or a residual summary, and :func:`~sklearn.inspection.permutation_importance` on the
  hold-out.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hookline.errors import ConfigError, DataError

__all__ = [
    "Split",
    "cross_validation",
    "evaluation",
    "holdout",
    "importance",
    "scorers",
    "splitter",
]

_MAX_CLASSES_SHOWN = 50
_QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


@dataclass(frozen=True, slots=True)
class Split:
    """The hold-out split: training and hold-out rows, and how they were chosen.

    :param groups: the group (``group``) or time (``time``) values of the training rows, in
        their order, for the cross-validation splitter; ``None`` for a random split.
    """

    X_train: Any
    X_test: Any
    y_train: Any
    y_test: Any
    how: str
    stratified: bool
    groups: Any = None


def _column(frame: Any, cfg: Mapping[str, Any], uri: str | None) -> Any:
    name = cfg["split_column"]
    if not name:
        raise ConfigError(
            f'split = "{cfg["split"]}" needs the column to split by',
            key="plugins.sklearn.split_column",
            hint="name the group or time column",
        )
    if name not in frame.columns:
        raise DataError(
            f"the split column {name!r} is missing",
            uri=uri,
            hint="fix [plugins.sklearn] split_column",
        )
    values = frame[name]
    if values.isna().any():
        raise DataError(
            f"the split column {name!r} has {int(values.isna().sum())} empty value(s): "
            "every row needs a group or a time to be split by it",
            uri=uri,
            hint="fill them, or drop those rows",
        )
    return values


def holdout(
    frame: Any, features: list[str], target: str, task: str, cfg: Mapping[str, Any], uri: Any
) -> Split:
    """Split ``frame`` into training and hold-out rows as ``[plugins.sklearn] split`` says."""
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    X, y = frame[features], frame[target]
    size = cfg["test_size"]
    if cfg["split"] == "group":
        groups = _column(frame, cfg, uri)
        if groups.nunique() < 2:
            raise DataError(
                f"the group column {cfg['split_column']!r} has a single group: a hold-out "
                "of whole groups needs at least two",
                uri=uri,
            )
        train_idx, test_idx = next(
            GroupShuffleSplit(n_splits=1, test_size=size, random_state=cfg["seed"]).split(
                X, y, groups
            )
        )
        return Split(
            X.iloc[train_idx],
            X.iloc[test_idx],
            y.iloc[train_idx],
            y.iloc[test_idx],
            f"whole groups of {cfg['split_column']!r} ({groups.iloc[test_idx].nunique()} of "
            f"{groups.nunique()} held out)",
            False,
            groups.iloc[train_idx].to_numpy(),
        )
    if cfg["split"] == "time":
        times = _column(frame, cfg, uri)
        order = times.sort_values(kind="stable").index
        X, y, times = X.loc[order], y.loc[order], times.loc[order]
        n_test = max(1, math.ceil(len(y) * size))
        cut = len(y) - n_test
        return Split(
            X.iloc[:cut],
            X.iloc[cut:],
            y.iloc[:cut],
            y.iloc[cut:],
            f"the latest {n_test} rows by {cfg['split_column']!r} (from {times.iloc[cut]})",
            False,
            times.iloc[:cut].to_numpy(),
        )
    stratify = None
    if task == "classification":
        counts = y.value_counts()
        n_test = math.ceil(len(y) * size)
        if cfg["stratify"] and counts.min() >= 2 and n_test >= len(counts):
            stratify = y
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=size, random_state=cfg["seed"], stratify=stratify
    )
    how = f"seeded random {size:.0%}" + (", stratified by class" if stratify is not None else "")
    return Split(X_train, X_test, y_train, y_test, how, stratify is not None)


def splitter(task: str, cfg: Mapping[str, Any], folds: int) -> tuple[Any, str]:
    """The cross-validation splitter matching the hold-out split, and its description."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, TimeSeriesSplit

    if cfg["split"] == "group":
        return GroupKFold(n_splits=folds), f"GroupKFold({folds}) by {cfg['split_column']!r}"
    if cfg["split"] == "time":
        return (
            TimeSeriesSplit(n_splits=folds),
            f"TimeSeriesSplit({folds}): forward chaining by {cfg['split_column']!r}",
        )
    if task == "classification" and cfg["stratify"]:
        return (
            StratifiedKFold(n_splits=folds, shuffle=True, random_state=cfg["seed"]),
            f"StratifiedKFold({folds}, shuffled, seed {cfg['seed']})",
        )
    return (
        KFold(n_splits=folds, shuffle=True, random_state=cfg["seed"]),
        f"KFold({folds}, shuffled, seed {cfg['seed']})",
    )


def scorers(task: str, classes: list[Any], positive: Any) -> dict[str, Any]:
    """scikit-learn scorers for the trainer's metrics (errors as positive numbers once
    :func:`cross_validation` flips the ``neg_`` ones back)."""
    from sklearn.metrics import f1_score, make_scorer

    if task == "regression":
        return {
            "rmse": "neg_root_mean_squared_error",
            "mae": "neg_mean_absolute_error",
            "r2": "r2",
        }
    if len(classes) == 2:
        return {
            "accuracy": "accuracy",
            "f1": make_scorer(f1_score, pos_label=positive, zero_division=0),
            "roc_auc": "roc_auc",
        }
    return {"accuracy": "accuracy", "f1": "f1_macro", "roc_auc": "roc_auc_ovr"}


_NEGATED = {"rmse", "mae"}


def cross_validation(
    pipeline: Any,
    split: Split,
    task: str,
    cfg: Mapping[str, Any],
    classes: list[Any],
    positive: Any,
) -> dict[str, Any]:
    """``cross_validate`` on the training rows: per metric its folds, mean and spread."""
    import numpy as np
    from sklearn.model_selection import cross_validate

    folds = int(cfg["cv_folds"])
    cv, how = splitter(task, cfg, folds)
    started = time.perf_counter()
    result = cross_validate(
        pipeline,
        split.X_train,
        split.y_train,
        groups=split.groups if cfg["split"] == "group" else None,
        cv=cv,
        scoring=scorers(task, classes, positive),
        error_score=np.nan,
        n_jobs=1,
    )
    metrics: dict[str, Any] = {}
    for name in scorers(task, classes, positive):
        values = np.asarray(result[f"test_{name}"], dtype="float64")
        if name in _NEGATED:
            values = -values
        finite = values[np.isfinite(values)]
        if not len(finite):
            continue
        metrics[name] = {
            "mean": float(finite.mean()),
            "std": float(finite.std(ddof=1)) if len(finite) > 1 else 0.0,
            "folds": [float(v) if math.isfinite(v) else None for v in values],
        }
    return {
        "folds": folds,
        "splitter": how,
        "rows": len(split.y_train),
        "metrics": metrics,
        "seconds": round(time.perf_counter() - started, 3),
        "fit_seconds": [round(float(t), 4) for t in result["fit_time"]],
    }


def evaluation(pipeline: Any, split: Split, task: str, classes: list[Any]) -> dict[str, Any]:
    """Per-class metrics and the confusion matrix, or the residuals, on the hold-out."""
    import numpy as np
    from sklearn.metrics import classification_report, confusion_matrix

    predicted = pipeline.predict(split.X_test)
    if task == "regression":
        y = np.asarray(split.y_test, dtype="float64")
        residuals = y - np.asarray(predicted, dtype="float64")
        counts, edges = np.histogram(residuals, bins=min(20, max(2, len(residuals) // 5)))
        return {
            "residuals": {
                "rows": len(residuals),
                "mean": float(residuals.mean()),
                "std": float(residuals.std()),
                "quantiles": {
                    f"p{int(q * 100):02d}": float(np.quantile(residuals, q)) for q in _QUANTILES
                },
                "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
            }
        }
    if len(classes) > _MAX_CLASSES_SHOWN:
        return {"per_class": None, "note": f"{len(classes)} classes: too many to show"}
    y = np.asarray(split.y_test)
    report = classification_report(y, predicted, labels=classes, output_dict=True, zero_division=0)
    per_class = {
        str(c): {
            "precision": float(report[str(c)]["precision"]),
            "recall": float(report[str(c)]["recall"]),
            "f1": float(report[str(c)]["f1-score"]),
            "support": int(report[str(c)]["support"]),
        }
        for c in classes
        if str(c) in report
    }
    matrix = confusion_matrix(y, predicted, labels=classes)
    return {
        "per_class": per_class,
        "confusion_matrix": {"labels": [str(c) for c in classes], "matrix": matrix.tolist()},
    }


def importance(
    pipeline: Any,
    split: Split,
    task: str,
    cfg: Mapping[str, Any],
    classes: list[Any],
    positive: Any,
    metric: str,
) -> dict[str, Any] | None:
    """Permutation importance of each input column on (a sample of) the hold-out, scored
    with the metric models are compared on."""
    from sklearn.inspection import permutation_importance

    if not cfg["importance"] or len(split.y_test) < 2:
        return None
    rows = min(len(split.y_test), max(2, int(cfg["importance_rows"])))
    X, y = split.X_test, split.y_test
    if rows < len(y):
        X = X.sample(n=rows, random_state=cfg["seed"])
        y = y.loc[X.index]
    scoring = scorers(task, classes, positive).get(metric) or (
        "neg_root_mean_squared_error" if task == "regression" else "accuracy"
    )
    started = time.perf_counter()
    result = permutation_importance(
        pipeline,
        X,
        y,
        scoring=scoring,
        n_repeats=int(cfg["importance_repeats"]),
        random_state=cfg["seed"],
        n_jobs=1,
    )
    triples = sorted(
        zip(X.columns, result.importances_mean, result.importances_std, strict=True),
        key=lambda t: -float(t[1]),
    )
    ranked = [
        {"feature": str(name), "mean": float(mean), "std": float(std)}
        for name, mean, std in triples
    ]
    return {
        "metric": metric if metric in scorers(task, classes, positive) else str(scoring),
        "rows": rows,
        "repeats": int(cfg["importance_repeats"]),
        "seconds": round(time.perf_counter() - started, 3),
        "features": ranked[:50],
    }
