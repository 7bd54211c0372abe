"""A third-party plugin replaces a built-in stage without any configuration change, and the
built-ins pass the plugin authors' conformance kit like any other plugin."""

from __future__ import annotations

import pytest
from _plugin_helpers import BUILTINS, table, write_csv
from hookline import TrainedModel, hookimpl
from hookline._manager import make_plugin_manager
from hookline.config import load_config
from hookline.plugins import drift, gates, ingest, registry, train
from hookline.runner import Hookline
from hookline.testing import parametrize_plugin_checks


class AcmeTrainer:
    """What a third-party trainer package looks like: one @hookimpl, no trylast."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def train(self, ctx, dataset):
        from sklearn.dummy import DummyClassifier
        from sklearn.pipeline import Pipeline

        self.calls += 1
        X = dataset.frame.drop(columns=[dataset.target])[["x1"]]
        y = dataset.frame[dataset.target]
        estimator = Pipeline([("model", DummyClassifier(strategy="most_frequent"))]).fit(X, y)
        return TrainedModel(
            estimator=estimator,
            task="classification",
            features={"x1": {"dtype": "number", "nullable": False}},
            target=dataset.target,
            metrics={"accuracy": float((estimator.predict(X) == y).mean())},
            params={"estimator": "acme.Dummy"},
            reference_profile={},
            holdout=(X, y),
        )


def test_third_party_trainer_wins_without_config(project, tmp_path, monkeypatch):
    monkeypatch.delenv("HOOKLINE_PLUGINS")
    acme = AcmeTrainer()
    pm = make_plugin_manager(pinned=BUILTINS, plugins={"acme": acme})
    assert pm.implementers("train") == ["acme", "sklearn"]  # the built-in is tried last
    app = Hookline(load_config(project.config), pm=pm)  # the same hookline.toml as always
    upload = write_csv(tmp_path / "a.csv", table(120))
    with open(upload, "rb") as fh:
        info = app.storage.upload("landing/train/a.csv", fh)
    from hookline.cli._app import event_for

    [result] = app.handle(event_for(app.storage, info))
    assert result.status == "succeeded", result.message
    assert acme.calls == 1
    record = result.record
    assert record["params"] == {"estimator": "acme.Dummy"}
    manifest = project.registry.get("m", 1).manifest
    assert manifest["params"] == {"estimator": "acme.Dummy"}
    assert list(manifest["features"]) == ["x1"]
    estimator, _ = project.registry.load_model("m")
    assert type(estimator[-1]).__name__ == "DummyClassifier"


@pytest.mark.parametrize(
    "check",
    [
        *parametrize_plugin_checks(ingest, name="pandas"),
        *parametrize_plugin_checks(train, name="sklearn", config={"params": {"max_iter": 20}}),
        *parametrize_plugin_checks(gates, name="gates"),
        *parametrize_plugin_checks(registry, name="registry"),
        *parametrize_plugin_checks(drift, name="drift"),
    ],
)
def test_builtins_pass_the_conformance_kit(check):
    check()
