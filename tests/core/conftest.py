from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hookline import CheckResult, Dataset, Deployment, TrainedModel, hookimpl

TOML = """
[project]
name = "t"
storage = "store"

[pipelines.train]
model = "m"
stages = ["ingest", "train", "validate", "deploy"]
trigger = { prefix = "landing/train/", suffix = ".csv" }

[pipelines.score]
model = "m"
stages = ["ingest", "monitor"]
trigger = { prefix = "landing/score/" }
"""


class TinyPlugin:
    """A dependency-light stand-in for the built-ins: reads CSV text, 'trains' a mean."""

    def __init__(self, *, fail_in: str | None = None, passed: bool = True) -> None:
        self.fail_in = fail_in
        self.passed = passed
        self.calls: list[str] = []

    @hookimpl
    def ingest(self, ctx, source):
        self.calls.append("ingest")
        text = Path(source.path).read_text()
        rows = [line.split(",") for line in text.strip().splitlines()[1:]]
        return Dataset(
            frame=rows,
            schema={"columns": ["x", "y"]},
            profile={"rows": len(rows)},
            target="y",
            source=source,
        )

    @hookimpl
    def train(self, ctx, dataset):
        self.calls.append("train")
        if self.fail_in == "train":
            raise ValueError("the data has no variance")
        from sklearn.dummy import DummyRegressor

        est = DummyRegressor().fit([[0]] * len(dataset.frame), [float(r[1]) for r in dataset.frame])
        return TrainedModel(
            estimator=est,
            task="regression",
            features={"x": {"dtype": "number"}},
            target="y",
            metrics={"r2": 0.5},
            params={"strategy": "mean"},
            reference_profile={},
        )

    @hookimpl
    def validate(self, ctx, dataset, model):
        return [CheckResult("min_rows", self.passed, len(dataset.frame), 1)]

    @hookimpl
    def deploy(self, ctx, model, checks):
        mv = ctx.registry.register_estimator(
            ctx.model_name, model.estimator, {"run_id": ctx.run_id, "metrics": model.metrics}
        )
        ctx.registry.move_alias(ctx.model_name, ctx.pipeline.alias, mv.version, run_id=ctx.run_id)
        return Deployment("registry", ctx.model_name, mv.version, ctx.pipeline.alias, "promoted")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with hookline.toml and a CSV; cwd is set to it."""
    (tmp_path / "hookline.toml").write_text(textwrap.dedent(TOML))
    (tmp_path / "data.csv").write_text("x,y\n1,2\n2,4\n3,6\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOOKLINE_STORAGE", raising=False)
    monkeypatch.delenv("HOOKLINE_CONFIG", raising=False)
    return tmp_path


TINY = """
from tests.core.conftest import TinyPlugin
import os
plugin = TinyPlugin(fail_in=os.environ.get("TINY_FAIL_IN"))
"""


@pytest.fixture
def tiny_installed(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TinyPlugin installed as a distribution with an entry point, pinned as the only plugin."""
    site = project / "site"
    (site / "tinyplug-0.1.dist-info").mkdir(parents=True)
    (site / "tinyplug.py").write_text(TINY)
    (site / "tinyplug-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tinyplug\nVersion: 0.1\n"
    )
    (site / "tinyplug-0.1.dist-info" / "entry_points.txt").write_text(
        "[hookline]\ntiny = tinyplug:plugin\n"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    monkeypatch.setenv("HOOKLINE_PLUGINS", "tiny")
    monkeypatch.delitem(__import__("sys").modules, "tinyplug", raising=False)
    return project
