"""The validation gates in isolation: each check passes and fails where it should."""

from __future__ import annotations

import pandas as pd
import pytest
from _plugin_helpers import FAST, context, table
from hookline.config import check_table
from hookline.plugins import gates, train
from hookline.plugins._ingest_schema import kind_of
from hookline.registry import Registry
from hookline.types import Dataset


def make_dataset(frame: pd.DataFrame, *, schema=None, profile=None, target="label") -> Dataset:
    schema = schema or {
        c: {"dtype": kind_of(frame[c]), "nullable": bool(frame[c].isna().any())}
        for c in frame.columns
    }
    return Dataset(frame=frame, schema=schema, profile=profile or {}, target=target, source=None)


def fitted(frame: pd.DataFrame, **config):
    return train.fit(make_dataset(frame), check_table({**FAST, **config}, train.CONFIG, ""))


def run(storage, dataset, model, **config):
    ctx = context(storage, plugins={"gates": config})
    return {c.name: c for c in gates.validate(ctx=ctx, dataset=dataset, model=model)}


def promote(storage, model) -> int:
    """Register ``model`` as the production version of the sample model."""
    from hookline.plugins._artifact import model_bytes

    registry = Registry(storage)
    version = registry.register(
        "sample-model",
        {"model.skops": model_bytes(model.estimator)},
        {"task": model.task, "features": dict(model.features), "metrics": dict(model.metrics)},
    )
    registry.move_alias("sample-model", "production", version.version)
    return version.version


def test_first_model_passes_every_default_check(storage):
    frame = table(200)
    checks = run(storage, make_dataset(frame), fitted(frame))
    assert set(checks) == {
        "min_rows",
        "schema",
        "null_ratio",
        "label_balance",
        "beats_production",
        "latency",
        "model_size",
    }
    assert all(c.passed for c in checks.values()), checks
    # no latency budget by default: measured and recorded, never blocking
    assert [n for n, c in checks.items() if not c.blocking] == ["latency"]
    assert (
        checks["beats_production"].message == "no production model yet: this one becomes the first"
    )
    assert checks["min_rows"].observed == 200 and checks["min_rows"].kind == "data"
    assert checks["model_size"].kind == "model" and checks["model_size"].observed > 1000


def test_without_a_model_only_data_checks_run(storage):
    checks = run(storage, make_dataset(table(50)), None)
    assert set(checks) == {"min_rows", "schema", "null_ratio"}


def test_min_rows(storage):
    check = run(storage, make_dataset(table(15)), None)["min_rows"]
    assert not check.passed and (check.observed, check.threshold) == (15, 20)
    assert "lower [plugins.gates] min_rows" in check.message


def test_null_ratio_with_per_column_override(storage):
    frame = table(100)
    frame.loc[:59, "x1"] = None
    check = run(storage, make_dataset(frame), None)["null_ratio"]
    assert not check.passed and check.observed == 0.6 and check.threshold == 0.5
    assert "x1 (60.0% > 50.0%)" in check.message
    assert run(storage, make_dataset(frame), None, null_ratios={"x1": 0.7})["null_ratio"].passed


def test_declared_not_nullable_column_allows_no_gaps(storage):
    frame = table(100)
    schema = {"x2": {"dtype": "number", "nullable": False}}
    check = run(storage, make_dataset(frame, schema=schema), None)["null_ratio"]
    assert not check.passed and "x2 (5.0% > 0.0%)" in check.message


def test_declared_ranges_and_categories(storage):
    frame = table(100)
    schema = {
        "x1": {"dtype": "number", "min": -1.0, "max": 1.0},
        "color": {"dtype": "string", "categories": ["red", "green"]},
    }
    check = run(storage, make_dataset(frame, schema=schema), None)["ranges"]
    outside = int(((frame["x1"] < -1) | (frame["x1"] > 1)).sum())
    blue = int((frame["color"] == "blue").sum())
    assert not check.passed
    assert check.observed == pytest.approx((outside + blue) / (100 + frame["color"].notna().sum()))
    assert f"x1: {outside}" in check.message and f"color: {blue}" in check.message
    loose = run(storage, make_dataset(frame, schema=schema), None, max_out_of_range_ratio=0.9)
    assert loose["ranges"].passed


def test_label_balance(storage):
    frame = table(200)
    frame.loc[frame.index[:195], "label"] = "no"
    frame.loc[frame.index[195:], "label"] = "yes"
    checks = run(storage, make_dataset(frame), fitted(frame), min_class_ratio=0.05)
    check = checks["label_balance"]
    assert not check.passed and check.observed == 0.025
    assert check.message == "rarest class 'yes' is 2.5% of rows"


def test_flagged_formula_cells_warn_by_default(storage):
    profile = {"formula_cells": {"comment": {"count": 2, "rows": [4, 7], "example": "=1+1"}}}
    check = run(storage, make_dataset(table(50), profile=profile), None)["formula_cells"]
    assert not check.passed and not check.blocking and check.observed == 2


def test_metric_thresholds(storage):
    frame = table(200)
    model = fitted(frame)
    checks = run(
        storage,
        make_dataset(frame),
        model,
        min_metrics={"accuracy": 0.999},
        max_metrics={"log_loss": 1.0},
    )
    assert not checks["metric.accuracy"].passed
    assert checks["metric.accuracy"].observed == model.metrics["accuracy"]
    assert not checks["metric.log_loss"].passed
    assert checks["metric.log_loss"].message.startswith("metric 'log_loss' was not computed")


def test_must_beat_production_on_the_same_holdout(storage):
    frame = table(300)
    weak = fitted(frame, features=["x2"])  # a production model that learnt little
    promote(storage, weak)
    strong = fitted(frame)
    check = run(storage, make_dataset(frame), strong)["beats_production"]
    X, y = strong.holdout
    from sklearn.metrics import f1_score

    prod_f1 = f1_score(y, weak.estimator.predict(X), pos_label="yes")
    assert check.passed and check.observed == pytest.approx(strong.metrics["f1"])
    assert check.threshold == pytest.approx(prod_f1)
    assert f"on this batch's hold-out ({len(y)} rows)" in check.message
    # and the other way round: the weak model may not replace the strong one
    promote(storage, strong)
    check = run(storage, make_dataset(frame), weak)["beats_production"]
    assert not check.passed and check.blocking and "production v2" in check.message


def test_margin(storage):
    frame = table(200)
    model = fitted(frame)
    promote(storage, model)
    assert run(storage, make_dataset(frame), model)["beats_production"].passed  # a tie
    check = run(storage, make_dataset(frame), model, margin=0.01)["beats_production"]
    assert not check.passed
    assert check.threshold == pytest.approx(model.metrics["f1"] + 0.01)


def test_production_that_cannot_score_the_holdout(storage):
    frame = table(200)
    promote(storage, fitted(frame))
    renamed = frame.rename(columns={"x1": "width"})
    check = run(storage, make_dataset(renamed), fitted(renamed))["beats_production"]
    assert not check.passed and "production v1 cannot score the evaluation data" in check.message
    assert "warn_only" in check.message


def test_schema_against_production_features(storage):
    frame = table(200)
    promote(storage, fitted(frame))
    check = run(storage, make_dataset(frame.drop(columns=["x2"])), None)["schema"]
    assert not check.passed and check.observed == {"missing": ["x2"], "added": []}
    check = run(storage, make_dataset(frame.assign(extra=1)), None)["schema"]
    assert check.passed and "new column(s): extra" in check.message


def test_latency_and_size_budgets(storage):
    frame = table(200)
    checks = run(
        storage,
        make_dataset(frame),
        fitted(frame),
        max_latency_ms_per_row=1e-9,
        max_model_bytes=100,
    )
    assert not checks["latency"].passed and checks["latency"].threshold == 1e-9
    assert "ms per row over 5 timed predictions of 500 rows" in checks["latency"].message
    assert checks["latency"].blocking
    assert not checks["model_size"].passed and checks["model_size"].observed > 100


def test_warn_only_makes_checks_non_blocking(storage):
    frame = table(200)
    checks = run(
        storage,
        make_dataset(frame),
        fitted(frame),
        max_model_bytes=100,
        min_metrics={"accuracy": 0.999},
        warn_only=["model_size", "metric"],
    )
    assert not checks["model_size"].passed and not checks["model_size"].blocking
    assert not checks["metric.accuracy"].passed and not checks["metric.accuracy"].blocking
    assert checks["min_rows"].blocking


class Sleepy:
    """An estimator whose predict takes a scripted time on a fake clock (and records the
    batch sizes it saw): latency logic without timing anything real."""

    def __init__(self, seconds: list[float]) -> None:
        self.seconds = list(seconds)
        self.now = 0.0
        self.batches: list[int] = []

    def clock(self) -> float:
        return self.now

    def predict(self, X):
        self.batches.append(len(X))
        self.now += self.seconds.pop(0)
        return [0] * len(X)


def test_latency_is_the_median_of_fixed_size_batches_after_a_warm_up():
    from hookline.plugins._gates_model import measure_latency

    holdout = table(16)  # a tiny hold-out: its rows are repeated to fill the batch
    # warm-up 9 s (cold caches: ignored), then five timed runs with one outlier
    fake = Sleepy([9.0, 0.2, 0.1, 5.0, 0.3, 0.2])
    measured = measure_latency(fake, holdout, batch_rows=100, repeats=5, clock=fake.clock)
    assert fake.batches == [100] * 6
    assert measured.batch_rows == 100 and measured.warmups == 1
    assert measured.runs == pytest.approx((2.0, 1.0, 50.0, 3.0, 2.0))  # ms per row
    assert measured.median == pytest.approx(2.0)  # the 5 s outlier does not move it


def test_latency_check_message_budget_and_warn_only(storage, monkeypatch):
    from hookline.plugins import _gates_model
    from hookline.types import TrainedModel

    frame = table(30)
    fake = Sleepy([1.0] + [0.05, 0.04, 0.06])
    monkeypatch.setattr(_gates_model.time, "perf_counter", fake.clock)
    model = TrainedModel(
        estimator=fake,
        task="classification",
        features={},
        target="label",
        metrics={},
        params={},
        reference_profile={},
        holdout=(frame, frame["label"]),
    )
    cfg = check_table(
        {"latency_rows": 10, "latency_repeats": 3, "max_latency_ms_per_row": 4.0},
        gates.CONFIG,
        "plugins.gates",
    )
    result = _gates_model._latency(model, frame, cfg)
    assert not result.passed and result.blocking and result.observed == pytest.approx(5.0)
    assert result.message == (
        "median 5 ms per row over 3 timed predictions of 10 rows (after 1 warm-up; runs 4 to "
        "6 ms per row); budget 4 ms per row: over it"
    )
    fake.seconds = [1.0, 0.05, 0.05, 0.05]
    unset = _gates_model._latency(model, frame, {**cfg, "max_latency_ms_per_row": None})
    assert unset.passed and not unset.blocking and unset.threshold is None
    assert "no budget set ([plugins.gates] max_latency_ms_per_row)" in unset.message


def test_latency_measures_a_real_sleep():
    """A real clock: the measurement is at least what predict really sleeps (a lower bound
    holds on any machine, busy or not)."""
    import time

    from hookline.plugins._gates_model import measure_latency

    class Slow:
        def predict(self, X):
            time.sleep(0.01)
            return [0] * len(X)

    measured = measure_latency(Slow(), table(20), batch_rows=50, repeats=3)
    assert measured.median >= 10.0 / 50
