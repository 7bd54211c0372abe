"""The built-in ``validate``: data and model gates (entry point ``gates``).

Data checks: minimum rows, schema against the production model's features, null ratios,
declared ranges and categories, label balance, formula-like cells. Model checks: metric
thresholds, beating the current ``production`` model on the *same* hold-out by a margin,
prediction latency per row (blocking only when a budget is set) and the size of the
serialised model. Every check blocks by default; names listed in ``warn_only`` are
recorded but never block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hookline import hookimpl
from hookline.config import Option
from hookline.jsonio import jsonable
from hookline.plugins._common import schema_columns, settings
from hookline.plugins._gates_model import check as _check
from hookline.plugins._gates_model import model_checks
from hookline.plugins.metrics import check_metric_name, check_metric_table
from hookline.types import CheckResult, Dataset, RunContext, TrainedModel

NAME = "gates"

CONFIG = {
    "min_rows": Option(int, 20, "fewest rows a dataset may have"),
    "max_null_ratio": Option(
        float,
        0.5,
        "largest share of missing values in any column (0 for columns declared nullable = false)",
    ),
    "null_ratios": Option(dict, {}, "per-column overrides of max_null_ratio"),
    "max_out_of_range_ratio": Option(
        float, 0.0, "share of values allowed outside the declared min/max/categories"
    ),
    "min_class_ratio": Option(
        float, 0.01, "smallest share any class may have (label balance; classification)"
    ),
    "min_metrics": Option(
        dict,
        {},
        "metric -> lowest acceptable hold-out value, e.g. { accuracy = 0.8 } "
        "(metrics where higher is better)",
        check=check_metric_table("min"),
    ),
    "max_metrics": Option(
        dict,
        {},
        "metric -> highest acceptable hold-out value, e.g. { rmse = 12.5 } "
        "(metrics where lower is better)",
        check=check_metric_table("max"),
    ),
    "must_beat_production": Option(
        bool,
        True,
        "compare with the production model on the same rows: the registry's evaluation set, "
        "the golden set and this batch's hold-out",
    ),
    "evaluation_rows": Option(
        int,
        5000,
        "most rows of the registry's evaluation set (hold-outs of promoted versions) the "
        "candidate and production are both scored on",
    ),
    "golden_set": Option(
        str,
        None,
        "URI of a fixed labelled file both models are also scored on (trusted, like the "
        "evaluation set)",
    ),
    "min_label_agreement": Option(
        float,
        0.2,
        "lowest chance-corrected agreement of a batch's labels with production's "
        "predictions (Cohen's kappa; Spearman correlation for regression)",
    ),
    "margin": Option(
        float, 0.0, "how much better than production the candidate must be (0: at least as good)"
    ),
    "compare_metric": Option(
        str,
        "auto",
        "metric of that comparison; `auto`: f1 for classification, rmse for regression",
        check=check_metric_name(allow=("auto",)),
    ),
    "max_latency_ms_per_row": Option(
        float,
        None,
        "prediction latency budget, milliseconds per row (the median of the timed "
        "batches); unset: the latency is measured and recorded but never blocks",
    ),
    "latency_rows": Option(
        int, 500, "rows per timed batch (hold-out rows, repeated when there are fewer)"
    ),
    "latency_repeats": Option(int, 5, "timed batches after one warm-up; their median counts"),
    "max_model_bytes": Option(int, 100_000_000, "size budget of the serialised (skops) model"),
    "warn_only": Option(
        list,
        ["formula_cells"],
        "checks recorded but never blocking; a name or a prefix such as `metric`",
    ),
}


@hookimpl(trylast=True)
def validate(ctx: RunContext, dataset: Dataset, model: TrainedModel | None) -> list[CheckResult]:
    """Run the data checks, and the model checks when the pipeline trained a model."""
    cfg = settings(ctx, NAME, CONFIG)
    checks = data_checks(ctx, dataset, model, cfg)
    if model is not None:
        checks += model_checks(ctx, model, cfg)
    warn_only = [str(w) for w in cfg["warn_only"]]
    out = []
    for check in checks:
        blocking = check.blocking and not any(
            check.name == w or check.name.startswith(w + ".") for w in warn_only
        )
        out.append(
            CheckResult(
                check.name,
                bool(check.passed),
                jsonable(check.observed),
                jsonable(check.threshold),
                blocking,
                check.kind,
                check.message,
                jsonable(dict(check.details)),
            )
        )
    return out


# --- data ---------------------------------------------------------------------------------


def data_checks(
    ctx: RunContext, dataset: Dataset, model: TrainedModel | None, cfg: Mapping[str, Any]
) -> list[CheckResult]:
    frame = dataset.frame
    rows = len(frame)
    columns = schema_columns(dataset.schema)
    checks = [
        _check(
            "min_rows",
            rows >= cfg["min_rows"],
            rows,
            cfg["min_rows"],
            "data",
            f"{rows} rows"
            + (
                ""
                if rows >= cfg["min_rows"]
                else "; upload more rows or lower [plugins.gates] min_rows"
            ),
        )
    ]
    checks.append(_schema_check(ctx, frame, dataset.target))
    checks.append(_null_check(frame, columns, cfg))
    ranges = _range_check(frame, columns, cfg)
    if ranges is not None:
        checks.append(ranges)
    target = dataset.target
    task = model.task if model is not None else None
    if target is not None and task == "classification" and target in frame.columns:
        shares = frame[target].value_counts(normalize=True)
        smallest = float(shares.min()) if len(shares) else 0.0
        checks.append(
            _check(
                "label_balance",
                smallest >= cfg["min_class_ratio"],
                smallest,
                cfg["min_class_ratio"],
                "data",
                f"rarest class {shares.idxmin()!r} is {smallest:.1%} of rows"
                if len(shares)
                else "no labels",
            )
        )
    formulas = (dataset.profile or {}).get("formula_cells") or {}
    if formulas:
        total = sum(int(f.get("count", 0)) for f in formulas.values())
        checks.append(
            _check(
                "formula_cells",
                False,
                total,
                0,
                "data",
                f"formula-like cells in {', '.join(sorted(formulas))} (CSV "
                "injection risk if exported to a spreadsheet)",
            )
        )
    return checks


def _schema_check(ctx: RunContext, frame: Any, target: str | None) -> CheckResult:
    production = ctx.registry.resolve(ctx.model_name, "production")
    features = dict((production.manifest.get("features") or {}) if production else {})
    if not features:
        return _check(
            "schema",
            True,
            sorted(map(str, frame.columns)),
            None,
            "data",
            "no production model yet: this file's columns set the schema",
        )
    assert production is not None  # features come from it
    present = set(frame.columns)
    missing = sorted(c for c in features if c not in present)
    added = sorted(c for c in present if c not in features and c != target)
    message = (
        f"missing feature(s) of production v{production.version}: {', '.join(missing)}"
        if missing
        else f"all {len(features)} features of production v{production.version} present"
    )
    if added:
        message += f"; new column(s): {', '.join(added)}"
    if missing:
        message += (
            "; a new model without them changes the prediction API (add 'schema' to "
            "[plugins.gates] warn_only to allow it)"
        )
    return _check(
        "schema",
        not missing,
        {"missing": missing, "added": added},
        sorted(features),
        "data",
        message,
    )


def _null_check(frame: Any, columns: Mapping[str, Any], cfg: Mapping[str, Any]) -> CheckResult:
    ratios = {str(k): float(v) for k, v in dict(frame.isna().mean()).items()} if len(frame) else {}
    offenders = []
    for name, ratio in ratios.items():
        limit = float(cfg["null_ratios"].get(name, cfg["max_null_ratio"]))
        if (columns.get(name) or {}).get("nullable") is False:
            limit = 0.0
        if ratio > limit:
            offenders.append(f"{name} ({ratio:.1%} > {limit:.1%})")
    worst = max(ratios, key=lambda n: ratios[n]) if ratios else None
    observed = round(ratios[worst], 6) if worst else 0.0
    message = (
        (
            "too many missing values: "
            + ", ".join(offenders[:5])
            + "; fill them, or raise [plugins.gates] max_null_ratio / null_ratios"
        )
        if offenders
        else (f"most missing: {worst!r} ({observed:.1%})" if worst else "no columns")
    )
    return _check("null_ratio", not offenders, observed, cfg["max_null_ratio"], "data", message)


def _range_check(
    frame: Any, columns: Mapping[str, Any], cfg: Mapping[str, Any]
) -> CheckResult | None:
    declared = {
        n: s
        for n, s in columns.items()
        if n in frame.columns and any(k in s for k in ("min", "max", "categories"))
    }
    if not declared:
        return None
    bad_total = 0
    cells = 0
    details = []
    for name, spec in declared.items():
        column = frame[name]
        values = column.dropna()
        cells += len(values)
        bad = 0
        if "categories" in spec:
            bad += int((~values.astype("str").isin([str(c) for c in spec["categories"]])).sum())
        if "min" in spec:
            bad += int((values < spec["min"]).sum())
        if "max" in spec:
            bad += int((values > spec["max"]).sum())
        if bad:
            details.append(f"{name}: {bad}")
        bad_total += bad
    ratio = bad_total / cells if cells else 0.0
    limit = cfg["max_out_of_range_ratio"]
    message = (
        "values outside the declared ranges/categories: " + ", ".join(details)
        if details
        else f"all values of {len(declared)} declared column(s) in range"
    )
    return _check("ranges", ratio <= limit, ratio, limit, "data", message)
