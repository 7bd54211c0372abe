"""Parameter search with scikit-learn's own searchers, bounded by a time budget.

``[plugins.sklearn] search`` names the estimator's parameters to search (a list of values,
or a scipy distribution: ``{ loguniform = [0.01, 0.3] }``, ``{ uniform = [0, 1] }``,
``{ randint = [2, 20] }``) and the searcher: ``random``
(:class:`~sklearn.model_selection.RandomizedSearchCV`) or ``halving``
(:class:`~sklearn.model_selection.HalvingRandomSearchCV`, which gives every candidate a
few rows and the best ones more).

Neither searcher stops on a clock, so the budget bounds how many candidates are tried: one
fit on one cross-validation fold is timed first (a probe, with the configured parameters),
and the searcher gets as many candidates as the budget buys at that cost. The estimate,
the candidates and the time it really took are all recorded.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from hookline.errors import ConfigError

__all__ = ["KEYS", "check_search", "search"]

KEYS = {
    "method": "`random` (RandomizedSearchCV) or `halving` (HalvingRandomSearchCV)",
    "params": "estimator parameter -> a list of values or { uniform | loguniform | randint = "
    "[low, high] }",
    "candidates": "most parameter settings tried (default 20)",
    "budget_seconds": "time the search may take; bounds the candidates (default: none)",
    "folds": "cross-validation folds of each candidate (default: cv_folds, else 3)",
    "factor": "halving: the share of candidates kept after each round is 1/factor (default 3)",
}
_DISTRIBUTIONS = ("uniform", "loguniform", "randint")
_KEY = "plugins.sklearn.search"


def check_search(table: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the ``search`` table and fill in its defaults.

    :raises ConfigError: an unknown key, an unknown method, no parameters, or a parameter
        that is neither a list nor a known distribution.
    """
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r}",
            key=f"{_KEY}.{unknown[0]}",
            hint="; ".join(f"{k}: {v}" for k, v in KEYS.items()),
        )
    out = {
        "method": table.get("method", "random"),
        "params": table.get("params"),
        "candidates": table.get("candidates", 20),
        "budget_seconds": table.get("budget_seconds"),
        "folds": table.get("folds"),
        "factor": table.get("factor", 3),
    }
    if out["method"] not in ("random", "halving"):
        raise ConfigError(
            f"expected 'random' or 'halving', got {out['method']!r}", key=f"{_KEY}.method"
        )
    if not isinstance(out["params"], Mapping) or not out["params"]:
        raise ConfigError(
            "name the parameters to search",
            key=f"{_KEY}.params",
            hint="e.g. params = { max_depth = [3, 6, 12], learning_rate = "
            "{ loguniform = [0.01, 0.3] } }",
        )
    for key in ("candidates", "folds", "factor"):
        value = out[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"expected an integer, got {value!r}", key=f"{_KEY}.{key}")
    if out["candidates"] < 1 or (out["folds"] is not None and out["folds"] < 2):
        raise ConfigError("candidates must be at least 1 and folds at least 2", key=_KEY)
    budget = out["budget_seconds"]
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int | float)):
        raise ConfigError(f"expected a number, got {budget!r}", key=f"{_KEY}.budget_seconds")
    for name, spec in out["params"].items():
        _distribution(name, spec)
    return out


def _distribution(name: str, spec: Any) -> Any:
    import scipy.stats

    where = f"{_KEY}.params.{name}"
    if isinstance(spec, list) and spec:
        return spec
    if isinstance(spec, Mapping) and len(spec) == 1:
        (kind, bounds), *_ = spec.items()
        if (
            kind in _DISTRIBUTIONS
            and isinstance(bounds, list)
            and len(bounds) == 2
            and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
            and bounds[0] < bounds[1]
        ):
            low, high = bounds
            if kind == "uniform":
                return scipy.stats.uniform(low, high - low)
            if kind == "loguniform":
                if low <= 0:
                    raise ConfigError("loguniform needs a positive low bound", key=where)
                return scipy.stats.loguniform(low, high)
            return scipy.stats.randint(int(low), int(high))
    raise ConfigError(
        f"expected a non-empty list of values or one of "
        f"{', '.join(f'{{ {k} = [low, high] }}' for k in _DISTRIBUTIONS)}, got {spec!r}",
        key=where,
    )


def _space(params: Mapping[str, Any], pipeline: Any) -> dict[str, Any]:
    """Parameter names as the pipeline knows them: the estimator's own names get the
    ``model__`` prefix; names that already have a step (``preprocess__...``) are kept."""
    accepted = set(pipeline.get_params(deep=True))
    space = {}
    for name, spec in params.items():
        full = name if "__" in name else f"model__{name}"
        if full not in accepted:
            own = sorted(k.removeprefix("model__") for k in accepted if k.startswith("model__"))
            raise ConfigError(
                f"the estimator has no parameter {name!r}",
                key=f"{_KEY}.params.{name}",
                hint=f"its parameters: {', '.join(own)}",
            )
        space[full] = _distribution(name, spec)
    return space


def _halving_cost(candidates: int, factor: int, n_rows: int) -> float:
    """Fold fits' worth of work of a halving search over ``candidates`` (each fit's cost
    taken as proportional to its rows), with ``min_resources="exhaust"``."""
    rounds = 1 + math.floor(math.log(max(candidates, 1), factor) + 1e-9)
    smallest = max(1, n_rows // factor ** (rounds - 1))
    total = 0.0
    for i in range(rounds):
        left = math.ceil(candidates / factor**i)
        total += left * min(1.0, smallest * factor**i / max(n_rows, 1))
    return total


def search(
    pipeline: Any,
    X: Any,
    y: Any,
    table: Mapping[str, Any],
    *,
    cv: Any,
    folds: int,
    groups: Any,
    scoring: Any,
    metric: str,
    seed: int,
    log: Any,
) -> tuple[Any, dict[str, Any]]:
    """Search, refit the best candidate on ``X``, ``y``; return it and what was found.

    :param cv: the cross-validation splitter (the hold-out split's kind).
    :param scoring: the scorer of ``metric``, the metric models are compared on.
    """
    from sklearn.base import clone

    spec = check_search(table)
    space = _space(spec["params"], pipeline)
    candidates = int(spec["candidates"])
    budget = spec["budget_seconds"]
    estimate = None
    if budget is not None:
        train_idx, _ = next(cv.split(X, y, groups))
        started = time.perf_counter()
        clone(pipeline).fit(X.iloc[train_idx], y.iloc[train_idx])
        probe = time.perf_counter() - started
        if spec["method"] == "halving":
            fits = lambda c: _halving_cost(c, spec["factor"], len(train_idx)) * folds  # noqa: E731
        else:
            fits = lambda c: c * folds  # noqa: E731
        while candidates > 1 and fits(candidates) * probe > budget:
            candidates -= 1
        estimate = round(fits(candidates) * probe, 3)
        log.info(
            "search: one fold fit took %.2f s; %d candidate(s) fit the %g s budget",
            probe,
            candidates,
            budget,
        )
    common = dict(scoring=scoring, cv=cv, random_state=seed, n_jobs=1, error_score=float("nan"))
    if spec["method"] == "halving":
        from sklearn.experimental import enable_halving_search_cv  # noqa: F401
        from sklearn.model_selection import HalvingRandomSearchCV

        searcher: Any = HalvingRandomSearchCV(
            pipeline,
            space,
            n_candidates=candidates,
            factor=spec["factor"],
            min_resources="exhaust",
            **common,
        )
    else:
        from sklearn.model_selection import RandomizedSearchCV

        searcher = RandomizedSearchCV(pipeline, space, n_iter=candidates, **common)
    started = time.perf_counter()
    searcher.fit(X, y, groups=groups)
    seconds = time.perf_counter() - started
    results = searcher.cv_results_
    order = sorted(range(len(results["params"])), key=lambda i: results["rank_test_score"][i])
    sign = -1.0 if metric in ("rmse", "mae") else 1.0
    top = [
        {
            "params": _plain(results["params"][i]),
            "mean": _finite(sign * results["mean_test_score"][i]),
            "std": _finite(results["std_test_score"][i]),
        }
        for i in order[:10]
    ]
    info = {
        "method": spec["method"],
        "searcher": type(searcher).__name__,
        "candidates": candidates,
        "configured_candidates": int(spec["candidates"]),
        "tried": len(results["params"]),
        "folds": folds,
        "metric": metric,
        "budget_seconds": budget,
        "estimated_seconds": estimate,
        "seconds": round(seconds, 3),
        "best_params": _plain(searcher.best_params_),
        "best_score": _finite(sign * searcher.best_score_),
        "top": top,
    }
    return searcher.best_estimator_, info


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in params.items():
        if hasattr(value, "item"):
            value = value.item()
        out[key.removeprefix("model__")] = (
            value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        )
    return out


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
