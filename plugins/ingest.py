"""The built-in ``ingest``: CSV, Parquet and JSON Lines with pandas (entry point ``pandas``).

It reads the uploaded object with explicit limits, checks it against a schema -- declared
in ``[plugins.pandas] columns``, else the one saved with the ``production`` model, else
inferred on this first run -- and profiles it for the run record. Every problem with the
file is a :class:`~hookline.errors.DataError` naming the file, the problem and a fix.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any

from hookline import hookimpl
from hookline.config import Option
from hookline.errors import DataError
from hookline.jsonio import jsonable
from hookline.plugins._common import schema_columns, schema_target, settings
from hookline.plugins._ingest_read import (
    Limits,
    check_encoding,
    check_header,
    check_truncated_tail,
    choose_format,
    csv_header,
    read_frame,
)
from hookline.plugins._ingest_schema import (
    KINDS,
    coerce_column,
    find_formula_cells,
    kind_of,
    normalize_column,
    profile_frame,
)
from hookline.storage import fetch_source, open_storage
from hookline.types import Dataset, RunContext, Source

NAME = "pandas"

CONFIG = {
    "format": Option(
        str,
        "auto",
        "how to read uploads; `auto` goes by the suffix (.csv, "
        ".parquet, .jsonl, .json) and checks it against the content",
        choices=("auto", "csv", "parquet", "jsonl", "json"),
    ),
    "delimiter": Option(str, ",", "CSV field delimiter"),
    "encoding": Option(str, "utf-8", "text encoding of CSV and JSON files"),
    "na_values": Option(
        list,
        [],
        "extra strings read as missing, besides pandas' defaults (empty, NA, N/A, NaN, null...)",
    ),
    "target": Option(str, None, "the label column; default: the production model's target"),
    "columns": Option(
        dict,
        {},
        "declared schema: column -> {dtype, nullable, min, max, "
        "categories, required}; empty means infer (or use production's)",
    ),
    "strict_columns": Option(
        bool, False, "fail when the file has columns the declared schema lacks"
    ),
    "enforce_production_schema": Option(
        bool, True, "hold uploads to the column types saved with the production model"
    ),
    "drop_columns": Option(list, [], "columns to drop right after reading (ids, free text)"),
    "allow_all_null": Option(list, [], "columns allowed to be empty in every row"),
    "formula_cells": Option(
        str,
        "error",
        "text cells starting with = + - @ (CSV injection): "
        "`error` fails the run, `flag` records them in the profile (the "
        "gates plugin then warns)",
        choices=("error", "flag"),
    ),
    "max_rows": Option(
        int, 5_000_000, "most data rows read; a larger file fails, it is never silently truncated"
    ),
    "max_columns": Option(int, 1000, "most columns accepted"),
    "chunk_rows": Option(int, 200_000, "rows parsed per chunk (bounds parser memory)"),
}

_DECLARED_KEYS = {"dtype", "nullable", "min", "max", "categories", "required"}


@hookimpl(trylast=True)
def ingest(ctx: RunContext, source: Source | None) -> Dataset | None:
    """Read ``source`` (or, for a scheduled run, the newest object under the pipeline's
    trigger prefix) into a checked, profiled :class:`~hookline.types.Dataset`."""
    cfg = settings(ctx, NAME, CONFIG)
    if source is not None:
        return read_dataset(ctx, source, cfg)
    tmp = tempfile.mkdtemp(prefix="hookline-ingest-")
    try:
        latest = _latest_upload(ctx, tmp)
        if latest is None:
            return None
        ctx.sources.append(latest)
        return read_dataset(ctx, latest, cfg)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_dataset(ctx: RunContext, source: Source, cfg: Mapping[str, Any]) -> Dataset:
    """Read, check and profile one file; the body of :func:`ingest`."""
    uri = source.uri
    limits = Limits(cfg["max_rows"], cfg["max_columns"], max(1, cfg["chunk_rows"]))
    declared = _declared(cfg["columns"])
    production, prod_version = (
        _production_schema(ctx) if cfg["enforce_production_schema"] else (None, None)
    )
    expected = declared or schema_columns(production)
    fmt = choose_format(source.path, uri, source.suffix, cfg["format"])
    if fmt != "parquet":
        check_encoding(source.path, uri, cfg["encoding"])
    if fmt == "csv":
        header = csv_header(source.path, uri, cfg["encoding"], cfg["delimiter"])
        check_header(header, uri, cfg["delimiter"], len(expected), limits)
        check_truncated_tail(source.path, uri, cfg["encoding"], cfg["delimiter"], len(header))
    frame = read_frame(
        source.path,
        uri,
        fmt,
        encoding=cfg["encoding"],
        delimiter=cfg["delimiter"],
        na_values=cfg["na_values"],
        limits=limits,
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    if fmt != "csv":
        check_header(list(frame.columns), uri, cfg["delimiter"], 0, limits)
    frame = frame.drop(columns=[c for c in cfg["drop_columns"] if c in frame.columns])
    if len(frame) == 0:
        raise DataError(
            "the file has a header but no data rows",
            uri=uri,
            hint="upload a file with at least one data row",
        )

    target = cfg["target"] or schema_target(production)
    trains = ctx.pipeline.trains
    guessed = None
    if trains and target is None:
        target = guessed = _guess_target(list(frame.columns))
        if target is None:
            raise DataError(
                "the file has a single column: there is no label to learn and nothing to "
                "learn it from",
                uri=uri,
                hint="upload a table with feature columns and a label column",
            )
    if target is not None and target not in frame.columns:
        if trains:
            raise DataError(
                f"the target column {target!r} is missing",
                uri=uri,
                hint=f"the file's columns are: {', '.join(frame.columns[:20])}; "
                "set [plugins.pandas] target if the label has another name",
            )
        target = None  # unlabelled data: fine for scoring and monitoring

    origin = (
        "the declared schema"
        if declared
        else f"the production model's schema (v{prod_version})"
        if production
        else None
    )
    _check_columns(frame, declared, production, cfg, uri, trains, prod_version, target)
    kinds: dict[str, str] = {}
    for name in frame.columns:
        spec = expected.get(name)
        if spec and spec.get("dtype") in KINDS and origin:
            kinds[name] = coerce_column(frame, name, spec["dtype"], uri, origin)
        else:
            kinds[name] = kind_of(frame[name])
            if frame[name].dtype == object:
                frame[name] = normalize_column(frame[name], kinds[name])

    empty = [
        c for c in frame.columns if c not in cfg["allow_all_null"] and not frame[c].notna().any()
    ]
    if empty:
        raise DataError(
            f"column {empty[0]!r} is empty in every row"
            + (f" (and {len(empty) - 1} more)" if len(empty) > 1 else ""),
            uri=uri,
            hint="drop the column, fill it, or list it in [plugins.pandas] allow_all_null",
        )

    _check_finite(frame, kinds, uri)
    text_columns = [c for c in frame.columns if kinds[c] == "string"]
    formulas = find_formula_cells(frame, text_columns)
    _check_formula_names(frame, uri)
    if formulas and cfg["formula_cells"] == "error":
        column, info = next(iter(formulas.items()))
        total = sum(f["count"] for f in formulas.values())
        raise DataError(
            f"{total} cell(s) look like spreadsheet formulas (CSV injection), e.g. "
            f"{info['example']!r} in column {column!r} (data row {info['rows'][0]}); "
            "hookline never evaluates them",
            uri=uri,
            hint="remove the leading = + - @ from those cells, or set [plugins.pandas] "
            'formula_cells = "flag" to accept and flag them',
        )

    dropped = 0
    if target is not None and trains:
        missing = frame[target].isna()
        dropped = int(missing.sum())
        if dropped == len(frame):
            raise DataError(
                f"the target column {target!r} has no values",
                uri=uri,
                hint="upload labelled rows to a training pipeline",
            )
        if dropped:
            frame = frame.loc[~missing]

    profile = profile_frame(frame, kinds)
    profile.update(
        uri=uri,
        format=fmt,
        bytes=source.size,
        sha256=source.sha256,
        dropped_rows={"null_target": dropped},
        formula_cells=formulas,
        schema_origin=origin or "inferred",
        target=target,
        target_guessed=guessed is not None,
    )
    schema = {
        name: _column_schema(frame, name, kinds[name], declared.get(name)) for name in frame.columns
    }
    if target is not None:
        schema[target]["target"] = True
    return Dataset(
        frame=frame,
        schema=jsonable(schema),
        profile=jsonable(profile),
        target=target,
        source=source,
        sources=(source,),
    )


def _guess_target(columns: list[str]) -> str | None:
    """No target configured and no production model: a column named like a label
    (``target``, ``label``, ``class``, ``y``, ``outcome``), else the last column."""
    for name in columns:
        if name.strip().lower() in ("target", "label", "class", "y", "outcome"):
            return name
    return columns[-1] if len(columns) > 1 else None


def _declared(columns: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, spec in columns.items():
        if isinstance(spec, str):
            spec = {"dtype": spec}
        if not isinstance(spec, Mapping):
            from hookline.errors import ConfigError

            raise ConfigError(
                "expected a dtype string or a table", key=f"plugins.pandas.columns.{name}"
            )
        unknown = set(spec) - _DECLARED_KEYS
        if unknown or spec.get("dtype", "string") not in KINDS:
            from hookline.errors import ConfigError

            raise ConfigError(
                f"unknown keys {sorted(unknown)}"
                if unknown
                else f"dtype must be one of {', '.join(KINDS)}, got {spec.get('dtype')!r}",
                key=f"plugins.pandas.columns.{name}",
                hint=f"allowed keys: {', '.join(sorted(_DECLARED_KEYS))}",
            )
        out[str(name)] = dict(spec)
    return out


def _production_schema(ctx: RunContext) -> tuple[dict[str, Any] | None, int | None]:
    """The schema saved with the ``production`` model, when there is one."""
    mv = ctx.registry.resolve(ctx.model_name, "production")
    if mv is None or "schema.json" not in mv.artifacts:
        return None, None
    raw = ctx.registry.read_artifact(ctx.model_name, mv.version, "schema.json")
    schema = json.loads(raw)
    features = mv.manifest.get("features")
    if isinstance(schema, dict) and isinstance(features, Mapping) and features:
        # a batch to score needs what the model reads, not the columns training excluded
        schema = {
            k: v
            for k, v in schema.items()
            if k in features or not isinstance(v, Mapping) or v.get("target")
        }
    return schema, mv.version


def _check_columns(
    frame: Any,
    declared: Mapping[str, Any],
    production: Mapping[str, Any] | None,
    cfg: Mapping[str, Any],
    uri: str,
    trains: bool,
    version: int | None,
    target: str | None,
) -> None:
    present = set(frame.columns)
    if declared:
        missing = [
            c
            for c, spec in declared.items()
            if c not in present
            and spec.get("required", True)
            and not (c == target and not trains)
            and c != cfg["target"]
        ]
        if missing:
            raise DataError(
                f"declared column(s) missing: {', '.join(map(repr, missing))}",
                uri=uri,
                hint=f"the file's columns are: {', '.join(frame.columns)}",
            )
        extra = [c for c in frame.columns if c not in declared]
        if extra and cfg["strict_columns"]:
            raise DataError(
                f"undeclared column(s): {', '.join(map(repr, extra))}",
                uri=uri,
                hint="declare them in [plugins.pandas] columns, drop them with "
                "drop_columns, or set strict_columns = false",
            )
    elif production and not trains:
        wanted = [c for c, spec in schema_columns(production).items() if not spec.get("target")]
        missing = [c for c in wanted if c not in present]
        if missing:
            raise DataError(
                f"the production model (v{version}) needs column(s) this file lacks: "
                f"{', '.join(map(repr, missing))}",
                uri=uri,
                hint="send every feature column the model was trained on",
            )


def _check_finite(frame: Any, kinds: dict[str, str], uri: str) -> None:
    """Infinite numbers (``inf``, ``1e999``) are not data: refuse them with the column."""
    import numpy as np

    for name, kind in kinds.items():
        if kind not in ("number", "integer"):
            continue
        values = frame[name].to_numpy(dtype="float64", na_value=np.nan)
        bad = np.isinf(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            raise DataError(
                f"column {name!r} holds {int(bad.sum())} infinite value(s), first in data "
                f"row {row} ({frame[name].iloc[row - 1]!r})",
                uri=uri,
                hint="replace inf / 1e999 with a finite number or leave the cell empty",
            )


def _check_formula_names(frame: Any, uri: str) -> None:
    for name in frame.columns:
        if str(name)[:1] in ("=", "+", "@") or (
            str(name)[:1] == "-" and len(str(name)) > 1 and not str(name)[1:2].isdigit()
        ):
            raise DataError(
                f"column name {str(name)[:40]!r} looks like a spreadsheet formula (CSV injection)",
                uri=uri,
                hint="rename the column",
            )


def _column_schema(
    frame: Any, name: str, kind: str, declared: Mapping[str, Any] | None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"dtype": kind, "nullable": bool(frame[name].isna().any())}
    for key in ("min", "max", "categories", "nullable"):
        if declared and key in declared:
            spec[key] = declared[key]
    return spec


def _latest_upload(ctx: RunContext, workdir: str) -> Source | None:
    """For a scheduled run: fetch the newest object under the pipeline's trigger prefix."""
    trigger = ctx.pipeline.trigger
    if trigger is None:
        return None
    storage = ctx.storage
    if trigger.source:
        storage = open_storage(trigger.source)
    candidates = [
        i for i in storage.list(trigger.prefix) if trigger.matches_key(i.key) and i.size > 0
    ]
    if not candidates:
        ctx.log.warning("nothing uploaded under %s yet", storage.url(trigger.prefix))
        ctx.notes["pandas"] = f"nothing uploaded under {storage.url(trigger.prefix)} yet"
        return None
    info = max(candidates, key=lambda i: (i.modified, i.key))
    limit = int(ctx.config.limits["max_upload_bytes"])
    return fetch_source(storage, info.key, workdir, limit=limit)
