"""Fixtures for the prediction service: small real scikit-learn pipelines registered in a
real registry, the same contract the built-in train plugin produces (a Pipeline with a
ColumnTransformer over named DataFrame columns, and a manifest with ``features``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FEATURES = {
    "age": {"dtype": "integer", "nullable": False},
    "income": {"dtype": "number", "nullable": True},
    "plan": {"dtype": "string", "categories": ["basic", "pro", "team"], "nullable": False},
    "active": {"dtype": "boolean", "nullable": False},
    "signup channel": {"dtype": "string", "nullable": True},
}
RECORD = {"age": 31, "income": 52.5, "plan": "pro", "active": True, "signup channel": "web"}

CONFIG = """\
[project]
name = "serving-tests"
storage = "store"

[pipelines.train]
model = "churn"
stages = ["ingest", "train", "validate", "deploy"]
trigger = {{ prefix = "landing/train/" }}

[serving]
reload_seconds = {reload}
max_batch = 50
max_body_bytes = 20000
{extra}
"""


def training_frame(n: int = 120, seed: int = 0) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50, 10, n),
            "plan": rng.choice(["basic", "pro", "team"], n),
            "active": rng.choice([True, False], n),
            "signup channel": rng.choice(["web", "shop", None], n),
        }
    )
    frame.loc[::7, "income"] = np.nan
    return frame


def fit(kind: str = "classifier", *, flip: bool = False) -> Any:
    """A Pipeline(ColumnTransformer, estimator). ``flip`` inverts the classifier's labels,
    so two versions give opposite answers to the same record."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = training_frame()
    pre = ColumnTransformer(
        [
            (
                "num",
                Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]),
                ["age", "income"],
            ),
            (
                "cat",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value="none")),
                        ("onehot", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                ["plan", "signup channel"],
            ),
            ("flag", "passthrough", ["active"]),
        ]
    )
    if kind == "classifier":
        y = (frame["income"].fillna(50) > 50).map({True: "yes", False: "no"})
        if flip:
            y = y.map({"yes": "no", "no": "yes"})
        return Pipeline([("pre", pre), ("clf", LogisticRegression())]).fit(frame, y)
    return Pipeline([("pre", pre), ("reg", LinearRegression())]).fit(frame, frame["age"] * 2.0)


_FITTED: dict[tuple[str, bool], Any] = {}


def fitted(kind: str = "classifier", flip: bool = False) -> Any:
    if (kind, flip) not in _FITTED:
        _FITTED[kind, flip] = fit(kind, flip=flip)
    return _FITTED[kind, flip]


@dataclass
class Project:
    """A project folder with hookline.toml and a local storage root holding a registry."""

    root: Path
    config_path: Path

    @property
    def config(self) -> Any:
        from hookline.config import load_config

        return load_config(self.config_path)

    @property
    def storage(self) -> Any:
        from hookline.storage import open_storage

        return open_storage(str(self.root / "store"))

    @property
    def registry(self) -> Any:
        from hookline.registry import Registry

        return Registry(self.storage)

    def register(
        self,
        estimator: Any = None,
        *,
        task: str = "classification",
        features: dict[str, Any] | None = None,
        model: str = "churn",
    ) -> int:
        mv = self.registry.register_estimator(
            model,
            estimator or fitted(),
            {
                "features": features or FEATURES,
                "task": task,
                "target": "churned",
                "metrics": {"accuracy": 0.9},
                "lineage": {"source": "s3://b/landing/train/x.csv", "sha256": "ab" * 32},
            },
        )
        return mv.version

    def promote(self, version: int | None, model: str = "churn") -> None:
        self.registry.move_alias(model, "production", version)

    def app(self, **kwargs: Any) -> Any:
        from hookline.adapters.serving import create_app

        kwargs.setdefault("environ", {})
        return create_app(str(self.config_path), **kwargs)


def make_project(root: Path, *, reload: float = 0, extra: str = "") -> Project:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "hookline.toml"
    path.write_text(CONFIG.format(reload=reload, extra=extra))
    return Project(root, path)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj")


@pytest.fixture
def served(project: Project) -> Project:
    """A project whose production alias points at version 1 (a classifier)."""
    project.promote(project.register())
    return project


@pytest.fixture
def client(served: Project) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(served.app()) as c:
        yield c


def load_event(name: str) -> dict[str, Any]:
    path = Path(__file__).resolve().parents[1] / "fixtures" / "http" / name
    return json.loads(path.read_text())
