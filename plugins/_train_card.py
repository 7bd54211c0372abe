"""The model card's plain parts: its text from the configuration, the metrics with their
spread, the data and the training window (the evaluation itself is
:mod:`hookline.plugins._train_eval`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hookline.errors import ConfigError
from hookline.types import Dataset

__all__ = ["CARD_KEYS", "CARD_SCHEMA", "card_text", "data_card", "metric_spread", "window"]

CARD_KEYS = ("description", "intended_use", "limitations", "owners")
CARD_SCHEMA = "hookline.card/1"


def metric_spread(
    metrics: Mapping[str, float], cv: Mapping[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """Each metric on the hold-out, with its cross-validated mean and spread when known."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in metrics.items():
        entry: dict[str, Any] = {"holdout": value}
        folds = (cv or {}).get("metrics", {}).get(name)
        if folds:
            entry.update(cv_mean=folds["mean"], cv_std=folds["std"])
        out[name] = entry
    return out


def card_text(table: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(table) - set(CARD_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r}",
            key=f"plugins.sklearn.card.{unknown[0]}",
            hint=f"the card's keys: {', '.join(CARD_KEYS)}",
        )
    for key, value in table.items():
        ok = isinstance(value, str) or (
            key == "owners" and isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
        if not ok:
            raise ConfigError(
                "expected text" + (" or a list of names" if key == "owners" else ""),
                key=f"plugins.sklearn.card.{key}",
            )
    return dict(table)


def data_card(dataset: Dataset, frame: Any, target: str, features: list[str]) -> dict[str, Any]:
    """The data the model learnt from: rows, and each column's profile (compact)."""
    profile = dict(dataset.profile or {})
    stats = profile.get("columns") or {}
    keep = ("kind", "nulls", "min", "max", "mean", "std", "distinct", "top")
    return {
        "rows": len(frame),
        "columns": int(profile.get("column_count") or frame.shape[1]),
        "dropped_rows": profile.get("dropped_rows") or {},
        "profile": {
            name: {k: v for k, v in (stats.get(name) or {}).items() if k in keep}
            for name in [*features, target]
            if name in stats
        },
    }


def window(dataset: Dataset) -> list[dict[str, Any]]:
    """The uploads the model learnt from, with the rows each gave."""
    profile = dataset.profile or {}
    files = list(dataset.sources) or ([dataset.source] if dataset.source else [])
    rows = {s.get("sha256"): s.get("rows") for s in profile.get("sources") or []}
    if len(files) == 1 and not rows:
        rows = {files[0].sha256: profile.get("rows")}
    return [
        {
            "uri": s.uri,
            "version": s.version,
            "sha256": s.sha256,
            "size": s.size,
            "rows": rows.get(s.sha256),
        }
        for s in files
    ]
