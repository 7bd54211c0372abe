"""The gates' model checks: metric thresholds, beating production on the same hold-out,
the latency budget and the model size budget (see :mod:`hookline.plugins.gates`)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hookline.errors import HooklineError, NotFound
from hookline.plugins.metrics import direction
from hookline.types import CheckResult, ModelVersion, RunContext, TrainedModel

__all__ = ["Latency", "check", "judge", "measure_latency", "model_checks"]


def check(
    name: str,
    passed: bool,
    observed: Any,
    threshold: Any,
    kind: str,
    message: str,
    *,
    details: Mapping[str, Any] | None = None,
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
        dict(details or {}),
    )


def model_checks(ctx: RunContext, model: TrainedModel, cfg: Mapping[str, Any]) -> list[CheckResult]:
    """The model checks for ``model``, configured by the ``[plugins.gates]`` table ``cfg``."""
    checks = []
    for bound, table in (("min", cfg["min_metrics"]), ("max", cfg["max_metrics"])):
        for name, bar in table.items():
            checks.append(_metric_bound(model, name, bar, bound))
    if cfg["must_beat_production"]:
        checks.extend(_beats_production(ctx, model, cfg))
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


def _beats_production(
    ctx: RunContext, model: TrainedModel, cfg: Mapping[str, Any]
) -> list[CheckResult]:
    """``beats_production`` and ``label_sanity``: the candidate against production on
    evaluation data its upload cannot corrupt (:mod:`hookline.plugins._compare`)."""
    name = "beats_production"
    try:
        production = ctx.registry.resolve(ctx.model_name, "production")
    except NotFound as exc:
        return [
            check(
                name,
                False,
                None,
                None,
                "model",
                f"the production alias points at a version that does not exist ({exc.message}); "
                "roll it back or promote a complete version first",
            )
        ]
    if production is None:
        return [
            check(
                name,
                True,
                None,
                None,
                "model",
                "no production model yet: this one becomes the first",
                details={"compared_with": None},
            )
        ]
    where = f"production v{production.version}"
    try:
        prod_estimator, _ = ctx.registry.load_model(ctx.model_name, version=production.version)
    except HooklineError as exc:
        return [check(name, False, None, None, "model", f"cannot load {where}: {exc}")]
    prod_task = production.manifest.get("task", model.task)
    if prod_task != model.task:
        message = f"{where} is a {prod_task} model, this one does {model.task}"
        return [check(name, False, None, None, "model", message)]
    checks = [_label_sanity(model, prod_estimator, where, cfg)]
    checks.append(judge(ctx, model, cfg, production, prod_estimator))
    return [c for c in checks if c is not None]


def judge(
    ctx: RunContext,
    model: TrainedModel,
    cfg: Mapping[str, Any],
    production: ModelVersion,
    production_estimator: Any,
) -> CheckResult:
    """The ``beats_production`` check for a comparison with ``production``: its details
    carry the version compared with and the evidence, so the promotion can be bound to it."""
    from hookline.plugins._compare import compare

    where = f"production v{production.version}"
    try:
        verdict = compare(ctx, model, cfg, production, production_estimator)
    except HooklineError as exc:
        return check(
            "beats_production",
            False,
            None,
            None,
            "model",
            str(exc),
            details={"compared_with": production.version},
        )
    except Exception as exc:
        return check(
            "beats_production",
            False,
            None,
            None,
            "model",
            f"{where} cannot score the evaluation data ({type(exc).__name__}: {exc}); "
            "add 'beats_production' to [plugins.gates] warn_only to promote anyway",
            details={"compared_with": production.version},
        )
    return check(
        "beats_production",
        verdict.passed,
        verdict.observed,
        verdict.threshold,
        "model",
        verdict.message,
        details=verdict.evidence(),
    )


def _label_sanity(
    model: TrainedModel, prod_estimator: Any, where: str, cfg: Mapping[str, Any]
) -> CheckResult | None:
    """The new batch's labels against production's predictions on the same rows."""
    from hookline.plugins._compare import label_agreement

    if model.holdout is None:
        return None
    X, y = model.holdout
    floor = float(cfg["min_label_agreement"])
    measure = "Cohen's kappa" if model.task == "classification" else "Spearman correlation"
    try:
        agreement = label_agreement(model.task, prod_estimator, X, y)
    except Exception as exc:
        return check(
            "label_sanity",
            False,
            None,
            floor,
            "data",
            f"{where} cannot predict this batch to check its labels ({type(exc).__name__}: {exc})",
        )
    if agreement is None:
        return check(
            "label_sanity",
            True,
            None,
            floor,
            "data",
            f"labels cannot be checked against {where} here ({measure} undefined)",
        )
    passed = agreement >= floor
    return check(
        "label_sanity",
        passed,
        round(agreement, 4),
        floor,
        "data",
        f"this batch's labels agree with {where}'s predictions: {measure} {agreement:.3f}"
        + (
            ""
            if passed
            else f", under {floor:g}: the labels look shuffled or corrupted; fix the file, "
            "or lower [plugins.gates] min_label_agreement (or add 'label_sanity' to "
            "warn_only) if the concept truly changed"
        ),
    )


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
