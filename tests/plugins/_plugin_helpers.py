"""Helpers for the built-in plugins' tests: small deterministic tables, a run context over
a temporary storage root, and a project driven through the real command line."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hookline.registry import Registry
from hookline.storage import LocalStorage
from hookline.types import RunContext, Source

BUILTINS = "pandas,sklearn,gates,registry,drift"
FAST = {"estimator": "sklearn.linear_model.LogisticRegression", "params": {"max_iter": 500}}


def table(
    rows: int = 200,
    *,
    seed: int = 0,
    shift: float = 0.0,
    colors=("red", "green", "blue"),
    label: bool = True,
) -> pd.DataFrame:
    """A small classification table: two numbers with gaps, one text column with gaps,
    and a ``label`` that depends on them."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(shift, 1.0, rows)
    x2 = rng.normal(0.0, 1.0, rows)
    color = rng.choice(list(colors), rows)
    score = x1 + 0.5 * x2 + np.where(color == colors[0], 0.8, 0.0)
    frame = pd.DataFrame({"x1": x1.round(4), "x2": x2.round(4), "color": color})
    frame.loc[rng.choice(rows, rows // 20, replace=False), "x2"] = np.nan
    frame.loc[rng.choice(rows, rows // 25, replace=False), "color"] = None
    if label:
        frame["label"] = np.where(score > 0.3, "yes", "no")
    return frame


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def source_for(ctx: RunContext, path: Path) -> Source:
    """The Source the runner would hand to ``ingest`` for the context's upload."""
    data = Path(path).read_bytes()
    return Source(
        uri=ctx.event.uri,
        path=str(path),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        version="v1",
    )


def context(
    storage: LocalStorage,
    *,
    pipeline: str = "train",
    upload: Path | None = None,
    plugins: Mapping[str, Mapping[str, Any]] | None = None,
    run_id: str | None = None,
) -> RunContext:
    """A run context like the runner's (the conformance kit's sample project: model
    ``sample-model``, pipelines ``train`` and ``monitor``)."""
    from hookline.testing import make_context

    return make_context(storage, pipeline=pipeline, upload=upload, plugins=plugins, run_id=run_id)


CONFIG = """
[project]
name = "t"
storage = "store"

[limits]
{limits}

[pipelines.train]
model = "m"
stages = ["ingest", "train", "validate", "deploy"]
trigger = {{ prefix = "landing/train/", suffix = [".csv", ".parquet", ".jsonl", ".json"] }}

[pipelines.score]
model = "m"
stages = ["ingest", "monitor"]
trigger = {{ prefix = "landing/score/" }}

[plugins.pandas]
target = "label"

[plugins.sklearn]
estimator = "sklearn.linear_model.LogisticRegression"
params = {{ max_iter = 500 }}

[plugins.gates]
min_rows = 20
{extra}
"""


class Project:
    """A hookline project in a temporary folder, driven through ``hookline.cli.main``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "hookline.toml"
        self.write()

    def write(self, extra: str = "", *, limits: str = "skip_empty_objects = false") -> None:
        """(Re)write hookline.toml; ``extra`` is appended, ``limits`` goes in [limits]."""
        self.config.write_text(
            CONFIG.format(extra=textwrap.dedent(extra), limits=textwrap.dedent(limits))
        )

    @property
    def storage(self) -> LocalStorage:
        return LocalStorage(self.root / "store")

    @property
    def registry(self) -> Registry:
        return Registry(self.storage)

    def cli(self, *args: str) -> tuple[int, Any]:
        """Run ``hookline ARGS --config ... --json``; return the exit code and the JSON."""
        from hookline.cli import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*args, "--config", str(self.config), "--json"])
        try:
            return code, json.loads(out.getvalue())
        except ValueError:
            raise AssertionError(
                f"hookline {args} printed no JSON (exit {code}):\n"
                f"{out.getvalue()}\n{err.getvalue()}"
            ) from None

    def run(self, path: Path, pipeline: str = "train") -> dict[str, Any]:
        """Upload ``path`` through ``hookline run`` and return the run record."""
        code, results = self.cli("run", "--pipeline", pipeline, str(path))
        assert len(results) == 1, results
        result = results[0]
        if result["run_id"] is None:
            return {"status": result["status"], "message": result["message"], "code": code}
        _, record = self.cli("runs", "show", result["run_id"])
        assert (code == 1) == (record["status"] == "failed"), (code, record["status"])
        return record

    def state(self) -> dict[str, Any]:
        """What the registry holds: versions and aliases (what "nothing promoted" means)."""
        _, models = self.cli("models")
        found = {m["name"]: m for m in models}
        model = found.get("m", {"versions": 0, "aliases": {}})
        return {"versions": model["versions"], "aliases": model["aliases"]}


def written_keys(storage: LocalStorage) -> list[str]:
    return sorted(i.key for i in storage.list(""))
