"""Which columns the trainer learns from, and why each other one is left out.

Every column but the target is a candidate, unless ``[plugins.sklearn] features`` lists
them. A candidate is left out, with the reason recorded (and, where a person should know, a
warning) when it is:

* listed in ``exclude``, or derived from a column that is (``when_year`` of ``when``);
* a date (``datetime``): never a model input itself; its calendar features are;
* the cross-validation group column (grouping by it is the point; learning it leaks);
* identifier-like: text or integers whose every value is distinct (``customer_id``,
  a saved row index), or text with very many distinct values (free text, codes);
* new since the production model, which does not use it: a model that needed it would
  change the prediction API under every client (``new_columns = "use"`` adopts it).

A column listed in ``features`` is used as it is, whatever it looks like.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hookline.errors import DataError

__all__ = ["FeatureChoice", "choose_features"]

_ID_NAME = re.compile(
    r"(?:^|[_\W])(?:id|uuid|guid|key|idx|index)$|^(?:row|rowid|unnamed: ?\d+)$", re.IGNORECASE
)
_CAMEL_ID = re.compile(r"[a-z0-9](?:Id|ID|Key|Uuid)$")  # customerId, orderID
_MIN_ROWS_TO_JUDGE = 20


@dataclass(frozen=True, slots=True)
class FeatureChoice:
    """The features, in column order, and the columns left out with the reason for each.

    :param warnings: the reasons a person should read (also in the run record's notes).
    """

    features: list[str]
    excluded: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def choose_features(
    frame: Any,
    target: str,
    cfg: Mapping[str, Any],
    uri: str | None,
    *,
    schema: Mapping[str, Mapping[str, Any]],
    production: Mapping[str, Any] | None = None,
    group_column: str | None = None,
) -> FeatureChoice:
    """Choose the feature columns of ``frame`` (see the module docstring).

    :param schema: the dataset's column schema (``dtype``, ``derived_from``, ``calendar``).
    :param production: the production model's feature schema, when there is one.
    :param group_column: the column cross-validation groups by (never a feature).
    :raises DataError: a listed feature column is missing, or no feature is left.
    """
    from hookline.plugins._ingest_schema import kind_of

    listed = [str(c) for c in cfg["features"]]
    missing = [c for c in listed if c not in frame.columns]
    if missing:
        raise DataError(
            f"configured feature column(s) missing: {', '.join(map(repr, missing))}",
            uri=uri,
            hint="fix [plugins.sklearn] features",
        )
    excluded: dict[str, str] = {}
    warnings: list[str] = []
    kinds = {c: (schema.get(c) or {}).get("dtype") or kind_of(frame[c]) for c in frame.columns}
    dropped = {str(c) for c in cfg["exclude"]}

    if listed:
        candidates: list[str] = []
        for name in listed:
            if kinds[name] == "datetime":
                calendar = list((schema.get(name) or {}).get("calendar") or [])
                calendar = [c for c in calendar if c in frame.columns]
                if not calendar:
                    raise DataError(
                        f"feature {name!r} holds dates, which a model cannot take as they are",
                        uri=uri,
                        hint='set [plugins.pandas] datetimes = "calendar" to learn from its '
                        "year, month, day and weekday, or leave it out of features",
                    )
                excluded[name] = f"a date: learnt through its calendar features {_names(calendar)}"
                candidates += [c for c in calendar if c not in candidates]
            elif name not in candidates:
                candidates.append(name)
        chosen = [c for c in candidates if c != target]
        return _checked(FeatureChoice(chosen, excluded, warnings), uri)

    new_columns = cfg["new_columns"]
    for name in frame.columns:
        if name == target:
            continue
        spec = schema.get(name) or {}
        origin = spec.get("derived_from")
        if name in dropped:
            excluded[name] = "listed in [plugins.sklearn] exclude"
        elif origin in dropped:
            excluded[name] = f"derived from {origin!r}, which [plugins.sklearn] exclude lists"
        elif name == group_column:
            excluded[name] = "the cross-validation group column"
        elif kinds[name] == "datetime":
            calendar = [c for c in spec.get("calendar") or [] if c in frame.columns]
            if calendar:
                excluded[name] = f"a date: learnt through its calendar features {_names(calendar)}"
            else:
                excluded[name] = (
                    "a date, which a model cannot take as it is (set [plugins.pandas] "
                    'datetimes = "calendar" to learn from its calendar features)'
                )
                warnings.append(f"column {name!r} left out: {excluded[name]}")
        elif (why := _identifier_like(frame[name], kinds[name], name, cfg)) is not None:
            excluded[name] = why
            warnings.append(
                f"column {name!r} left out: {why}; list it in [plugins.sklearn] features "
                "to learn from it anyway"
            )
        elif production and name not in production and new_columns == "ignore":
            excluded[name] = (
                "new since the production model, which does not use it: learning from it "
                "would make every client send it"
            )
            warnings.append(
                f"column {name!r} is new and left out (the production model does not use "
                'it); set [plugins.sklearn] new_columns = "use", or list the features, '
                "to learn from it"
            )
    chosen = [c for c in frame.columns if c != target and c not in excluded]
    if production and new_columns == "use":
        added = [c for c in chosen if c not in production]
        if added:
            warnings.append(
                f"new column(s) {_names(added)} are now model inputs: clients of the "
                "prediction API must send them"
            )
    return _checked(FeatureChoice(chosen, excluded, warnings), uri)


def _checked(choice: FeatureChoice, uri: str | None) -> FeatureChoice:
    if not choice.features:
        left = "; ".join(f"{k}: {v}" for k, v in list(choice.excluded.items())[:5])
        raise DataError(
            "no feature columns left to learn from" + (f" (left out: {left})" if left else ""),
            uri=uri,
            hint="the file needs at least one column besides the target; list the columns "
            "to learn from in [plugins.sklearn] features",
        )
    return choice


def _identifier_like(series: Any, kind: str, name: str, cfg: Mapping[str, Any]) -> str | None:
    """Why a column looks like an identifier or free text, or ``None``."""
    if kind not in ("string", "integer"):
        return None
    values = series.dropna()
    rows = len(values)
    if rows < _MIN_ROWS_TO_JUDGE:
        return None
    distinct = int(values.nunique())
    if kind == "integer":
        if distinct != rows:
            return None
        ordered = values.sort_values().to_numpy()
        consecutive = bool((ordered[1:] - ordered[:-1] == 1).all())
        if _ID_NAME.search(name) or _CAMEL_ID.search(name) or consecutive:
            return "identifier-like: every value is distinct" + (
                " and they count up by one (a saved row index?)" if consecutive else ""
            )
        return None
    if distinct == rows:
        return "identifier-like: every value is distinct"
    share = float(cfg["max_text_cardinality"])
    if share and distinct > share * rows and distinct >= _MIN_ROWS_TO_JUDGE:
        return (
            f"very high cardinality: {distinct:,} distinct values in {rows:,} rows "
            f"(over [plugins.sklearn] max_text_cardinality = {share:g} of them)"
        )
    return None


def _names(columns: Sequence[str]) -> str:
    shown = ", ".join(map(str, columns[:6]))
    return shown + (f" (and {len(columns) - 6} more)" if len(columns) > 6 else "")
