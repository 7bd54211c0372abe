"""Realistic inputs for plugin tests: small tables, a fitted model, a run context, a record.

Everything is deterministic (seeded) and small enough to fit in milliseconds. pandas and
scikit-learn are imported inside the functions that need them, never at import time.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookline.events import RunEvent, StorageEvent, utc_now_iso
from hookline.types import CheckResult, Dataset, RunContext, Source, Task, TrainedModel

if TYPE_CHECKING:
    import pandas as pd
    from hookline.storage import Storage

__all__ = [
    "TARGETS",
    "TASKS",
    "describe_frame",
    "make_context",
    "sample_checks",
    "sample_dataset",
    "sample_frame",
    "sample_model",
    "sample_record",
    "sample_source",
]

TASKS: tuple[Task, ...] = ("classification", "regression")
"""The task types hookline trains for; every sample exists for each."""

TARGETS: dict[str, str] = {"classification": "churned", "regression": "monthly_spend"}
"""The label column of each task's sample table."""

MODEL_NAME = "sample-model"


def sample_frame(task: Task = "classification", *, rows: int = 240, seed: int = 0) -> pd.DataFrame:
    """A customer table with numeric, integer and categorical features and missing values.

    Columns: ``age`` (float, ~8% missing), ``tenure_months`` (int), ``usage_hours`` (float,
    ~5% missing), ``plan`` (``basic``/``plus``/``pro``, ~5% missing), ``region`` (4 values),
    and the label: ``churned`` (``"yes"``/``"no"``) for classification, ``monthly_spend``
    (float) for regression. The label itself is never missing.

    :param task: ``classification`` or ``regression``.
    :param rows: number of rows (at least 20).
    :param seed: random seed; the same seed gives the same table.
    :raises ValueError: an unknown task or fewer than 20 rows.
    """
    import numpy as np
    import pandas as pd

    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    if rows < 20:
        raise ValueError(f"rows must be at least 20, got {rows}")
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, rows).astype(float)
    tenure = rng.integers(0, 72, rows)
    usage = rng.gamma(2.0, 10.0, rows).round(2)
    plan = rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2]).astype(object)
    region = rng.choice(["north", "south", "east", "west"], rows)
    bonus = np.select([plan == "plus", plan == "pro"], [15.0, 40.0], 0.0)
    spend = (12.0 + 0.4 * usage + bonus + rng.normal(0, 3.0, rows)).round(2)
    score = 0.8 - 0.05 * tenure + 0.02 * (age - 45) - 0.03 * usage + rng.normal(0, 0.8, rows)
    churned = np.where(score > 0, "yes", "no")
    churned[:2] = ["yes", "no"]  # both classes, whatever the seed
    age[rng.random(rows) < 0.08] = np.nan
    usage = np.where(rng.random(rows) < 0.05, np.nan, usage)
    plan[rng.random(rows) < 0.05] = None
    frame = pd.DataFrame(
        {"age": age, "tenure_months": tenure, "usage_hours": usage, "plan": plan, "region": region}
    )
    frame[TARGETS[task]] = churned if task == "classification" else spend
    return frame


def _kind(col: Any) -> str:
    from pandas.api import types as t

    if t.is_bool_dtype(col.dtype):
        return "boolean"
    if t.is_integer_dtype(col.dtype):
        return "integer"
    if t.is_numeric_dtype(col.dtype):
        return "number"
    return "string"


def describe_frame(
    frame: pd.DataFrame, target: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``(schema, profile)`` pair of a :class:`~hookline.types.Dataset`, JSON-ready, in
    the shape the built-in ``pandas`` ingest produces.

    ``schema`` maps each column to ``{"dtype", "nullable"}``, where ``dtype`` is one of
    ``number``, ``integer``, ``string``, ``boolean``, and the label's entry has
    ``"target": true``. ``profile`` holds ``rows``, ``column_count``, ``null_cells``,
    ``nulls`` (per column) and ``columns`` (per-column statistics).
    """
    import math

    schema: dict[str, Any] = {}
    columns: dict[str, Any] = {}
    nulls = frame.isna().sum()
    for name in frame.columns:
        col = frame[name]
        kind = _kind(col)
        entry: dict[str, Any] = {"dtype": kind, "nullable": bool(col.isna().any())}
        if name == target:
            entry["target"] = True
        schema[str(name)] = entry
        stats: dict[str, Any] = {"kind": kind, "nulls": int(nulls[name])}
        if kind in ("number", "integer"):
            for key, value in (
                ("min", col.min()),
                ("max", col.max()),
                ("mean", col.mean()),
                ("std", col.std(ddof=0)),
            ):
                number = float(value)
                stats[key] = number if math.isfinite(number) else None
        else:
            counts = col.value_counts(dropna=True)
            stats["distinct"] = len(counts)
            stats["top"] = {str(k): int(v) for k, v in counts.head(5).items()}
        columns[str(name)] = stats
    profile = {
        "rows": len(frame),
        "column_count": int(frame.shape[1]),
        "null_cells": int(nulls.sum()),
        "nulls": {str(k): int(v) for k, v in nulls.items()},
        "columns": columns,
    }
    return schema, profile


def sample_dataset(
    task: Task = "classification",
    *,
    rows: int = 240,
    seed: int = 0,
    source: Source | None = None,
    labelled: bool = True,
) -> Dataset:
    """:func:`sample_frame` wrapped as the :class:`~hookline.types.Dataset` ``ingest`` returns.

    :param labelled: ``False`` drops the label column, as in a scoring batch.
    """
    frame = sample_frame(task, rows=rows, seed=seed)
    target: str | None = TARGETS[task]
    if not labelled:
        frame = frame.drop(columns=[TARGETS[task]])
        target = None
    schema, profile = describe_frame(frame, target)
    return Dataset(
        frame=frame,
        schema=schema,
        profile=profile,
        target=target,
        source=source,
        sources=(source,) if source is not None else (),
    )


def sample_source(
    directory: str | os.PathLike[str],
    task: Task = "classification",
    *,
    uri: str | None = None,
    rows: int = 240,
    seed: int = 0,
) -> Source:
    """Write the sample table as CSV in ``directory`` and describe it as ``ingest`` gets it.

    :param uri: the object's URI (default: the file's own ``file://`` URI).
    """
    path = Path(directory) / f"{task}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    sample_frame(task, rows=rows, seed=seed).to_csv(path, index=False)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    return Source(
        uri=uri or path.resolve().as_uri(),
        path=str(path),
        size=len(data),
        sha256=digest,
        version=digest[:16],
    )


def sample_model(dataset: Dataset, *, seed: int = 0) -> TrainedModel:
    """Fit a small scikit-learn pipeline on ``dataset`` as the built-in trainer would:
    imputation, scaling and one-hot encoding, then logistic or ridge regression, measured
    on a 25% hold-out split.

    :raises ValueError: the dataset has no target column.
    """
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if dataset.target is None:
        raise ValueError("sample_model needs a labelled dataset (target is None)")
    frame = dataset.frame
    y = frame[dataset.target]
    x = frame.drop(columns=[dataset.target])
    numeric = [c for c in x.columns if x[c].dtype.kind in "fiu"]
    categorical = [c for c in x.columns if c not in numeric]
    task: Task = "regression" if y.dtype.kind in "fiu" and y.nunique() > 10 else "classification"
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                ),
                categorical,
            ),
        ]
    )
    x = x.astype({c: object for c in categorical})
    head = LogisticRegression(max_iter=500) if task == "classification" else Ridge()
    estimator = Pipeline([("prep", prep), ("model", head)])
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=seed)
    estimator.fit(x_train, y_train)
    pred = estimator.predict(x_test)
    if task == "classification":
        metrics = {
            "accuracy": float(accuracy_score(y_test, pred)),
            "f1": float(f1_score(y_test, pred, average="macro")),
        }
    else:
        metrics = {
            "r2": float(r2_score(y_test, pred)),
            "mae": float(mean_absolute_error(y_test, pred)),
            "rmse": float(np.sqrt(np.mean((np.asarray(y_test) - pred) ** 2))),
        }
    features: dict[str, Any] = {
        c: {"dtype": _kind(x[c]), "nullable": bool(x[c].isna().any())} for c in numeric
    }
    for c in categorical:
        features[c] = {
            "dtype": "string",
            "nullable": bool(x[c].isna().any()),
            "categories": sorted(str(v) for v in x[c].dropna().unique()),
        }
    _, reference = describe_frame(x_train, None)
    params = {
        k: v
        for k, v in head.get_params().items()
        if isinstance(v, str | int | float | bool) or v is None
    }
    return TrainedModel(
        estimator=estimator,
        task=task,
        features=features,
        target=dataset.target,
        metrics=metrics,
        params=params,
        reference_profile=reference,
        holdout=(x_test, y_test),
    )


def sample_checks(model: TrainedModel | None = None) -> list[CheckResult]:
    """Passing checks as ``validate`` returns them: one data check, one model check."""
    checks = [
        CheckResult(
            name="min_rows",
            passed=True,
            observed=240,
            threshold=50,
            blocking=True,
            kind="data",
            message="",
        )
    ]
    if model is not None:
        name, value = next(iter(model.metrics.items()))
        checks.append(
            CheckResult(
                name=f"metric.{name}",
                passed=True,
                observed=value,
                threshold=0.0,
                blocking=True,
                kind="model",
                message="",
            )
        )
    return checks


def _pipelines(storage_uri: str) -> dict[str, Any]:
    return {
        "project": {"name": "plugin-check", "storage": storage_uri},
        "pipelines": {
            "train": {
                "model": MODEL_NAME,
                "stages": ["ingest", "train", "validate", "deploy"],
                "trigger": {"prefix": "landing/train/", "suffix": [".csv", ".parquet"]},
            },
            "monitor": {
                "model": MODEL_NAME,
                "stages": ["ingest", "monitor"],
                "trigger": {"prefix": "landing/score/", "suffix": [".csv"]},
            },
        },
    }


def make_context(
    storage: Storage,
    *,
    pipeline: str = "train",
    plugins: Mapping[str, Mapping[str, Any]] | None = None,
    event: RunEvent | None = None,
    upload: str | os.PathLike[str] | None = None,
    run_id: str | None = None,
) -> RunContext:
    """A :class:`~hookline.types.RunContext` like the one the runner builds.

    :param storage: the storage root (registry, run records, reports live under it).
    :param pipeline: ``train`` (ingest, train, validate, deploy on ``landing/train/``) or
        ``monitor`` (ingest, monitor on ``landing/score/``).
    :param plugins: ``[plugins.NAME]`` tables, plugin name to table.
    :param event: the triggering event; by default a storage event for ``upload``.
    :param upload: a local file copied to the pipeline's landing prefix first, as an upload
        would be; the default event then points at it.
    :param run_id: the run id (default: derived from the event, as the runner does).
    :raises hookline.errors.ConfigError: a plugin table does not validate.
    """
    from hookline.config import parse_config
    from hookline.registry import Registry

    raw = _pipelines(storage.uri)
    raw["plugins"] = {name: dict(table) for name, table in (plugins or {}).items()}
    config = parse_config(raw, source="<hookline.testing>", env={})
    if pipeline not in config.pipelines:
        raise ValueError(f"unknown sample pipeline {pipeline!r}; use 'train' or 'monitor'")
    pipe = config.pipelines[pipeline]
    if event is None:
        assert pipe.trigger is not None
        name = Path(upload).name if upload is not None else "upload.csv"
        key = pipe.trigger.prefix + name
        if upload is not None:
            with open(upload, "rb") as fh:
                info = storage.upload(key, fh)
        else:
            info = storage.write(key, b"")
        event = StorageEvent(
            uri=storage.url(key),
            bucket="",
            key=key,
            size=info.size,
            etag=info.etag,
            version=info.etag,
            source="local",
        )
    return RunContext(
        run_id=run_id or event.run_id(pipe.name),
        pipeline=pipe,
        event=event,
        storage=storage,
        registry=Registry(
            storage, trusted_types=config.plugin_config("registry").get("trusted_types", ())
        ),
        config=config,
        log=logging.getLogger(f"hookline.run.{pipe.name}"),
    )


def sample_record(
    ctx: RunContext,
    *,
    status: str = "succeeded",
    model: TrainedModel | None = None,
    checks: Sequence[CheckResult] = (),
    error: BaseException | None = None,
) -> dict[str, Any]:
    """A run record shaped like the one ``runs/<run_id>/record.json`` holds."""
    from dataclasses import asdict

    record: dict[str, Any] = {
        "run_id": ctx.run_id,
        "pipeline": ctx.pipeline.name,
        "model": ctx.model_name,
        "project": ctx.config.name,
        "status": status,
        "attempt": 1,
        "started_at": utc_now_iso(),
        "finished_at": utc_now_iso(),
        "seconds": 1.25,
        "trigger": {**ctx.event.to_dict(), "sha256": "0" * 64},
        "config_hash": ctx.config.digest,
        "plugins": [],
        "libraries": {"python": "3.11"},
        "stages": {s: {"status": "ok", "seconds": 0.1} for s in ctx.pipeline.stages},
        "params": dict(model.params) if model else {},
        "metrics": dict(model.metrics) if model else {},
        "checks": [asdict(c) for c in checks],
        "deployments": [],
        "reports": [],
        "data": {},
        "error": None,
    }
    if model is not None:
        record["task"] = model.task
    if status == "succeeded" and model is not None and "deploy" in ctx.pipeline.stages:
        record["deployments"] = [
            {
                "target": "registry",
                "model": ctx.model_name,
                "version": 1,
                "alias": "production",
                "status": "promoted",
                "uri": None,
                "details": {},
            }
        ]
    if status == "rejected":
        record["rejected_by"] = [c.name for c in checks if not c.passed] or ["min_rows"]
    if error is not None:
        record["error"] = {
            "message": str(error),
            "type": type(error).__name__,
            "stage": "train",
            "plugin": getattr(error, "plugin", None),
            "hook": getattr(error, "hook", None),
            "distribution": None,
            "hint": None,
            "traceback": "",
        }
    return record
