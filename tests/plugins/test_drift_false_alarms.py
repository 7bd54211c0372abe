"""Drift that does not cry wolf: batches too small to test, and the false-alarm rate on
same-distribution batches, measured through the runner as uploads to a scoring pipeline.

Once, a one-row batch flagged every feature and a same-distribution sample of 119 rows
raised an alarm on 1 of 30 features (and wrote a retrain request): each feature was tested
at 1 % on its own, so 30 features raised a false alarm in about a quarter of the batches.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _plugin_helpers import BUILTINS
from hookline._manager import make_plugin_manager
from hookline.cli._app import event_for
from hookline.runner import Hookline

CONFIG = """
[project]
name = "alarms"
storage = "store"

[pipelines.train]
model = "m"
stages = ["ingest", "train", "validate", "deploy"]
trigger = {{ prefix = "landing/train/" }}

[pipelines.score]
model = "m"
stages = ["ingest", "monitor"]
trigger = {{ prefix = "landing/score/" }}

[plugins.pandas]
target = "label"

[plugins.sklearn]
estimator = "sklearn.linear_model.LogisticRegression"
params = {{ max_iter = 300 }}
importance = false

[plugins.registry]
onnx = "off"

[plugins.drift]
retrain_on_drift = true
write_predictions = false
{drift}
"""
NUMERIC = 20
TEXT = 10


def population(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """30 features of the kinds real tables have: normal, skewed, bounded and count
    columns (with ties), and text columns of 2 to 11 unevenly frequent values."""
    data: dict[str, object] = {}
    for i in range(NUMERIC):
        kind = i % 4
        if kind == 0:
            values = rng.normal(10 * i, 1 + i, rows)
        elif kind == 1:
            values = rng.lognormal(0, 0.8, rows)
        elif kind == 2:
            values = rng.uniform(0, 1, rows).round(3)
        else:
            values = rng.poisson(3 + i, rows).astype(float)
        values[rng.random(rows) < 0.03] = np.nan
        data[f"n{i}"] = values
    for i in range(TEXT):
        levels = [f"v{k}" for k in range(2 + i)]
        weights = np.arange(1, len(levels) + 1, dtype=float)
        data[f"t{i}"] = rng.choice(levels, rows, p=weights / weights.sum())
    frame = pd.DataFrame(data)
    score = frame["n0"].fillna(0) / 10 + (frame["t0"] == "v1") - frame["n2"].fillna(0.5)
    frame["label"] = np.where(score + rng.normal(0, 0.5, rows) > 0.2, "yes", "no")
    return frame


def project(root: Path, drift: str = "") -> Hookline:
    root.mkdir(parents=True, exist_ok=True)
    (root / "hookline.toml").write_text(CONFIG.format(drift=drift))
    os.environ["HOOKLINE_LOG_LEVEL"] = "CRITICAL"
    return Hookline.from_config(
        str(root / "hookline.toml"), pm=make_plugin_manager(pinned=BUILTINS)
    )


def upload(app: Hookline, key: str, frame: pd.DataFrame):
    info = app.storage.write(key, frame.to_csv(index=False).encode())
    [result] = app.handle(event_for(app.storage, info))
    assert result.status == "succeeded", result.message
    return result.record


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("alarms")
    rng = np.random.default_rng(20261203)
    app = project(root)
    upload(app, "landing/train/train.csv", population(5000, rng))
    return root, rng


def false_alarms(app: Hookline, rng: np.random.Generator, rows: int, batches: int, tag: str):
    flagged = requested = 0
    for i in range(batches):
        batch = population(rows, rng).drop(columns="label")  # drift alone, not decay
        record = upload(app, f"landing/score/{tag}-{i:03d}.csv", batch)
        [report] = record["reports"]
        flagged += bool(report["drifted"])
        requested += bool(report["retrain_requested"])
    return flagged, requested


def test_a_one_row_batch_is_not_enough_rows_not_drift(trained):
    root, rng = trained
    app = project(root)
    complete = population(50, rng).dropna().iloc[:1].drop(columns="label")
    record = upload(app, "landing/score/one.csv", complete)
    [report] = record["reports"]
    assert not report["drifted"] and not report["retrain_requested"]
    assert sorted(report["details"]["not_enough_rows"]) == sorted(report["features"])
    for result in report["features"].values():
        assert result["status"] == "not enough rows" and not result["drifted"]
        assert "at least 50 are needed" in result["note"]


@pytest.mark.slow
@pytest.mark.parametrize("rows", [119, 1000])
def test_same_distribution_batches_rarely_flag_drift(trained, rows):
    """100 batches from the training distribution: at most 5 runs may flag drift."""
    root, rng = trained
    app = project(root)
    flagged, requested = false_alarms(app, rng, rows, 100, f"same{rows}")
    print(f"\n{rows}-row batches, 30 features: {flagged}/100 flagged drift")
    assert flagged <= 5 and requested == flagged


@pytest.mark.slow
def test_without_the_correction_the_same_batches_cry_wolf(trained):
    """The measurement can fail: with every test at 1 % on its own (no correction, the
    PSI test alone deciding) the same kind of batches raise far more alarms."""
    root, rng = trained
    app = project(root, 'correction = "none"\nmin_rows = 1\npsi_threshold = 0.0000001')
    flagged, _ = false_alarms(app, rng, 119, 30, "old")
    print(f"\nuncorrected, 119-row batches: {flagged}/30 flagged drift")
    assert flagged >= 5


def test_a_real_shift_is_still_found_in_a_small_batch(trained):
    root, rng = trained
    app = project(root)
    batch = population(119, rng)
    batch["n4"] = batch["n4"] + 20  # a whole standard deviation and more
    record = upload(app, "landing/score/shifted.csv", batch)
    [report] = record["reports"]
    assert report["drifted"] and report["details"]["drifted_features"] == ["n4"]
