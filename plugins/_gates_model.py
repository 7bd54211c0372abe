"""The gates' model checks: metric thresholds, beating production on the same hold-out,
the latency budget and the model size budget (see :mod:`hookline.plugins.gates`)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hookline.errors import HooklineError
from hookline.plugins.metrics import direction, is_better
from hookline.plugins.metrics import threshold as beat_threshold
from hookline.types import CheckResult, RunContext, TrainedModel

__all__ = ["Latency", "check", "measure_latency", "model_checks"]


def check(
    name: str, passed: bool, observed: Any, threshold: Any, kind: str, message: str
) -> CheckResult:
    """A blocking check result (``validate`` downgrades the ``warn_only`` ones)."""
    return CheckResult(
        name,
        passed,
        observed,
        threshold,
        True,
        kind,  # type: ignore[arg-type]
        message,
    )


def model_checks(ctx: RunContext, model: TrainedModel, cfg: Mapping[str, Any]) -> list[CheckResult]:
    """The model checks for ``model``, configured by the ``[plugins.gates]`` table ``cfg``."""
    checks = []
    for bound, table in (("min", cfg["min_metrics"]), ("max", cfg["max_metrics"])):
        for name, bar in table.items():
            checks.append(_metric_bound(model, name, bar, bound))
    if cfg["must_beat_production"]:
        checks.append(_beats_production(ctx, model, cfg))
    holdout = model.holdout
    if holdout is not None and len(holdout[0]):
        checks.append(_latency(model, holdout[0], cfg))
    from hookline.plugins._artifact import model_bytes

    try:
        size = len(model_bytes(model.estimator))
        checks.append(
            check(
                "model_size",
                size <= cfg["max_model_bytes"],
                size,
                cfg["max_model_bytes"],
                "model",
                f"serialised model is {size:,} bytes",
            )
        )
    except Exception as exc:
        checks.append(
            check(
                "model_size",
                False,
                None,
                cfg["max_model_bytes"],
                "model",
                f"the model cannot be saved with skops: {exc}",
            )
        )
    return checks


def _metric_bound(model: TrainedModel, name: str, bar: float, bound: str) -> CheckResult:
    """``min_metrics`` / ``max_metrics``: the config loader made sure the bound is on the
    side where it rejects the worse models (no minimum RMSE)."""
    value = model.metrics.get(name)
    if value is None:
        return check(
            f"metric.{name}",
            False,
            None,
            bar,
            "model",
            f"metric {name!r} was not computed on the hold-out "
            f"(computed: {', '.join(sorted(model.metrics)) or 'none'})",
        )
    passed = value >= bar if bound == "min" else value <= bar
    side = "at least" if bound == "min" else "at most"
    return check(
        f"metric.{name}",
        passed,
        value,
        bar,
        "model",
        f"{name} {value:.4g} on the hold-out; it must be {side} {bar:g} "
        f"({direction(name)} is better)",
    )


def _beats_production(ctx: RunContext, model: TrainedModel, cfg: Mapping[str, Any]) -> CheckResult:
    from hookline.plugins._stats import compare_metric, metrics_for

    metric = compare_metric(model.task, cfg["compare_metric"])
    name, margin = "beats_production", float(cfg["margin"])
    production = ctx.registry.resolve(ctx.model_name, "production")
    if production is None:
        return check(
            name,
            True,
            model.metrics.get(metric),
            None,
            "model",
            "no production model yet: this one becomes the first",
        )
    if model.holdout is None:
        return check(
            name,
            False,
            None,
            None,
            "model",
            "the trainer kept no hold-out, so the models cannot be compared",
        )
    X, y = model.holdout
    where = f"production v{production.version}"
    try:
        prod_estimator, _ = ctx.registry.load_model(ctx.model_name, version=production.version)
        prod_task = production.manifest.get("task", model.task)
        if prod_task != model.task:
            return check(
                name,
                False,
                None,
                None,
                "model",
                f"{where} is a {prod_task} model, this one does {model.task}",
            )
        need_proba = metric == "roc_auc"
        prod = metrics_for(model.task, prod_estimator, X, y, probabilities=need_proba)
    except HooklineError as exc:
        return check(name, False, None, None, "model", f"cannot load {where}: {exc}")
    except Exception as exc:
        return check(
            name,
            False,
            None,
            None,
            "model",
            f"{where} cannot score this hold-out ({type(exc).__name__}: {exc}); "
            "add 'beats_production' to [plugins.gates] warn_only to promote anyway",
        )
    new = metrics_for(model.task, model.estimator, X, y, probabilities=need_proba)
    if metric not in new or metric not in prod:
        return check(
            name,
            False,
            None,
            None,
            "model",
            f"metric {metric!r} is not defined on this hold-out; set "
            "[plugins.gates] compare_metric",
        )
    bar = beat_threshold(metric, prod[metric], margin)
    passed = is_better(metric, new[metric], prod[metric], margin)
    return check(
        name,
        passed,
        new[metric],
        bar,
        "model",
        f"{metric} {new[metric]:.4g} vs {where} {prod[metric]:.4g} on the same "
        f"{len(y)} hold-out rows ({direction(metric)} is better, margin {margin:g}): "
        + _verdict(passed, margin),
    )


def _verdict(passed: bool, margin: float) -> str:
    if passed:
        return "at least as good" if not margin else "better by at least the margin"
    return "worse" if not margin else "not better by the margin"


@dataclass(frozen=True, slots=True)
class Latency:
    """A latency measurement: ``runs`` are the timed batches' milliseconds per row."""

    batch_rows: int
    warmups: int
    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def measure_latency(
    estimator: Any,
    X: Any,
    *,
    batch_rows: int,
    repeats: int,
    warmups: int = 1,
    clock: Callable[[], float] | None = None,
) -> Latency:
    """Time ``estimator.predict`` on a batch of exactly ``batch_rows`` rows of ``X`` (its
    rows repeated when it has fewer): ``warmups`` untimed calls, then ``repeats`` timed
    ones. The median per-row cost of those is what a busy machine's odd slow run cannot
    move; a batch of a fixed size makes models comparable whatever their hold-out."""
    clock = clock or time.perf_counter
    n = len(X)
    picks = [i % n for i in range(max(1, batch_rows))]
    batch = X.iloc[picks] if hasattr(X, "iloc") else X[picks]
    for _ in range(max(0, warmups)):
        estimator.predict(batch)
    runs = []
    for _ in range(max(1, repeats)):
        started = clock()
        estimator.predict(batch)
        runs.append((clock() - started) * 1000.0 / len(picks))
    return Latency(len(picks), max(0, warmups), tuple(runs))


def _latency(model: TrainedModel, X: Any, cfg: Mapping[str, Any]) -> CheckResult:
    measured = measure_latency(
        model.estimator, X, batch_rows=cfg["latency_rows"], repeats=cfg["latency_repeats"]
    )
    per_row = measured.median
    budget = cfg["max_latency_ms_per_row"]
    how = (
        f"median {per_row:.4g} ms per row over {len(measured.runs)} timed predictions of "
        f"{measured.batch_rows} rows (after {measured.warmups} warm-up; runs "
        f"{min(measured.runs):.4g} to {max(measured.runs):.4g} ms per row)"
    )
    if budget is None:
        return CheckResult(
            "latency",
            True,
            round(per_row, 6),
            None,
            False,  # measured and recorded; without a budget it never blocks
            "model",
            f"{how}; no budget set ([plugins.gates] max_latency_ms_per_row), so it is only "
            "recorded",
        )
    passed = per_row <= budget
    return check(
        "latency",
        passed,
        round(per_row, 6),
        budget,
        "model",
        f"{how}; budget {budget:g} ms per row" + ("" if passed else ": over it"),
    )
