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
    "adjust_pvalues",
    "chi2_sf",
    "compare_metric",
    "feature_drift",
    "metrics_for",
    "positive_class",
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
    pos_label: Any = None,
) -> dict[str, float]:
    """Hold-out metrics. Classification: accuracy, f1 (binary: F1 of the positive class,
    ``pos_label`` or else the second class in sorted order; macro for multiclass), roc_auc
    when defined; regression: rmse, mae, r2.

    :param predicted: the estimator's predictions for ``X`` when already computed.
    :param proba: its class probabilities for ``X`` when already computed.
    :param probabilities: compute class probabilities when not given (for roc_auc); without
        them roc_auc is left out, which spares a second pass over ``X``.
    :param pos_label: the positive class of a binary target, matched by its text (``"1"``
        names the integer class ``1``); ``None``: the second class in sorted order.
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
    positive = positive_class(classes, pos_label) if binary else None
    out = {"accuracy": float(m.accuracy_score(y, predicted))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if binary:
            out["f1"] = float(
                m.f1_score(y, predicted, pos_label=positive, average="binary", zero_division=0)
            )
        else:
            out["f1"] = float(m.f1_score(y, predicted, average="macro", zero_division=0))
        can = proba is not None or (probabilities and hasattr(estimator, "predict_proba"))
        if can and len(present) > 1 and present <= set(classes):
            try:
                if proba is None:
                    proba = estimator.predict_proba(X)
                if binary:
                    column = classes.index(positive)
                    out["roc_auc"] = float(
                        m.roc_auc_score(y == positive, np.asarray(proba)[:, column])
                    )
                elif len(present) == len(classes):
                    out["roc_auc"] = float(
                        m.roc_auc_score(y, proba, multi_class="ovr", labels=classes)
                    )
            except ValueError:
                pass
    return out


def positive_class(classes: Any, pos_label: Any = None) -> Any:
    """The positive class of a binary target: the one whose text is ``pos_label``, else the
    second of ``classes`` (sorted order, as scikit-learn's ``classes_``).

    :raises ValueError: ``pos_label`` names none of the classes.
    """
    classes = list(classes)
    if pos_label is None:
        return classes[-1]
    for cls in classes:
        if str(cls) == str(pos_label):
            return cls
    raise ValueError(
        f"pos_label {pos_label!r} is not one of the classes {', '.join(map(repr, classes))}"
    )


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


def chi2_sf(x: float, dof: int) -> float:
    """The upper tail ``P(X > x)`` of a chi-square distribution with integer ``dof``, in
    closed form (the regularised upper incomplete gamma at half-integers): the drift
    monitor scores where scipy is not installed.
    """
    if dof < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {dof}")
    if x <= 0:
        return 1.0
    half = x / 2.0
    if dof % 2 == 0:  # Q(k, x/2) = e^(-x/2) * sum_{i<k} (x/2)^i / i!
        term = total = 1.0
        for i in range(1, dof // 2):
            term *= half / i
            total += term
        return min(1.0, math.exp(-half) * total) if half < 745 else 0.0
    # Q(k + 1/2, x/2) = erfc(sqrt(x/2)) + e^(-x/2) sum_{i=1..k} (x/2)^(i-1/2) / Gamma(i+1/2)
    total = math.erfc(math.sqrt(half))
    if dof > 1:
        log_half = math.log(half)
        total += sum(
            math.exp((i - 0.5) * log_half - half - math.lgamma(i + 0.5))
            for i in range(1, (dof - 1) // 2 + 1)
        )
    return min(1.0, total)


def adjust_pvalues(pvalues: Mapping[str, float], method: str) -> dict[str, float]:
    """p-values adjusted for testing many features at once, so that a batch raises a false
    alarm at most at the test level whatever the number of features: ``holm``
    (Holm-Bonferroni step-down, the default), ``bonferroni``, or ``none``.
    """
    if method == "none" or not pvalues:
        return dict(pvalues)
    m = len(pvalues)
    if method == "bonferroni":
        return {k: min(1.0, p * m) for k, p in pvalues.items()}
    if method != "holm":
        raise ValueError(f"unknown correction {method!r}")
    adjusted: dict[str, float] = {}
    running = 0.0
    for rank, (key, p) in enumerate(sorted(pvalues.items(), key=lambda kv: kv[1])):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[key] = running
    return adjusted


def _psi_test(
    expected: list[float], actual: list[float], rows: int, reference_rows: float
) -> float | None:
    """The p-value of a batch's bin shares under "no drift": Pearson's chi-square test of
    the batch's counts per bin against the reference shares, scaled for the reference
    being a sample too. (PSI itself is the effect size; its own large-sample law fails on
    small batches, where one empty bin makes it explode.) A bin the training rows never
    filled is taken to hold half a row of them."""
    bins = sum(1 for share in expected if share > 1e-9)
    if bins < 2 or rows < 1:
        return None
    floor = 0.5 / reference_rows if reference_rows else 1e-9
    statistic = 0.0
    for e, a in zip(expected, actual, strict=True):
        want = rows * max(e, floor)
        statistic += (rows * a - want) ** 2 / want
    if reference_rows:
        statistic *= reference_rows / (rows + reference_rows)
    return chi2_sf(statistic, bins - 1)


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
            return {
                **result,
                "psi": None,
                "psi_pvalue": None,
                "ks_statistic": None,
                "ks_pvalue": None,
            }
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        shares = (counts / max(len(values), 1) * (1.0 - null_share)).tolist()
        expected_shares = [*reference["shares"], reference["null_bin"]]
        result["psi"] = psi(expected_shares, [*shares, null_share])
        result["psi_pvalue"] = _psi_test(
            expected_shares, [*shares, null_share], rows, _reference_rows(reference)
        )
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
    result["psi_pvalue"] = (
        _psi_test(expected, actual, rows, _reference_rows(reference)) if rows else None
    )
    known = set(categories) if categories is not None else set(cats)
    observed = [c for c in counts.index if c != NULL]
    unseen = [c for c in observed if c not in known]
    result["unseen"] = int(sum(counts[c] for c in unseen))
    result["unseen_values"] = [str(c)[:40] for c in unseen[:10]]
    return result


def _reference_rows(reference: Mapping[str, Any]) -> float:
    """How many training rows a reference entry summarises (its non-null count over the
    non-null share)."""
    count = float(reference.get("count") or 0)
    non_null = 1.0 - float(reference.get("null_share") or 0.0)
    return count / non_null if non_null > 1e-9 else count
