"""The built-in ``monitor``: score a batch and measure drift (entry point ``drift``).

The batch is scored with the ``production`` model and the predictions are written next to
the run (``runs/<run_id>/predictions.csv``). Each feature is compared with the reference
profile saved at training time: PSI for every column, a KS test for numeric ones.
When labels are present, performance on the batch is compared with the model's hold-out
metrics (decay). When a ``challenger`` alias exists, the challenger scores the same batch
and the two are compared (shadow evaluation). The full report is JSON under
``monitoring/<model>/reports/``; with ``retrain_on_drift = true`` drift or decay writes a
retrain request under ``monitoring/<model>/retrain/``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from hookline import hookimpl, jsonio, layout
from hookline.config import Option
from hookline.errors import DataError, NotFound
from hookline.events import utc_now_iso
from hookline.jsonio import jsonable
from hookline.plugins._common import settings
from hookline.plugins.metrics import (
    check_metric_name,
    describe_change,
    is_better,
    lower_is_better,
    worsening,
)
from hookline.retrain import RetrainRequests
from hookline.types import Dataset, MonitorReport, RunContext

NAME = "drift"

CONFIG = {
    "alias": Option(str, "production", "the alias whose model scores the batch"),
    "psi_threshold": Option(float, 0.2, "a feature drifts when its PSI exceeds this"),
    "ks_pvalue": Option(
        float, 0.01, "a numeric feature drifts when its KS test p-value falls below this"
    ),
    "method": Option(
        str,
        "any",
        "which tests flag a numeric feature: `psi`, `ks`, `any` (either) or `both`",
        choices=("psi", "ks", "any", "both"),
    ),
    "min_drifted_features": Option(int, 1, "the batch drifts when at least this many features do"),
    "max_metric_drop": Option(
        float,
        0.1,
        "performance decay: how much worse a labelled batch's metric may be than the "
        "model's hold-out value, relative to it and in the metric's own terms (0.1: 10% "
        "lower F1, or 10% higher RMSE)",
    ),
    "decay_metric": Option(
        str,
        "auto",
        "metric watched for decay; `auto`: f1 or rmse",
        check=check_metric_name(allow=("auto",)),
    ),
    "retrain_on_drift": Option(bool, False, "on drift or decay, write a retrain request"),
    "write_predictions": Option(bool, True, "write runs/<run_id>/predictions.csv"),
    "probabilities": Option(bool, True, "add a probability column per class"),
    "id_columns": Option(list, [], "batch columns copied into predictions.csv"),
    "shadow": Option(bool, True, "also score with the challenger alias when it exists"),
    "challenger_alias": Option(str, "challenger", "the alias of the shadow model"),
}


@hookimpl(trylast=True)
def monitor(ctx: RunContext, dataset: Dataset) -> MonitorReport | None:
    """Score ``dataset`` with the production model and report drift and decay."""
    cfg = settings(ctx, NAME, CONFIG)
    from hookline.plugins._stats import compare_metric, metrics_for

    name = ctx.model_name
    current = ctx.registry.resolve(name, cfg["alias"])
    if current is None:  # nothing to watch yet: say so in the run record
        ctx.log.warning("model %r has no %r version yet: nothing to score", name, cfg["alias"])
        ctx.notes["drift"] = (
            f"model {name!r} has no {cfg['alias']!r} version yet: nothing "
            "scored; train one first (upload to the training pipeline)"
        )
        return None
    estimator, mv = ctx.registry.load_model(name, version=current.version)
    features: Mapping[str, Any] = mv.manifest.get("features") or {}
    task = mv.manifest.get("task", "classification")
    frame = dataset.frame
    uri = dataset.source.uri if dataset.source else None
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise DataError(
            f"the batch lacks column(s) model {name!r} v{mv.version} needs: "
            f"{', '.join(map(repr, missing))}",
            uri=uri,
            hint="send every feature column the model was trained on",
        )
    X = frame[list(features)] if features else frame
    predicted = estimator.predict(X)
    proba = (
        estimator.predict_proba(X)
        if task == "classification" and hasattr(estimator, "predict_proba")
        else None
    )

    reference = _reference(ctx, name, mv.version)
    per_feature = {f: _judge(_drift(reference, f, frame[f], features[f]), cfg) for f in features}
    drifted_features = [f for f, r in per_feature.items() if r.get("drifted")]
    drifted = bool(reference) and len(drifted_features) >= cfg["min_drifted_features"]
    unseen = {f: r["unseen"] for f, r in per_feature.items() if r.get("unseen")}

    target = mv.manifest.get("target")
    metrics: dict[str, float] = {}
    decay: dict[str, Any] = {}
    labelled = None
    if target and target in frame.columns and frame[target].notna().any():
        labelled = frame[target].notna().to_numpy()
        metrics = metrics_for(
            task,
            estimator,
            X[labelled],
            frame[target][labelled],
            predicted=predicted[labelled],
            proba=None if proba is None else proba[labelled],
        )
        metric = compare_metric(task, cfg["decay_metric"])
        baseline = mv.metrics.get(metric)
        if metric in metrics and baseline is not None:
            limit = cfg["max_metric_drop"]
            drop = worsening(metric, baseline, metrics[metric])
            lower = lower_is_better(metric)
            decay = {
                "metric": metric,
                "baseline": baseline,
                "batch": metrics[metric],
                "drop": drop,  # relative, in the metric's own terms: 0.1 is 10% worse
                "max_drop": limit,
                "decayed": drop > limit,
                "threshold": baseline + limit * abs(baseline)
                if lower
                else baseline - limit * abs(baseline),
                "change": describe_change(metric, baseline, metrics[metric]),
                "labelled_rows": int(labelled.sum()),
            }

    shadow = _shadow(ctx, cfg, mv.version, X, predicted, task, frame, target, labelled)
    predictions_uri = None
    if cfg["write_predictions"]:
        predictions_uri = _write_predictions(
            ctx, cfg, frame, predicted, proba, estimator, shadow.pop("_predicted", None)
        )

    report_key = layout.monitoring_report_key(name, ctx.run_id)
    report_uri = ctx.storage.url(report_key)
    reasons = []
    if drifted:
        reasons.append(
            f"drift in {len(drifted_features)} feature(s): {', '.join(drifted_features[:10])}"
        )
    if decay.get("decayed"):
        reasons.append(
            f"performance decay: {decay['change']} against the hold-out, over the "
            f"limit of {decay['max_drop']:.0%}"
        )
    request_uri = None
    if reasons and cfg["retrain_on_drift"]:
        request_uri = RetrainRequests(ctx.storage).open(
            name,
            request_id=ctx.run_id,
            reason="; ".join(reasons),
            version=mv.version,
            features=drifted_features,
            report=report_uri,
        )
    report = jsonable(
        {
            "model": name,
            "version": mv.version,
            "alias": cfg["alias"],
            "run_id": ctx.run_id,
            "created_at": utc_now_iso(),
            "source": uri,
            "rows": len(frame),
            "drifted": drifted,
            "drifted_features": drifted_features,
            "thresholds": {
                k: cfg[k]
                for k in (
                    "psi_threshold",
                    "ks_pvalue",
                    "method",
                    "min_drifted_features",
                    "max_metric_drop",
                )
            },
            "features": per_feature,
            "unseen_categories": unseen,
            "metrics": metrics,
            "decay": decay,
            "shadow": shadow,
            "predictions": predictions_uri,
            "retrain_request": request_uri,
            "reasons": reasons,
            "reference": "reference_profile.json" if reference else None,
            "details": {
                "performance": {k: decay[k] for k in ("metric", "baseline", "threshold")}
                if decay
                else {}
            },
        }
    )
    ctx.storage.write(report_key, jsonio.dumps(report))
    return MonitorReport(
        name="drift",
        model=name,
        version=mv.version,
        drifted=drifted,
        features=report["features"],
        metrics=report["metrics"],
        retrain_requested=request_uri is not None,
        uri=report_uri,
        details={
            "rows": len(frame),
            "drifted_features": drifted_features,
            "unseen_categories": report["unseen_categories"],
            "decay": report["decay"],
            "shadow": report["shadow"],
            "predictions": predictions_uri,
            "retrain_request": request_uri,
            "reasons": reasons,
        },
    )


def _reference(ctx: RunContext, name: str, version: int) -> dict[str, Any]:
    try:
        raw = ctx.registry.read_artifact(name, version, "reference_profile.json")
    except NotFound:
        return {}
    return dict(json.loads(raw).get("features") or {})


def _drift(
    reference: Mapping[str, Any], feature: str, column: Any, spec: Mapping[str, Any]
) -> dict[str, Any]:
    from hookline.plugins._stats import feature_drift

    ref = reference.get(feature)
    if ref is None:
        return {"rows": len(column), "psi": None, "note": "no reference for this feature"}
    return feature_drift(ref, column, spec.get("categories"))


def _judge(result: dict[str, Any], cfg: Mapping[str, Any]) -> dict[str, Any]:
    psi, p = result.get("psi"), result.get("ks_pvalue")
    by_psi = psi is not None and psi > cfg["psi_threshold"]
    by_ks = p is not None and p < cfg["ks_pvalue"]
    method = cfg["method"]
    if p is None:  # categorical (or too few values for KS): PSI decides
        drifted = by_psi if method != "ks" else False
    elif method == "psi":
        drifted = by_psi
    elif method == "ks":
        drifted = by_ks
    elif method == "both":
        drifted = by_psi and by_ks
    else:
        drifted = by_psi or by_ks
    return {**result, "drifted": bool(drifted), "threshold": cfg["psi_threshold"]}


def _shadow(
    ctx: RunContext,
    cfg: Mapping[str, Any],
    version: int,
    X: Any,
    predicted: Any,
    task: str,
    frame: Any,
    target: str | None,
    labelled: Any,
) -> dict[str, Any]:
    import numpy as np
    from hookline.plugins._stats import compare_metric, metrics_for

    if not cfg["shadow"]:
        return {}
    state = ctx.registry.alias(ctx.model_name, cfg["challenger_alias"])
    if state is None or state.version is None or state.version == version:
        return {}
    out: dict[str, Any] = {
        "alias": cfg["challenger_alias"],
        "version": state.version,
        "production_version": version,
    }
    try:
        challenger, _ = ctx.registry.load_model(ctx.model_name, version=state.version)
        theirs = challenger.predict(X)
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out
    if task == "classification":
        out["agreement"] = float(np.mean(np.asarray(theirs) == np.asarray(predicted)))
    else:
        out["mean_abs_difference"] = float(
            np.mean(
                np.abs(np.asarray(theirs, dtype="float64") - np.asarray(predicted, dtype="float64"))
            )
        )
    if labelled is not None and target:
        y = frame[target][labelled]
        mine = metrics_for(task, None, None, y, predicted=predicted[labelled], proba=None)
        other = metrics_for(task, None, None, y, predicted=np.asarray(theirs)[labelled], proba=None)
        metric = compare_metric(task, "auto")
        out["metrics"] = {"production": mine, "challenger": other}
        if metric in mine and metric in other:
            better = other[metric] != mine[metric] and is_better(
                metric, other[metric], mine[metric]
            )
            out["challenger_better"] = bool(better)
            out["metric"] = metric
    out["_predicted"] = theirs
    return out


def _write_predictions(
    ctx: RunContext,
    cfg: Mapping[str, Any],
    frame: Any,
    predicted: Any,
    proba: Any,
    estimator: Any,
    challenger: Any,
) -> str:
    import pandas as pd

    out = pd.DataFrame({"row": range(1, len(frame) + 1)})
    for column in cfg["id_columns"]:
        if column in frame.columns:
            out[column] = frame[column].to_numpy()
    out["prediction"] = predicted
    if proba is not None and cfg["probabilities"]:
        for i, cls in enumerate(getattr(estimator, "classes_", range(proba.shape[1]))):
            out[f"proba_{cls}"] = proba[:, i]
    if challenger is not None:
        out["challenger_prediction"] = challenger
    buffer = io.StringIO()
    out.to_csv(buffer, index=False)
    return ctx.write_output("predictions.csv", buffer.getvalue().encode())
