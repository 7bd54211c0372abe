"""The built-in ``train``: a scikit-learn pipeline fitted on the upload (entry point
``sklearn``).

One :class:`sklearn.pipeline.Pipeline` holds the preprocessing (impute and scale numbers,
impute and one-hot encode text with ``handle_unknown="ignore"``) and the estimator, so the
registered model takes the raw columns. The estimator is named by dotted path in
``[plugins.sklearn]``; by default a histogram gradient-boosting classifier or regressor,
chosen by the target's type.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from hookline import hookimpl
from hookline.config import Option
from hookline.errors import ConfigError, DataError
from hookline.jsonio import jsonable
from hookline.plugins._common import schema_columns, settings
from hookline.plugins._stats import compare_metric, metrics_for, positive_class, reference_profile
from hookline.plugins._train_card import CARD_SCHEMA, card_text, data_card, metric_spread, window
from hookline.plugins._train_eval import (
    cross_validation,
    evaluation,
    holdout,
    importance,
    scorers,
    splitter,
)
from hookline.plugins._train_features import choose_features
from hookline.plugins._train_pipeline import build_pipeline, estimator_for
from hookline.plugins._train_search import search
from hookline.types import Dataset, RunContext, TrainedModel

NAME = "sklearn"

DEFAULT_ESTIMATORS = {
    "classification": "sklearn.ensemble.HistGradientBoostingClassifier",
    "regression": "sklearn.ensemble.HistGradientBoostingRegressor",
}

CONFIG = {
    "estimator": Option(
        str,
        "auto",
        "dotted path of the estimator class; `auto` picks "
        "HistGradientBoostingClassifier or ...Regressor by the target",
    ),
    "params": Option(
        dict,
        {},
        "keyword arguments for the estimator (class imbalance: class_weight = "
        '"balanced" where the estimator takes it)',
    ),
    "task": Option(
        str,
        "auto",
        "`auto` infers it from the target: text, booleans and "
        "integers with few distinct values are classes",
        choices=("auto", "classification", "regression"),
    ),
    "pos_label": Option(
        str,
        None,
        "the positive class of a binary target (its text), for f1 and roc_auc; "
        "default: the second class in sorted order",
    ),
    "features": Option(
        list, [], "the feature columns, used as they are; empty means every usable column"
    ),
    "exclude": Option(list, [], "columns never used as features (ids, dates, leaks)"),
    "new_columns": Option(
        str,
        "ignore",
        "columns the production model does not use: `ignore` leaves them out with a warning "
        "(the prediction API stays), `use` learns from them",
        choices=("ignore", "use"),
    ),
    "max_text_cardinality": Option(
        float,
        0.5,
        "a text column with more distinct values than this share of its rows is left out "
        "as identifier-like or free text (with a warning); 0: never",
    ),
    "test_size": Option(float, 0.2, "share of rows held out for metrics and gates"),
    "seed": Option(int, 42, "seed of the splits, the search and the estimator's random_state"),
    "split": Option(
        str,
        "random",
        "how rows are held out (and cross-validated): `random` (stratified by class), "
        "`group` (whole groups of split_column), `time` (the latest rows by split_column, "
        "forward-chaining folds)",
        choices=("random", "group", "time"),
    ),
    "split_column": Option(str, "", "the group or time column of split = group / time"),
    "stratify": Option(bool, True, "stratify the random split and its folds by class"),
    "cv_folds": Option(
        int,
        0,
        "k-fold cross-validation on the training rows (mean and spread of every metric in "
        "the model card); 0: off",
    ),
    "search": Option(
        dict,
        {},
        "parameter search: { method = random | halving, params = {...}, candidates, "
        "budget_seconds, folds }; empty: off",
    ),
    "importance": Option(
        bool, True, "permutation importance of every input column on the hold-out"
    ),
    "importance_rows": Option(int, 1000, "hold-out rows sampled for permutation importance"),
    "importance_repeats": Option(int, 5, "shuffles per column for permutation importance"),
    "card": Option(
        dict,
        {},
        "the model card's text: { description, intended_use, limitations, owners }",
    ),
    "numeric_impute": Option(
        str,
        "median",
        "how missing numbers are filled",
        choices=("mean", "median", "most_frequent", "constant"),
    ),
    "categorical_impute": Option(
        str,
        "most_frequent",
        "how missing text is filled (`constant` fills `missing`)",
        choices=("most_frequent", "constant"),
    ),
    "scale": Option(
        bool,
        True,
        "standardise numeric features (never for tree models: their splits do not move)",
    ),
    "max_categories": Option(
        int,
        50,
        "distinct codes per text feature: beyond it, the most frequent values keep a "
        "one-hot column and rarer ones are encoded like unseen values (all zeros); 0: no limit",
    ),
    "class_threshold": Option(
        int, 20, "an integer target with at most this many distinct values is treated as classes"
    ),
    "min_rows": Option(int, 10, "fewer labelled rows than this is an error"),
    "reference_bins": Option(
        int, 10, "quantile bins per numeric feature in the drift reference profile"
    ),
    "reference_sketch": Option(
        int, 1000, "quantiles kept per numeric feature for the KS drift test"
    ),
}


@hookimpl(trylast=True)
def train(ctx: RunContext, dataset: Dataset) -> TrainedModel | None:
    """Fit the configured estimator on ``dataset`` and measure it on a seeded hold-out."""
    cfg = settings(ctx, NAME, CONFIG)
    production = ctx.registry.resolve(ctx.model_name, "production")
    features = dict(production.manifest.get("features") or {}) if production else None
    model = fit(dataset, cfg, production=features, log=ctx.log)
    warnings = list(model.card.get("warnings") or [])
    for warning in warnings:
        ctx.log.warning("%s", warning)
    if warnings:
        ctx.notes.setdefault(NAME, {})["warnings"] = warnings
    return model


def fit(
    dataset: Dataset,
    cfg: Mapping[str, Any],
    *,
    production: Mapping[str, Any] | None = None,
    log: logging.Logger | None = None,
) -> TrainedModel:
    """Build, fit and measure the pipeline; the body of :func:`train`.

    :param production: the production model's feature schema (new columns are left out
        unless ``new_columns = "use"``).
    :raises DataError: no target, a single class, or too few rows.
    :raises ConfigError: an estimator path, parameter or search setting that does not work.
    """
    log = log or logging.getLogger("hookline.plugins.train")
    started = time.perf_counter()
    frame = dataset.frame
    uri = dataset.source.uri if dataset.source else None
    target = dataset.target
    if target is None or target not in frame.columns:
        raise DataError(
            "the dataset has no target column to learn", uri=uri, hint="set [plugins.pandas] target"
        )
    frame = frame.loc[frame[target].notna()]
    card_text_ = card_text(cfg["card"])
    columns = schema_columns(dataset.schema)
    y = frame[target]
    task = _task(y, cfg, columns.get(target, {}).get("dtype"))
    choice = choose_features(
        frame,
        target,
        cfg,
        uri,
        schema=columns,
        production=production,
        group_column=cfg["split_column"] if cfg["split"] == "group" else None,
    )
    features = choice.features
    if len(frame) < cfg["min_rows"]:
        raise DataError(
            f"only {len(frame)} labelled rows; at least {cfg['min_rows']} are "
            "needed to train and hold out",
            uri=uri,
            hint="upload more rows, or lower [plugins.sklearn] min_rows",
        )
    if cfg["cv_folds"] and cfg["cv_folds"] < 2:
        raise ConfigError(
            f"expected 0 (off) or at least 2 folds, got {cfg['cv_folds']}",
            key="plugins.sklearn.cv_folds",
        )
    classes: list[Any] = []
    positive = None
    if task == "classification":
        counts = y.value_counts()
        if len(counts) < 2:
            raise DataError(
                f"the target column {target!r} has a single class ({counts.index[0]!r}): "
                "there is nothing to tell apart",
                uri=uri,
                hint="upload rows of at least two classes, or set [plugins.sklearn] task = "
                '"regression" for a numeric target',
            )
        classes = sorted(counts.index.tolist())
        if len(classes) == 2:
            try:
                positive = positive_class(classes, cfg["pos_label"])
            except ValueError as exc:
                raise ConfigError(str(exc), key="plugins.sklearn.pos_label") from None
    split = holdout(frame, features, target, task, cfg, uri)
    spec = {name: _feature_spec(frame[features], name) for name in features}
    estimator_path, estimator = estimator_for(task, cfg, DEFAULT_ESTIMATORS)
    pipeline = build_pipeline(spec, estimator, cfg, split.X_train)
    metric = compare_metric(task)
    search_info = None
    log.info(
        "fitting %s on %s rows x %d features (hold-out: %s rows)",
        estimator_path.rsplit(".", 1)[-1],
        f"{len(split.y_train):,}",
        len(features),
        f"{len(split.y_test):,}",
    )
    if cfg["search"]:
        folds = int(cfg["search"].get("folds") or cfg["cv_folds"] or 3)
        cv, _ = splitter(task, cfg, folds)
        pipeline, search_info = search(
            pipeline,
            split.X_train,
            split.y_train,
            cfg["search"],
            cv=cv,
            folds=folds,
            groups=split.groups if cfg["split"] == "group" else None,
            scoring=scorers(task, classes, positive)[metric],
            metric=metric,
            seed=cfg["seed"],
            log=log,
        )
        estimator = pipeline.named_steps["model"]
    else:
        pipeline.fit(split.X_train, split.y_train)
    fitted = time.perf_counter() - started
    metrics = {
        k: v
        for k, v in metrics_for(
            task, pipeline, split.X_test, split.y_test, pos_label=positive
        ).items()
        if math.isfinite(v)
    }
    cv_result = None
    if cfg["cv_folds"]:
        log.info("cross-validating: %d folds", cfg["cv_folds"])
        cv_result = cross_validation(pipeline, split, task, cfg, classes, positive)
    params = {
        "estimator": estimator_path,
        **jsonable(_params(estimator)),
        "test_size": cfg["test_size"],
        "seed": cfg["seed"],
        "split": cfg["split"],
        "stratified": split.stratified,
        "rows_train": len(split.y_train),
        "rows_test": len(split.y_test),
    }
    if positive is not None:
        params["pos_label"] = str(positive)
    if cv_result is not None:
        params["cv_folds"] = cfg["cv_folds"]
    if search_info is not None:
        params["search"] = {
            k: search_info[k]
            for k in ("searcher", "candidates", "budget_seconds", "best_params", "best_score")
        }
    card = {
        "schema": CARD_SCHEMA,
        **card_text_,
        "model": {
            "task": task,
            "estimator": estimator_path,
            "target": target,
            "features": len(features),
            **({"classes": [str(c) for c in classes]} if classes else {}),
            **({"pos_label": str(positive)} if positive is not None else {}),
        },
        "metrics": metric_spread(metrics, cv_result),
        "holdout": {"rows": len(split.y_test), "how": split.how},
        "cv": cv_result,
        "search": search_info,
        **evaluation(pipeline, split, task, classes),
        "importance": importance(pipeline, split, task, cfg, classes, positive, metric),
        "data": data_card(dataset, frame, target, features),
        "window": window(dataset),
        "excluded": choice.excluded,
        "warnings": choice.warnings,
        "seconds": {"fit": round(fitted, 3), "total": round(time.perf_counter() - started, 3)},
    }
    profile = {
        "version": 1,
        "rows": len(frame),
        "task": task,
        "features": reference_profile(
            frame[features], spec, bins=cfg["reference_bins"], sketch=cfg["reference_sketch"]
        ),
        "target": _target_profile(y, target, task),
        "schema": dict(dataset.schema),
    }
    return TrainedModel(
        estimator=pipeline,
        task="classification" if task == "classification" else "regression",
        features=jsonable(spec),
        target=target,
        metrics=metrics,
        params=params,
        reference_profile=jsonable(profile),
        holdout=(split.X_test, split.y_test),
        flavor="sklearn",
        card=jsonable(card),
    )


def _task(y: Any, cfg: Mapping[str, Any], declared_dtype: str | None) -> str:
    from hookline.plugins._ingest_schema import KINDS, kind_of

    if cfg["task"] != "auto":
        return str(cfg["task"])
    kind = declared_dtype if declared_dtype in KINDS else kind_of(y)
    if kind in ("string", "boolean"):
        return "classification"
    integral = kind == "integer" or bool((y.dropna() % 1 == 0).all())
    if integral and y.nunique() <= cfg["class_threshold"]:
        return "classification"
    return "regression"


def _feature_spec(X: Any, name: str) -> dict[str, Any]:
    from hookline.plugins._ingest_schema import kind_of

    dtype = kind_of(X[name])  # what the column holds (ingest coerced it to the schema)
    spec: dict[str, Any] = {"dtype": dtype, "nullable": bool(X[name].isna().any())}
    if dtype == "string":
        values = X[name].dropna().astype("str").unique()
        if len(values) <= 1000:
            spec["categories"] = sorted(str(v) for v in values)
    return spec


def _params(estimator: Any) -> dict[str, Any]:
    out = {}
    for key, value in estimator.get_params(deep=False).items():
        out[key] = (
            value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        )
    return out


def _target_profile(y: Any, name: str, task: str) -> dict[str, Any]:
    from hookline.plugins._ingest_schema import kind_of

    out: dict[str, Any] = {"name": name, "dtype": kind_of(y), "nullable": False}
    if task == "classification":
        shares = y.astype("str").value_counts(normalize=True)
        out["classes"] = {str(k): float(v) for k, v in shares.items()}
    else:
        out.update(mean=float(y.mean()), std=float(y.std()), min=float(y.min()), max=float(y.max()))
    return out
