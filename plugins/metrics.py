"""Which way is better, for every metric: the one table the gates, the drift monitor and
their messages use (public: other plugins import it too).

A comparison, a threshold or a relative change is only meaningful in the metric's own
terms: a *worse* RMSE is a higher one, a *worse* F1 a lower one. Everything here is plain
Python (no numpy), cheap to import.

>>> is_better("rmse", 1.0, 1.2)
True
>>> round(worsening("rmse", 1.0, 1.25), 6)   # 25% worse: it rose
0.25
>>> describe_change("f1", 0.9, 0.81)
'f1 fell from 0.9 to 0.81 (10% worse)'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Literal

from hookline.errors import ConfigError

__all__ = [
    "DIRECTIONS",
    "HIGHER",
    "LOWER",
    "check_metric_name",
    "check_metric_table",
    "declare",
    "describe_change",
    "direction",
    "is_better",
    "lower_is_better",
    "threshold",
    "worsening",
]

Direction = Literal["higher", "lower"]
HIGHER: Direction = "higher"
LOWER: Direction = "lower"

_DIRECTIONS: dict[str, Direction] = {
    # classification
    "accuracy": HIGHER,
    "balanced_accuracy": HIGHER,
    "f1": HIGHER,
    "precision": HIGHER,
    "recall": HIGHER,
    "roc_auc": HIGHER,
    "average_precision": HIGHER,
    "log_loss": LOWER,
    "brier_score": LOWER,
    # regression
    "r2": HIGHER,
    "explained_variance": HIGHER,
    "rmse": LOWER,
    "mse": LOWER,
    "mae": LOWER,
    "mape": LOWER,
    "median_absolute_error": LOWER,
    "max_error": LOWER,
}
DIRECTIONS: Mapping[str, Direction] = MappingProxyType(_DIRECTIONS)
"""Metric name -> ``"higher"`` or ``"lower"`` (is better). A read-only view; :func:`declare`
adds to it."""


def declare(name: str, better: Direction) -> None:
    """Add a metric a custom trainer computes, so gates and monitors can compare it and
    ``hookline.toml`` may name it. Call it when your plugin module is imported.

    :raises ValueError: ``better`` is not ``"higher"``/``"lower"``, or the metric is
        already known with the other direction.
    """
    if better not in (HIGHER, LOWER):
        raise ValueError(f"better must be 'higher' or 'lower', got {better!r}")
    known = _DIRECTIONS.get(name)
    if known is not None and known != better:
        raise ValueError(f"metric {name!r} is already declared: {known} is better")
    _DIRECTIONS[name] = better


def direction(metric: str) -> Direction:
    """``"higher"`` or ``"lower"``.

    :raises KeyError: an unknown metric (the message suggests a close name).
    """
    try:
        return _DIRECTIONS[metric]
    except KeyError:
        raise KeyError(_unknown(metric)) from None


def lower_is_better(metric: str) -> bool:
    return direction(metric) == LOWER


def threshold(metric: str, reference: float, margin: float = 0.0) -> float:
    """The value a candidate must reach to beat ``reference`` by ``margin`` (in the
    metric's units): ``reference + margin`` where higher is better, ``reference - margin``
    where lower is."""
    return reference - margin if lower_is_better(metric) else reference + margin


def is_better(metric: str, candidate: float, reference: float, margin: float = 0.0) -> bool:
    """Whether ``candidate`` reaches :func:`threshold` (ties pass, within 1e-12)."""
    bar = threshold(metric, reference, margin)
    if lower_is_better(metric):
        return candidate <= bar + 1e-12
    return candidate >= bar - 1e-12


def worsening(metric: str, baseline: float, value: float) -> float:
    """How much worse ``value`` is than ``baseline``, relative to the baseline's size, in the
    metric's own terms: ``0.1`` means 10% worse (a 10% *rise* of RMSE, a 10% *fall* of F1);
    negative means better. A baseline of 0 makes any worsening infinite."""
    delta = value - baseline if lower_is_better(metric) else baseline - value
    scale = abs(baseline)
    if scale == 0.0:
        return 0.0 if delta <= 0 else math.inf
    return delta / scale


def describe_change(metric: str, before: float, after: float) -> str:
    """``"rmse rose from 1.2 to 1.5 (25% worse)"`` -- the verb from the numbers, the
    judgement from the metric's direction."""
    if after == before:
        return f"{metric} stayed at {after:.4g}"
    verb = "rose" if after > before else "fell"
    change = worsening(metric, before, after)
    judged = (
        ("worse" if change > 0 else "better")
        if math.isinf(change)
        else f"{abs(change):.0%} {'worse' if change > 0 else 'better'}"
    )
    return f"{metric} {verb} from {before:.4g} to {after:.4g} ({judged})"


def _unknown(metric: str) -> str:
    import difflib

    guess = difflib.get_close_matches(metric, list(_DIRECTIONS), n=1)
    return f"unknown metric {metric!r}" + (f" (did you mean {guess[0]!r}?)" if guess else "")


def _hint() -> str:
    return (
        f"known metrics: {', '.join(sorted(_DIRECTIONS))}; a plugin computing another "
        "declares it with hookline.plugins.metrics.declare(name, 'higher' | 'lower')"
    )


def check_metric_name(*, allow: Iterable[str] = ()) -> Callable[[Any, str, str | None], None]:
    """An ``Option(check=...)`` for a metric name (``allow``: extra accepted values such as
    ``auto``)."""
    extra = tuple(allow)

    def check(value: Any, key: str, source: str | None) -> None:
        if value in extra or value in _DIRECTIONS:
            return
        raise ConfigError(_unknown(str(value)), key=key, source=source, hint=_hint())

    return check


def check_metric_table(bound: Literal["min", "max"]) -> Callable[[Any, str, str | None], None]:
    """An ``Option(check=...)`` for a ``metric -> bound`` table: every name known, every
    bound a number, and a bound on the side where it can reject a worse model (a minimum
    RMSE would reject the better ones)."""

    def check(value: Any, key: str, source: str | None) -> None:
        for name, bar in dict(value).items():
            dotted = f"{key}.{name}"
            if name not in _DIRECTIONS:
                raise ConfigError(_unknown(str(name)), key=dotted, source=source, hint=_hint())
            if isinstance(bar, bool) or not isinstance(bar, int | float):
                raise ConfigError(
                    f"expected a number, got {type(bar).__name__} {bar!r}",
                    key=dotted,
                    source=source,
                )
            wrong = (bound == "min") == (_DIRECTIONS[name] == LOWER)
            if wrong:
                other = "max" if bound == "min" else "min"
                raise ConfigError(
                    f"{name} is better when {_DIRECTIONS[name]}: a {bound}imum would reject "
                    "the better models",
                    key=dotted,
                    source=source,
                    hint=f"put it in {other}_metrics instead",
                )

    return check
