"""Column types, schema reconciliation, formula-cell detection and the dataset profile.

A column's type is one of four JSON-friendly kinds, the same vocabulary the trainer's
feature schema and the serving app use: ``number``, ``integer``, ``string``, ``boolean``;
and ``datetime`` for dates and times (Parquet-native, or ISO 8601 text), which are never a
model input themselves: ingest adds their calendar features (``<name>_year``,
``<name>_month``...), integer columns the model can learn from.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from hookline.errors import DataError

__all__ = [
    "CALENDAR_PARTS",
    "KINDS",
    "add_calendar_features",
    "coerce_column",
    "find_formula_cells",
    "kind_of",
    "looks_like_dates",
    "normalize_column",
    "profile_frame",
    "to_datetime",
]

KINDS = ("number", "integer", "string", "boolean", "datetime")
CALENDAR_PARTS = ("year", "month", "day", "dayofweek", "hour")
"""The calendar features of a datetime column; ``hour`` only when some value has a time."""
_ISO_DATE = (
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?"
)
_NUMERIC = ("number", "integer")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_FORMULA_START = r"[=+\-@\t\r]"
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"


def kind_of(series: Any) -> str:
    """The kind of a pandas Series: ``boolean``, ``integer``, ``number`` or ``string``."""
    import pandas as pd
    from pandas.api import types as t

    if t.is_bool_dtype(series.dtype):
        return "boolean"
    if t.is_datetime64_any_dtype(series.dtype):
        return "datetime"
    if t.is_integer_dtype(series.dtype):
        return "integer"
    if t.is_numeric_dtype(series.dtype):
        return "number"
    if t.is_string_dtype(series.dtype) and not t.is_object_dtype(series.dtype):
        return "string"
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred == "boolean":
        return "boolean"
    if inferred == "integer":
        return "integer"
    if inferred in ("floating", "mixed-integer-float", "decimal", "empty"):
        return "number"
    if inferred in ("datetime64", "datetime", "date"):
        return "datetime"
    return "string"


def looks_like_dates(series: Any) -> bool:
    """Whether every value of a text column is an ISO 8601 date or timestamp
    (``2024-03-01``, ``2024-03-01 12:30``, ``2024-03-01T12:30:00Z``). Other spellings
    (``03/01/2024``: March or January?) stay text: guessing a day-month order is how
    dates get silently wrong."""
    values = series.dropna()
    if not len(values):
        return False
    sample = values.iloc[:: max(1, len(values) // 2000)].astype("str")
    if not bool(sample.str.fullmatch(_ISO_DATE).all()):
        return False
    return bool(values.astype("str").str.fullmatch(_ISO_DATE).all())


def to_datetime(series: Any) -> Any:
    """Dates as ``datetime64`` without a time zone (aware values converted to UTC first).

    :raises ValueError: a value that is not a date.
    """
    import pandas as pd
    from pandas.api import types as t

    if t.is_datetime64_any_dtype(series.dtype):
        out = series
    else:
        out = pd.to_datetime(series, format="ISO8601", utc=True)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def add_calendar_features(frame: Any, name: str, parts: Any = None) -> dict[str, dict[str, Any]]:
    """Add the calendar features of datetime column ``name`` to ``frame``, in place.

    :param parts: the parts to add (the production schema's, when scoring); default: every
        part of :data:`CALENDAR_PARTS`, ``hour`` only when some value has a time of day.
    :returns: the added columns' schema entries (``integer``, ``derived_from`` ``name``);
        a part whose column name is already taken is left out.
    """
    import numpy as np

    values = to_datetime(frame[name])
    if parts is None:
        has_time = bool((values.dropna() != values.dropna().dt.normalize()).any())
        parts = [p for p in CALENDAR_PARTS if p != "hour" or has_time]
    missing = values.isna()
    added: dict[str, dict[str, Any]] = {}
    for part in parts:
        column = f"{name}_{part}"
        if column in frame.columns or part not in CALENDAR_PARTS:
            continue
        accessor = "day_of_week" if part == "dayofweek" else part
        numbers = getattr(values.dt, accessor).to_numpy(dtype="float64", na_value=np.nan)
        frame[column] = numbers if missing.any() else numbers.astype("int64")
        added[column] = {
            "dtype": "number" if missing.any() else "integer",
            "nullable": bool(missing.any()),
            "derived_from": name,
        }
    return added


def _examples(values: Any, limit: int = 3) -> str:
    shown = [repr(str(v)[:40]) for v in list(values)[:limit]]
    return ", ".join(shown)


def coerce_column(frame: Any, name: str, expected: str, uri: str, origin: str) -> str:
    """Make ``frame[name]`` hold values of kind ``expected``, in place.

    Numbers read where text is expected become text (a code column that happens to look
    numeric); text where numbers are expected is a type change and an error.

    :param origin: where the expectation comes from, for the message (e.g. ``the
        production model's schema (v3)``).
    :returns: the column's kind after coercion.
    :raises DataError: values that cannot be read as ``expected``, with examples and rows.
    """
    import pandas as pd

    series = frame[name]
    observed = kind_of(series)
    if expected == "datetime":
        if observed == "datetime":
            frame[name] = to_datetime(series)
            return "datetime"
        try:
            frame[name] = to_datetime(series.astype("str").where(series.notna()))
        except (ValueError, TypeError):
            text = series.dropna().astype("str")
            bad = ~text.str.fullmatch(_ISO_DATE)
            raise DataError(
                f"column {name!r} changed type: {origin} has it as datetime, but this file "
                f"holds other values in it, e.g. {_examples(text[bad] if bad.any() else text)}",
                uri=uri,
                hint="write dates as ISO 8601 (2024-03-01 or 2024-03-01T12:30:00Z)",
            ) from None
        return "datetime"
    if expected == "string":
        if observed != "string" or series.dtype == object:
            frame[name] = _as_text(series)
        return "string"
    if expected in _NUMERIC:
        if observed in _NUMERIC:
            return observed
        if observed == "boolean":
            frame[name] = series.astype("float64")
            return "number"
        converted = pd.to_numeric(series, errors="coerce")
        bad = converted.isna() & series.notna()
        if bad.any():
            rows = [int(i) + 1 for i in series.index[bad][:3]]
            raise DataError(
                f"column {name!r} changed type: {origin} has it as {expected}, but this file "
                f"holds text in it, e.g. {_examples(series[bad])} (data rows {rows})",
                uri=uri,
                hint="fix those cells (leave missing values empty or NA); if the column's "
                "meaning really changed, rename it",
            )
        frame[name] = converted
        return kind_of(converted)
    # boolean
    if observed == "boolean":
        return "boolean"
    lowered = series.dropna().astype(str).str.strip().str.lower()
    unknown = ~lowered.isin(_TRUE | _FALSE)
    if unknown.any():
        raise DataError(
            f"column {name!r} changed type: {origin} has it as boolean, but this file holds "
            f"other values, e.g. {_examples(lowered[unknown])}",
            uri=uri,
            hint="use true/false (or yes/no, 1/0) in that column",
        )
    mapped = series.map(lambda v: None if pd.isna(v) else str(v).strip().lower() in _TRUE)
    frame[name] = mapped.astype("boolean") if mapped.isna().any() else mapped.astype(bool)
    return "boolean"


def normalize_column(series: Any, kind: str) -> Any:
    """An ``object`` column (mixed chunks, JSON) as a proper dtype for its kind: numbers as
    floats or ints, text as strings, booleans as bool (as 1.0/0.0 when some are missing)."""
    import pandas as pd

    if kind in _NUMERIC:
        return pd.to_numeric(series)
    if kind == "boolean":
        return series.astype("float64") if series.isna().any() else series.astype(bool)
    return _as_text(series)


def _as_text(series: Any) -> Any:
    """Values as strings, missing values kept missing; integral floats lose their ``.0``."""
    from pandas.api import types as t

    if t.is_float_dtype(series.dtype):
        finite = series.dropna()
        if len(finite) and (finite == finite.round()).all():
            series = series.astype("Int64")
    return series.astype("str")


def find_formula_cells(frame: Any, columns: list[str]) -> dict[str, dict[str, Any]]:
    """Cells that a spreadsheet would run as a formula (CSV injection): text starting with
    ``=``, ``+``, ``-``, ``@``, tab or carriage return, other than plain signed numbers.
    They are only ever reported, never evaluated.

    :returns: column to ``{"count", "rows", "example"}``; rows are 1-based data rows.
    """
    found: dict[str, dict[str, Any]] = {}
    for name in columns:
        series = frame[name]
        starts = series.str.match(_FORMULA_START, na=False)
        if not starts.any():
            continue
        suspects = series[starts]
        harmless = suspects.str.fullmatch(_NUMBER, na=False) | (suspects.str.len() < 2)
        flagged = suspects[~harmless]
        if len(flagged):
            found[name] = {
                "count": len(flagged),
                "rows": [int(i) + 1 for i in flagged.index[:5]],
                "example": str(flagged.iloc[0])[:40],
            }
    return found


def profile_frame(frame: Any, kinds: Mapping[str, str], *, top: int = 5) -> dict[str, Any]:
    """Row and null counts, and per-column statistics (``columns``): nulls, min/max/mean/std
    for numbers, distinct values and the most frequent ones for text and booleans."""
    import numpy as np

    stats: dict[str, dict[str, Any]] = {}
    nulls = frame.isna().sum()
    numeric = [c for c in frame.columns if kinds.get(c) in _NUMERIC]
    if numeric:
        values = frame[numeric].to_numpy(dtype="float64", na_value=np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mins, maxs = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
            means, stds = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
        for i, name in enumerate(numeric):
            stats[name] = {
                "kind": kinds[name],
                "nulls": int(nulls[name]),
                "min": _num(mins[i]),
                "max": _num(maxs[i]),
                "mean": _num(means[i]),
                "std": _num(stds[i]),
            }
    for name in frame.columns:
        if name in stats:
            continue
        if kinds.get(name) == "datetime":
            values = frame[name].dropna()
            stats[name] = {
                "kind": "datetime",
                "nulls": int(nulls[name]),
                "min": values.min().isoformat() if len(values) else None,
                "max": values.max().isoformat() if len(values) else None,
                "distinct": int(values.nunique()),
            }
            continue
        counts = frame[name].value_counts(dropna=True)
        stats[name] = {
            "kind": kinds.get(name, "string"),
            "nulls": int(nulls[name]),
            "distinct": len(counts),
            "top": {str(k)[:80]: int(v) for k, v in counts.head(top).items()},
        }
    return {
        "rows": len(frame),
        "column_count": int(frame.shape[1]),
        "null_cells": int(nulls.sum()),
        "nulls": {str(k): int(v) for k, v in nulls.items()},
        "columns": {str(frame.columns[i]): stats[frame.columns[i]] for i in range(frame.shape[1])},
    }


def _num(value: Any) -> float | None:
    import math

    value = float(value)
    return value if math.isfinite(value) else None
