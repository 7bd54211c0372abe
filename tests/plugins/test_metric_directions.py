"""One table says which way each metric is better; every gate, monitor and message uses it:
relative changes in the metric's own terms, "rose"/"fell" from the numbers, and metric
names checked when ``hookline.toml`` loads."""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pandas as pd
import pytest
from _plugin_helpers import BUILTINS, Project, context, source_for, table, write_csv
from hookline.config import check_table
from hookline.errors import ConfigError
from hookline.plugins import drift, gates, ingest, metrics, registry, train


def test_the_table_decides_comparisons_and_thresholds() -> None:
    assert metrics.direction("rmse") == "lower" and metrics.direction("f1") == "higher"
    assert metrics.is_better("rmse", 0.9, 1.0) and not metrics.is_better("rmse", 1.1, 1.0)
    assert metrics.is_better("f1", 0.9, 0.8) and not metrics.is_better("f1", 0.7, 0.8)
    assert metrics.is_better("mae", 1.0, 1.0)  # a tie is at least as good
    assert metrics.threshold("rmse", 1.0, 0.1) == pytest.approx(0.9)
    assert metrics.threshold("accuracy", 0.8, 0.05) == pytest.approx(0.85)
    assert not metrics.is_better("rmse", 0.95, 1.0, margin=0.1)
    with pytest.raises(KeyError, match="did you mean 'accuracy'"):
        metrics.direction("acuracy")


def test_relative_worsening_is_in_the_metrics_own_terms() -> None:
    assert metrics.worsening("rmse", 10.0, 11.0) == pytest.approx(0.1)  # a rise is worse
    assert metrics.worsening("rmse", 10.0, 9.0) == pytest.approx(-0.1)
    assert metrics.worsening("f1", 0.8, 0.72) == pytest.approx(0.1)  # a fall is worse
    assert metrics.worsening("r2", -0.5, -1.0) == pytest.approx(1.0)  # negative baselines
    assert metrics.worsening("rmse", 0.0, 0.1) == math.inf
    assert metrics.worsening("rmse", 0.0, 0.0) == 0.0
    assert metrics.describe_change("rmse", 1.2, 1.5) == "rmse rose from 1.2 to 1.5 (25% worse)"
    assert metrics.describe_change("rmse", 1.5, 1.2) == "rmse fell from 1.5 to 1.2 (20% better)"
    assert metrics.describe_change("f1", 0.8, 0.6) == "f1 fell from 0.8 to 0.6 (25% worse)"
    assert metrics.describe_change("mae", 1.0, 1.0) == "mae stayed at 1"


def test_a_plugin_declares_the_metrics_it_computes(monkeypatch) -> None:
    monkeypatch.setattr(metrics, "_DIRECTIONS", dict(metrics._DIRECTIONS))  # restored after
    metrics.declare("hit_rate_at_10", "higher")
    metrics.declare("hit_rate_at_10", "higher")  # idempotent
    assert metrics.direction("hit_rate_at_10") == "higher"
    with pytest.raises(ValueError, match="already declared: higher is better"):
        metrics.declare("hit_rate_at_10", "lower")
    with pytest.raises(ValueError, match="'higher' or 'lower'"):
        metrics.declare("other", "up")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        metrics.DIRECTIONS["x"] = "lower"  # type: ignore[index]


@pytest.mark.parametrize(
    ("plugin", "table_", "key", "message"),
    [
        ("gates", {"compare_metric": "f_1"}, "plugins.gates.compare_metric", "did you mean 'f1'"),
        (
            "gates",
            {"min_metrics": {"acuracy": 0.8}},
            "plugins.gates.min_metrics.acuracy",
            "unknown metric 'acuracy' (did you mean 'accuracy'?)",
        ),
        (
            "gates",
            {"min_metrics": {"rmse": 2.0}},
            "plugins.gates.min_metrics.rmse",
            "rmse is better when lower: a minimum would reject the better models",
        ),
        (
            "gates",
            {"max_metrics": {"f1": 0.9}},
            "plugins.gates.max_metrics.f1",
            "f1 is better when higher: a maximum would reject the better models",
        ),
        (
            "gates",
            {"max_metrics": {"rmse": "low"}},
            "plugins.gates.max_metrics.rmse",
            "expected a number, got str 'low'",
        ),
        ("drift", {"decay_metric": "rsme"}, "plugins.drift.decay_metric", "did you mean 'rmse'"),
        ("drift", {"method": "kss"}, "plugins.drift.method", "did you mean 'ks'"),
    ],
)
def test_metric_names_are_checked_when_the_config_loads(
    plugin: str, table_: dict, key: str, message: str
) -> None:
    schema = {"gates": gates.CONFIG, "drift": drift.CONFIG}[plugin]
    with pytest.raises(ConfigError) as caught:
        check_table(table_, schema, f"plugins.{plugin}", "hookline.toml")
    assert f"[{key}]" in str(caught.value) and message in str(caught.value)
    assert caught.value.exit_code == 2


def test_the_command_line_exits_2_naming_the_key(tmp_path, monkeypatch) -> None:
    from hookline.cli import main

    monkeypatch.setenv("HOOKLINE_PLUGINS", BUILTINS)
    project = Project(tmp_path)
    project.write('compare_metric = "roc-auc"\n')  # lands in [plugins.gates]
    data = write_csv(tmp_path / "d.csv", table(60))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["run", str(data), "--config", str(project.config)])
    assert code == 2
    assert "[plugins.gates.compare_metric] unknown metric 'roc-auc'" in err.getvalue()
    assert "did you mean 'roc_auc'?" in err.getvalue()
    assert not (tmp_path / "store" / "runs").exists()  # nothing ran


def regression_table(rows: int, *, seed: int, noise: float) -> pd.DataFrame:
    """``y`` in the thousands: an absolute drop of 0.1 is nothing, 10% is a lot."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(0.0, 1.0, rows)
    x2 = rng.normal(0.0, 1.0, rows)
    y = 5000.0 + 800.0 * x1 - 300.0 * x2 + rng.normal(0.0, noise, rows)
    return pd.DataFrame({"x1": x1.round(4), "x2": x2.round(4), "y": y.round(2)})


@pytest.fixture
def regressor(storage, tmp_path):
    path = write_csv(tmp_path / "train.csv", regression_table(400, seed=1, noise=100.0))
    ctx = context(storage, upload=path, plugins={"pandas": {"target": "y"}})
    dataset = ingest.ingest(ctx=ctx, source=source_for(ctx, path))
    cfg = check_table(
        {"estimator": "sklearn.linear_model.LinearRegression", "task": "regression"},
        train.CONFIG,
        "",
    )
    model = train.fit(dataset, cfg)
    registry.deploy(ctx=ctx, model=model, checks=[])
    return model


def score(storage, tmp_path, frame, name, **config):
    path = write_csv(tmp_path / name, frame)
    ctx = context(storage, pipeline="monitor", upload=path, plugins={"drift": config})
    dataset = ingest.ingest(ctx=ctx, source=source_for(ctx, path))
    return drift.monitor(ctx=ctx, dataset=dataset)


def test_regression_decay_is_relative_and_says_rose(storage, tmp_path, regressor) -> None:
    baseline = regressor.metrics["rmse"]
    # a little noisier: RMSE a few per cent higher, in target units far more than 0.1
    calm = score(storage, tmp_path, regression_table(400, seed=2, noise=103.0), "calm.csv")
    decay = calm.details["decay"]
    assert decay["metric"] == "rmse" and decay["batch"] - baseline > 0.1
    assert 0 < decay["drop"] < 0.1, decay
    assert not decay["decayed"] and decay["threshold"] == pytest.approx(baseline * 1.1)
    assert decay["change"].startswith(f"rmse rose from {baseline:.4g} to ")
    # twice the noise: RMSE about doubles
    noisy = score(storage, tmp_path, regression_table(400, seed=3, noise=200.0), "noisy.csv")
    decay = noisy.details["decay"]
    assert decay["decayed"] and decay["drop"] > 0.5
    [reason] = noisy.details["reasons"]
    assert reason.startswith("performance decay: rmse rose from ") and "fell" not in reason
    assert reason.endswith("worse) against the hold-out, over the limit of 10%")


def test_the_run_summary_says_decay_when_only_performance_decayed() -> None:
    from hookline.runner import monitor_verdict

    decayed = {
        "name": "drift",
        "drifted": False,
        "details": {"decay": {"decayed": True, "change": "rmse rose from 1 to 2 (100% worse)"}},
    }
    assert monitor_verdict(decayed) == "DECAY: rmse rose from 1 to 2 (100% worse)"
    both = {**decayed, "drifted": True}
    assert monitor_verdict(both) == "DRIFT + DECAY: rmse rose from 1 to 2 (100% worse)"
    drift_only = {
        "drifted": True,
        "details": {"decay": {"decayed": False, "change": "f1 rose from 0.9 to 0.95"}},
    }
    assert monitor_verdict(drift_only) == "DRIFT"
    calm = {"name": "drift", "drifted": False, "details": {"decay": {"decayed": False}}}
    assert monitor_verdict(calm) == "no drift or decay"
    assert monitor_verdict({"name": "other", "drifted": False}) == "no drift"
