"""hookline's built-in trust list is derived, not guessed: every estimator the docs (and
the project's own test configurations) name and the default ones, fitted by the built-in
trainer in every preprocessing variant, needs exactly ``BUILTIN_TRUSTED_TYPES`` beyond
skops' defaults -- no more (the list is not a namespace in disguise), no less (their
models load)."""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hookline import modelio
from hookline.config import check_table
from hookline.plugins import train
from hookline.plugins._ingest_schema import kind_of
from hookline.types import Dataset

ROOT = Path(__file__).resolve().parents[2]
DOTTED = re.compile(r"\bsklearn(?:\.[a-z_]+)+\.[A-Z]\w+")


def documented_estimators() -> list[str]:
    """Estimator classes named anywhere in the docs and examples, plus the defaults."""
    from sklearn.base import is_classifier, is_regressor

    texts = [p.read_text() for p in [*(ROOT / "docs").rglob("*.md"), ROOT / "README.md"]]
    texts += [p.read_text() for p in (ROOT / "examples").rglob("*.toml")]
    # the estimators the project's own test configurations train (shipped behaviour too)
    texts += [p.read_text() for p in (ROOT / "tests").rglob("*.py")]
    found = set(train.DEFAULT_ESTIMATORS.values())
    for path in set(DOTTED.findall("\n".join(texts))):
        module, _, name = path.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module), name)
            instance = cls()
            if is_classifier(instance) or is_regressor(instance):
                found.add(path)
        except Exception:  # noqa: BLE001, S112 - a wrong name in an error example, or a
            continue  # class that is no estimator (a metric, a tree structure)
    return sorted(found)


def frame(task: str, *, classes: int, text: bool, rows: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(classes + 10 * text)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    data: dict[str, object] = {"x1": x1, "x2": x2}
    if text:
        data["color"] = rng.choice(["red", "green", "blue"], rows)
    out = pd.DataFrame(data)
    out.loc[:5, "x2"] = np.nan
    if text:
        out.loc[6:8, "color"] = None
    if task == "regression":
        out["label"] = 3 * x1 + rng.normal(size=rows)
    elif classes == 2:
        out["label"] = np.where(x1 > 0, "yes", "no")
    else:
        out["label"] = np.select([x1 < -0.5, x1 < 0.5], ["a", "b"], "c")
    return out


def dataset(table: pd.DataFrame) -> Dataset:
    schema = {
        c: {"dtype": kind_of(table[c]), "nullable": bool(table[c].isna().any())}
        for c in table.columns
    }
    return Dataset(frame=table, schema=schema, profile={}, target="label", source=None)


ESTIMATORS = documented_estimators()


def test_the_docs_name_the_estimators_this_list_is_derived_from() -> None:
    assert "sklearn.ensemble.HistGradientBoostingClassifier" in ESTIMATORS
    assert "sklearn.ensemble.RandomForestClassifier" in ESTIMATORS
    assert "sklearn.linear_model.LogisticRegression" in ESTIMATORS  # the tests' trainer
    assert len(ESTIMATORS) >= 5, ESTIMATORS


CHEAP = {"max_iter": 5, "n_estimators": 3, "max_depth": 3}


@functools.cache
def needed_by(estimator: str) -> frozenset[str]:
    """What the built-in trainer's pipelines around ``estimator`` need beyond skops'
    defaults, over its preprocessing variants; each model also loads and predicts."""
    import skops.io as sio
    from sklearn.base import is_classifier

    module, _, name = estimator.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    task = "classification" if is_classifier(cls()) else "regression"
    accepted = inspect.signature(cls).parameters
    cheap = {k: v for k, v in CHEAP.items() if k in accepted}  # the types, not the fit
    needed: set[str] = set()
    variants = itertools.product(
        (2, 3) if task == "classification" else (0,),
        (True, False),  # a text column (one-hot) or numbers only
        ((True, "most_frequent"), (False, "constant")),  # scale, text imputation
    )
    for classes, text, (scale, impute) in variants:
        cfg = check_table(
            {
                "estimator": estimator,
                "task": task,
                "scale": scale,
                "categorical_impute": impute,
                "params": cheap,
            },
            train.CONFIG,
            "",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = train.fit(dataset(frame(task, classes=classes, text=text)), cfg)
        data = modelio.dumps(model.estimator)
        needed |= set(sio.get_untrusted_types(data=data))
        loaded = modelio.loads(data, expected_sha256=modelio.sha256(data), where=estimator)
        X = model.holdout[0]
        assert (loaded.predict(X) == model.estimator.predict(X)).all()
    return frozenset(needed)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_what_the_trainer_writes_loads_with_the_builtin_list(estimator: str) -> None:
    assert needed_by(estimator) <= set(modelio.BUILTIN_TRUSTED_TYPES)


def test_every_builtin_trusted_name_is_needed_by_one_of_them() -> None:
    used = set().union(*(needed_by(e) for e in ESTIMATORS))
    assert used == set(modelio.BUILTIN_TRUSTED_TYPES), used
