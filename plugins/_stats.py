"""Numbers shared by the trainer, the gates and the drift monitor: task metrics, the
reference profile of the training features, and the drift statistics computed against it.
Which way each metric is better is :mod:`hookline.plugins.metrics`' table, nowhere else.

numpy, pandas and scikit-learn are imported inside the functions; the drift statistics
themselves (:mod:`hookline.stats`) need numpy alone.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

from hookline.stats import ks_2samp, psi

__all__ = [
    "compare_metric",
    "feature_drift",
    "metrics_for",
    "psi",
    "reference_profile",
]

NULL = "__null__"
OTHER = "__other__"


def compare_metric(task: str, configured: str = "auto") -> str:
    """The metric models are compared on: ``f1`` for classification, ``rmse`` for
    regression, unless configured."""
    if configured != "auto":
        return configured
    return "f1" if task == "classification" else "rmse"


def metrics_for(
    task: str,
    estimator: Any,
    X: Any,
    y: Any,
    *,
    predicted: Any = None,
    proba: Any = None,
    probabilities: bool = True,
) -> dict[str, float]:
    """Hold-out metrics. Classification: accuracy, f1 (binary F1 of the second class, macro
    for multiclass), roc_auc when defined; regression: rmse, mae, r2.

    :param predicted: the estimator's predictions for ``X`` when already computed.
    :param proba: its class probabilities for ``X`` when already computed.
    :param probabilities: compute class probabilities when not given (for roc_auc); without
        them roc_auc is left out, which spares a second pass over ``X``.
    """
    import numpy as np
    from sklearn import metrics as m

    if predicted is None:
        predicted = estimator.predict(X)
    if task == "regression":
        y_true = np.asarray(y, dtype="float64")
        y_pred = np.asarray(predicted, dtype="float64")
        return {
            "rmse": float(math.sqrt(m.mean_squared_error(y_true, y_pred))),
            "mae": float(m.mean_absolute_error(y_true, y_pred)),
            "r2": float(m.r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan"),
        }
    y = np.asarray(y)  # once, rather than in every metric (pandas/arrow strings convert slowly)
    present = set(y.tolist())
    fitted = getattr(estimator, "classes_", None)
    classes = list(fitted) if fitted is not None else sorted(present | set(predicted))
    # binary F1 only when every label is one of the two classes (an evaluation set may hold
    # classes this model never saw: then macro F1 over all of them)
    binary = len(classes) == 2 and present <= set(classes)
    out = {"accuracy": float(m.accuracy_score(y, predicted))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if binary:
            out["f1"] = float(
                m.f1_score(y, predicted, pos_label=classes[1], average="binary", zero_division=0)
            )
        else:
            out["f1"] = float(m.f1_score(y, predicted, average="macro", zero_division=0))
        can = proba is not None or (probabilities and hasattr(estimator, "predict_proba"))
        if can and len(present) > 1 and present <= set(classes):
            try:
                if proba is None:
                    proba = estimator.predict_proba(X)
                if binary:
                    out["roc_auc"] = float(m.roc_auc_score(y, proba[:, 1]))
                elif len(present) == len(classes):
                    out["roc_auc"] = float(
                        m.roc_auc_score(y, proba, multi_class="ovr", labels=classes)
                    )
            except ValueError:
                pass
    return out


# --- reference profile --------------------------------------------------------------------


def reference_profile(
    X: Any,
    features: Mapping[str, Mapping[str, Any]],
    *,
    bins: int = 10,
    sketch: int = 1000,
    top: int = 50,
) -> dict[str, Any]:
    """Per-feature statistics of the training data, the baseline drift is measured against.

    Numbers: quantile bin edges with the share of rows in each bin (and of nulls), summary
    statistics, and a quantile sketch (up to ``sketch`` evenly spaced quantiles) that stands
    in for the training sample in a KS test. Text and booleans: category shares (the ``top``
    most frequent, the rest pooled as ``__other__``, nulls as ``__null__``).
    """
    import numpy as np

    out: dict[str, Any] = {}
    for name, spec in features.items():
        column = X[name]
        null_share = float(column.isna().mean()) if len(column) else 0.0
        if spec.get("dtype") in ("number", "integer"):
            values = column.dropna().to_numpy(dtype="float64")
            values = values[np.isfinite(values)]
            if len(values) == 0:
                out[name] = {
                    "kind": "numeric",
                    "count": 0,
                    "null_share": null_share,
                    "edges": [],
                    "shares": [],
                    "null_bin": null_share,
                    "sketch": [],
                }
                continue
            levels = np.linspace(0, 1, bins + 1)[1:-1]
            edges = np.unique(np.quantile(values, levels)).tolist()
            counts = np.bincount(
                np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1
            )
            non_null = 1.0 - null_share
            k = int(min(len(values), sketch))
            out[name] = {
                "kind": "numeric",
                "count": len(values),
                "null_share": null_share,
                "edges": edges,
                "shares": (counts / len(values) * non_null).tolist(),
                "null_bin": null_share,
                "min": float(values.min()),
                "max": float(values.max()),
                "mean": float(values.mean()),
                "std": float(values.std()),
                "sketch": np.quantile(values, np.linspace(0, 1, k)).tolist(),
            }
        else:
            counts = column.astype("str").where(column.notna(), NULL).value_counts()
            total = float(counts.sum()) or 1.0
            kept = counts.drop(NULL, errors="ignore").head(top)
            shares = {str(k): float(v) / total for k, v in kept.items()}
            rest = 1.0 - sum(shares.values()) - null_share
            out[name] = {
                "kind": "categorical",
                "count": int(column.notna().sum()),
                "null_share": null_share,
                "shares": shares,
                "other_share": max(0.0, rest),
            }
    return out


# --- drift ------------------------------------------------------------------------------


def feature_drift(
    reference: Mapping[str, Any], column: Any, categories: list[str] | None = None
) -> dict[str, Any]:
    """Drift of one batch column against its reference entry.

    :returns: ``{"psi", "ks_statistic", "ks_pvalue" (numbers only), "null_share",
        "reference_null_share", "unseen" (categories absent from training), "rows"}``.
    """
    import numpy as np

    rows = len(column)
    null_share = float(column.isna().mean()) if rows else 0.0
    result: dict[str, Any] = {
        "rows": rows,
        "null_share": null_share,
        "reference_null_share": reference.get("null_share", 0.0),
    }
    if reference.get("kind") == "numeric":
        values = column.dropna().to_numpy(dtype="float64")
        values = values[np.isfinite(values)]
        edges = reference.get("edges", [])
        if rows == 0 or not reference.get("count"):
            return {**result, "psi": None, "ks_statistic": None, "ks_pvalue": None}
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        shares = (counts / max(len(values), 1) * (1.0 - null_share)).tolist()
        result["psi"] = psi([*reference["shares"], reference["null_bin"]], [*shares, null_share])
        if len(values) >= 2 and len(reference.get("sketch", [])) >= 2:
            # numpy only (hookline.stats): scoring runs where scipy is not installed
            test = ks_2samp(np.asarray(reference["sketch"]), values)
            result["ks_statistic"] = float(test.statistic)
            result["ks_pvalue"] = float(test.pvalue)
        else:
            result["ks_statistic"] = result["ks_pvalue"] = None
        result["mean"] = float(values.mean()) if len(values) else None
        result["reference_mean"] = reference.get("mean")
        return result
    text = column.astype("str").where(column.notna(), NULL)
    counts = text.value_counts()
    total = float(rows) or 1.0
    ref_shares: Mapping[str, float] = reference.get("shares", {})
    cats = list(ref_shares)
    expected = [ref_shares[c] for c in cats] + [
        reference.get("other_share", 0.0),
        reference.get("null_share", 0.0),
    ]
    actual = [counts.get(c, 0) / total for c in cats]
    null_now = counts.get(NULL, 0) / total
    actual += [max(0.0, 1.0 - sum(actual) - null_now), null_now]
    result["psi"] = psi(expected, actual) if rows else None
    known = set(categories) if categories is not None else set(cats)
    observed = [c for c in counts.index if c != NULL]
    unseen = [c for c in observed if c not in known]
    result["unseen"] = int(sum(counts[c] for c in unseen))
    result["unseen_values"] = [str(c)[:40] for c in unseen[:10]]
    return result
