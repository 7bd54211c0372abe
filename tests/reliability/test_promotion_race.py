"""Promotions raced: 16 trainings at once on one root, each judged against production.

The invariant: production only ever moves to a version that beat the version it replaced,
on the same evaluation data. Every promotion's alias-history entry names the version it was
compared with and the evaluation data; both must match the move itself, and the scores are
recomputed here from the registry's own artifacts (not trusted from the record).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import random
from pathlib import Path

import pandas as pd
import pytest
from hookline.plugins._stats import metrics_for
from hookline.plugins.metrics import is_better

from ._counters import record
from ._stack import MODEL, TRAIN_PREFIX, make_project, training_csv
from ._workers import train_concurrently
from .conftest import backend_params, root_for

TRAININGS = 16
PROCESSES = 4


def _holdout(project, version: int) -> tuple[pd.DataFrame, pd.Series]:
    doc = json.loads(project.registry.read_artifact(MODEL, version, "holdout.json"))
    frame = pd.DataFrame(doc["data"], columns=doc["columns"]).astype(doc["dtypes"])
    return frame.drop(columns=["__target__"]), frame["__target__"]


@pytest.mark.parametrize("backend", backend_params(fast=("local", "s3")))
def test_production_only_moves_to_a_version_that_beat_the_one_it_replaced(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, clean_env: None
) -> None:
    project = make_project(
        tmp_path / "project", root_for(request, backend, tmp_path), must_beat_production="true"
    )
    seed = random.randrange(10**6)
    [first] = project.app().handle(project.upload(f"{TRAIN_PREFIX}seed.csv", training_csv(seed)))
    assert first.status == "succeeded", first.message
    events = [
        project.upload(f"{TRAIN_PREFIX}part-{i:02d}.csv", training_csv(seed + 1 + i)).to_dict()
        for i in range(TRAININGS)
    ]
    groups = [events[i::PROCESSES] for i in range(PROCESSES)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(PROCESSES)
        with ctx.Pool(PROCESSES) as pool:
            parts = pool.starmap(
                train_concurrently,
                [(str(project.folder), project.root, g, barrier) for g in groups],
            )
    rows = [row for part in parts for row in part]
    context = f"(seed {seed}, {backend})"
    assert {r["status"] for r in rows} <= {"succeeded", "rejected"}, (rows, context)
    record("concurrent_runs", len(rows))

    state = project.registry.alias(MODEL, "production")
    assert state is not None
    stale = []
    for entry in state.history[1:]:  # the first promotion had nothing to beat
        evidence = entry.get("evidence") or {}
        if evidence.get("compared_with") != entry["previous"]:
            stale.append((entry["seq"], evidence.get("compared_with"), entry["previous"]))
            continue
        assert evidence["passed"] is True, entry
        candidate, _ = project.registry.load_model(MODEL, version=entry["version"])
        previous, _ = project.registry.load_model(MODEL, version=entry["previous"])
        trusted = [p for p in evidence["evaluation"] if p["trusted"]]
        assert trusted, f"move {entry['seq']} was judged on the new batch alone {context}"
        frames = []
        for part in trusted:
            version = int(part["source"].split()[1].removeprefix("v"))
            data = project.registry.read_artifact(MODEL, version, "holdout.json")
            assert hashlib.sha256(data).hexdigest() == part["sha256"], part
            frames.append(_holdout(project, version))
        X = pd.concat([f[0] for f in frames], ignore_index=True)
        y = pd.concat([f[1] for f in frames], ignore_index=True)
        metric = evidence["metric"]
        ours = metrics_for("classification", candidate, X, y)[metric]
        theirs = metrics_for("classification", previous, X, y)[metric]
        assert is_better(metric, ours, theirs), (entry["seq"], ours, theirs, context)
        assert evidence["scores"]["trusted"]["candidate"] == pytest.approx(ours)
        assert evidence["scores"]["trusted"]["production"] == pytest.approx(theirs)
    assert stale == [], f"moves compared against a stale production: {stale} {context}"
    promoted = [r for r in rows if r["status"] == "succeeded"]
    assert len(state.history) == 1 + len(promoted), "one move per promoted run, no more"
    record("promotions_verified", len(state.history) - 1)
    recompared = [r for r in rows if "deploy:registry" in r["message"]]
    print(
        f"{len(promoted)} promoted, {len(rows) - len(promoted)} rejected, "
        f"{len(recompared)} rejected on re-comparison {context}"
    )
