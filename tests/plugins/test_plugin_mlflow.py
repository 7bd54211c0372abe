"""The ``mlflow`` plugin against a real ``mlflow server`` on loopback, checked through MLflow's
own client: runs, params, metrics, tags, artifacts, registered model versions and aliases;
then the same with the server down or slow, and the catch-up once it is back."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _integrations import PLUGINS, Quickstart
from _mlflow_server import mlflow_server, record_figure, slow_proxy
from emulators._process import free_port
from hookline.plugins import mlflow as plugin
from hookline.project import Project
from hookline.registry import Registry
from hookline.storage import LocalStorage
from hookline.testing import make_context, parametrize_plugin_checks, sample_dataset, sample_model
from hookline.types import AliasMove

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with mlflow_server(tmp_path_factory.mktemp("mlflow")) as running:
        record_figure("mlflow_server_start_seconds", running.seconds_to_start)
        yield running


@pytest.fixture
def mlflow(server):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=server.url)


@pytest.fixture
def quickstart(tmp_path, monkeypatch):
    monkeypatch.setenv("HOOKLINE_PLUGINS", PLUGINS)
    monkeypatch.setenv("HOOKLINE_LOG_LEVEL", "CRITICAL")
    for name in ("MLFLOW_TRACKING_URI", "OPENLINEAGE_URL", "HOOKLINE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return Quickstart(tmp_path / "quickstart")


def table(uri: str, name: str, extra: str = "") -> str:
    """``[plugins.mlflow]`` with its own experiment and model prefix (tests share a server)."""
    return (
        f'\n[plugins.mlflow]\ntracking_uri = "{uri}"\nexperiment = "{name}"\n'
        f'model_prefix = "{name}-"\n{extra}'
    )


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def runs_of(mlflow, experiment: str) -> dict:
    exp = mlflow.get_experiment_by_name(experiment)
    return {r.info.run_name: r for r in mlflow.search_runs([exp.experiment_id])} if exp else {}


def versions_of(mlflow, name: str) -> dict:
    """hookline version -> MLflow versions mirroring it (a list, to catch duplicates)."""
    found: dict = {}
    for mv in mlflow.search_model_versions(f"name = '{name}'"):
        if "hookline.version" in mv.tags:
            found.setdefault(int(mv.tags["hookline.version"]), []).append(mv)
    return found


def test_quickstart_runs_and_registry_in_mlflow(quickstart, server, mlflow):
    quickstart.configure(table(server.url, "qs"))
    first = quickstart.run("batch1.csv")
    assert first["status"] == "succeeded"
    note = first["notes"]["mlflow"]
    assert note["not_mirrored"] == [], note
    assert "run record artifact hookline/record.json" in note["mirrored"]
    assert "model version penguins v1" in note["mirrored"]

    run = runs_of(mlflow, "qs")[first["run_id"]]
    assert run.info.run_id == note["run_id"] and run.info.status == "FINISHED"
    tags, trigger = run.data.tags, first["trigger"]
    assert tags["hookline.run_id"] == first["run_id"]
    assert tags["hookline.pipeline"] == "train" and tags["hookline.status"] == "succeeded"
    assert tags["hookline.trigger.uri"] == trigger["uri"]
    assert tags["hookline.trigger.version"] == trigger["read_version"]
    assert tags["hookline.trigger.sha256"] == trigger["sha256"]
    assert tags["hookline.record_uri"].endswith(f"runs/{first['run_id']}/record.json")
    assert tags["hookline.version"] == "1" and tags["hookline.alias"] == "production"
    for name, value in first["metrics"].items():
        assert run.data.metrics[name] == pytest.approx(value)
    assert run.data.metrics["rows"] == first["data"]["profile"]["rows"]
    assert run.data.params["n_estimators"] == "100"
    artifact = mlflow.download_artifacts(run.info.run_id, "hookline/record.json")
    logged = json.loads(open(artifact).read())
    assert logged["run_id"] == first["run_id"] and logged["metrics"] == first["metrics"]

    # the registry: hookline v1 is an MLflow version, tagged, with its source, and aliased
    (mv,) = versions_of(mlflow, "qs-penguins")[1]
    assert mv.run_id == run.info.run_id
    assert mv.source == f"runs:/{run.info.run_id}/hookline/model"  # local storage root
    assert mv.tags["hookline.storage"] == f"file://{quickstart.storage}"
    assert mv.tags["hookline.artifact_uri"].endswith(
        "registry/penguins/versions/000001/model.skops"
    )
    manifest = json.loads(
        (quickstart.storage / "registry/penguins/versions/000001/manifest.json").read_text()
    )
    assert mv.tags["hookline.model_sha256"] == manifest["artifacts"]["model.skops"]["sha256"]
    assert mv.tags["hookline.trigger.sha256"] == trigger["sha256"]
    assert mlflow.get_registered_model("qs-penguins").aliases == {"production": mv.version}

    # a rejected run is a finished MLflow run that says so, and registers nothing
    rejected = quickstart.run("batch2.csv", pipeline="strict")
    run = runs_of(mlflow, "qs")[rejected["run_id"]]
    assert run.info.status == "FINISHED" and run.data.tags["hookline.status"] == "rejected"
    assert run.data.tags["hookline.rejected_by"] == "metric.accuracy"
    assert list(versions_of(mlflow, "qs-penguins")) == [1]

    # a failed run is FAILED, with the error
    failed = quickstart.run("broken.csv")
    run = runs_of(mlflow, "qs")[failed["run_id"]]
    assert run.info.status == "FAILED"
    assert "semicolons" in run.data.tags["hookline.error.message"]


def test_a_model_name_with_other_versions_is_not_corrupted(quickstart, server, mlflow):
    name = "shared-penguins"
    mlflow.create_registered_model(name, description="owned by another team")
    theirs = [
        mlflow.create_model_version(name, f"s3://elsewhere/penguins/{n}", tags={"team": "b"})
        for n in (1, 2)
    ]
    mlflow.set_registered_model_alias(name, "production", theirs[1].version)
    mlflow.set_registered_model_alias(name, "champion", theirs[0].version)

    quickstart.configure(table(server.url, "shared"))
    record = quickstart.run("batch1.csv")
    assert record["notes"]["mlflow"]["not_mirrored"] == []
    quickstart.run("batch2.csv", pipeline="strict")  # another reconciliation: nothing new

    ours = versions_of(mlflow, name)
    assert list(ours) == [1] and len(ours[1]) == 1
    assert ours[1][0].version == "3"  # MLflow's numbering continues; the tag maps it
    model = mlflow.get_registered_model(name)
    assert model.aliases == {"production": "3", "champion": "1"}
    assert model.description == "owned by another team"
    for before in theirs:
        after = mlflow.get_model_version(name, before.version)
        assert (after.source, after.tags) == (before.source, {"team": "b"})


def test_server_down_then_caught_up_without_duplicates(
    quickstart, server, mlflow, monkeypatch, caplog
):
    quickstart.configure(table(dead_url(), "down"))
    started = time.monotonic()
    record = quickstart.run("batch1.csv")
    down_seconds = time.monotonic() - started
    record_figure("run_seconds_mlflow_down", down_seconds)
    assert record["status"] == "succeeded"
    note = record["notes"]["mlflow"]
    assert "Connection refused" in note["offline"] or "Failed to establish" in note["offline"]
    assert note["mirrored"] == []
    assert {"run start", "params, metrics and tags", "run record artifact", "run status"} <= set(
        note["not_mirrored"]
    )
    assert any(item.startswith("registry of penguins") for item in note["not_mirrored"])

    # while MLflow is away, a person moves an alias (as the dashboard does)
    registry = Registry(LocalStorage(quickstart.storage))
    registry.move_alias("penguins", "staging", 1, action="promote", by="alice")
    move = AliasMove("penguins", "staging", 1, None, "promote", "alice", "now", seq=1)
    project = Project.open(str(quickstart.config))
    with caplog.at_level(logging.WARNING, logger="hookline.plugins.mlflow"):
        plugin.after_alias_moved(ctx=None, project=project, move=move)
    assert "not mirrored now (caught up on the next event)" in caplog.text
    assert mlflow.get_experiment_by_name("down") is None

    # MLflow is back: the next event catches up everything, once
    quickstart.configure(table(server.url, "down"))
    for _ in range(2):
        plugin.after_alias_moved(ctx=None, project=Project.open(str(quickstart.config)), move=move)
    ours = versions_of(mlflow, "down-penguins")
    assert list(ours) == [1] and len(ours[1]) == 1
    aliases = mlflow.get_registered_model("down-penguins").aliases
    assert aliases == {"production": ours[1][0].version, "staging": ours[1][0].version}
    # the run that registered v1 ran while MLflow was away: back-filled from its record
    run = runs_of(mlflow, "down")[record["run_id"]]
    assert run.info.status == "FINISHED" and ours[1][0].run_id == run.info.run_id
    assert run.data.metrics["accuracy"] == pytest.approx(record["metrics"]["accuracy"])

    # and a later run catches up a demotion made while offline, still without duplicates
    quickstart.configure(table(dead_url(), "down"))
    registry.move_alias("penguins", "staging", None, action="demote", by="alice")
    quickstart.configure(table(server.url, "down"))
    quickstart.run("batch2.csv", pipeline="strict")
    assert "staging" not in mlflow.get_registered_model("down-penguins").aliases
    assert [len(v) for v in versions_of(mlflow, "down-penguins").values()] == [1]


def test_a_slow_server_stays_bounded(quickstart, server):
    with slow_proxy(server.url) as proxy:
        proxy.delay = 30.0
        quickstart.configure(table(proxy.url, "slow", "timeout_seconds = 1\nmax_retries = 0\n"))
        started = time.monotonic()
        record = quickstart.run("batch1.csv")
        elapsed = time.monotonic() - started
    record_figure("run_seconds_mlflow_slow", elapsed)
    assert record["status"] == "succeeded"
    assert "timed out" in record["notes"]["mlflow"]["offline"].lower()
    assert proxy.requests == 1  # the first request timed out; the run asked nothing more
    assert elapsed < 25  # the server would have held each request 30 s


def test_registry_events_with_the_run_context(server, mlflow, tmp_path):
    storage = LocalStorage(tmp_path / "store")
    config = {"tracking_uri": server.url, "experiment": "events", "model_prefix": "events-"}
    ctx = make_context(storage, plugins={"mlflow": config})
    plugin.before_pipeline_run(ctx=ctx)
    model = sample_model(sample_dataset())
    version = ctx.registry.register_estimator(
        ctx.model_name, model.estimator, {"run_id": ctx.run_id, "metrics": dict(model.metrics)}
    )
    project = Project(ctx.config, storage=storage)
    plugin.after_version_registered(ctx=ctx, project=project, version=version)
    (mv,) = versions_of(mlflow, "events-sample-model")[1]
    assert mv.run_id == ctx.notes["mlflow"]["run_id"]
    assert mv.tags["hookline.metric.accuracy"] == repr(model.metrics["accuracy"])
    state = ctx.registry.move_alias(ctx.model_name, "production", 1, run_id=ctx.run_id)
    move = AliasMove(
        ctx.model_name, "production", 1, None, "promote", "run", "now", "", ctx.run_id, state.seq
    )
    plugin.after_alias_moved(ctx=ctx, project=project, move=move)
    assert mlflow.get_registered_model("events-sample-model").aliases == {"production": mv.version}
    assert "alias sample-model@production -> v1" in ctx.notes["mlflow"]["mirrored"]


@pytest.mark.parametrize("check", parametrize_plugin_checks(plugin, name="mlflow"))
def test_conforms_when_off(check, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    check()


def _kit_checks():
    # the URL is only known once the module's server runs: the check reads it when called
    return parametrize_plugin_checks(
        plugin,
        name="mlflow",
        config=lambda s: {"tracking_uri": _URL[0] if _URL else dead_url(), "experiment": "kit"},
    )


_URL: list[str] = []


@pytest.mark.parametrize("check", _kit_checks())
def test_conforms_when_on(check, server, mlflow):
    _URL[:] = [server.url]
    check()
    if check.id.startswith("after_pipeline_run"):
        finished = [r for r in runs_of(mlflow, "kit").values() if r.info.status == "FINISHED"]
        assert finished and finished[0].data.tags["hookline.model"] == "sample-model"


def test_settings():
    assert plugin.settings_for({}, env={}) is None
    assert plugin.settings_for({"enabled": False}, env={"MLFLOW_TRACKING_URI": "http://x"}) is None
    cfg = plugin.settings_for({}, env={"MLFLOW_TRACKING_URI": "http://x"})
    assert cfg["tracking_uri"] == "http://x" and cfg["timeout_seconds"] == 5
    from hookline.errors import ConfigError

    with pytest.raises(ConfigError, match="no tracking URI is known"):
        plugin.settings_for({"enabled": True}, env={})
    with pytest.raises(ConfigError, match="did you mean 'tracking_uri'"):
        plugin.settings_for({"tracking_url": "http://x"}, env={})


def test_mlflows_own_settings_win_and_are_restored(monkeypatch):
    from hookline.plugins._mlflow_client import bounded

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    cfg = {"timeout_seconds": 5, "max_retries": 1, "backoff_factor": 1}
    import os

    with bounded(cfg) as applied:
        assert applied["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "30"  # the operator's choice
        assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "1"
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ


def test_importing_the_plugin_imports_no_mlflow():
    code = (
        "import sys, hookline.plugins.mlflow\n"
        "assert not [m for m in sys.modules if m.startswith('mlflow')], 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# A pipeline that registers challengers (no comparison with production): its runs always
# add a version without moving production, so a person has something to promote.
CHALLENGER = """
[pipelines.challenger]
model = "penguins"
alias = "challenger"
stages = ["ingest", "train", "validate", "deploy"]
trigger = { prefix = "landing/challenger/", suffix = ".csv" }

[pipelines.challenger.plugins.gates]
must_beat_production = false
"""


def _two_versions(quickstart, server, name: str) -> None:
    quickstart.configure(CHALLENGER + table(server.url, name))
    assert quickstart.run("batch1.csv")["status"] == "succeeded"  # v1, production
    assert quickstart.run("batch2.csv", pipeline="challenger")["status"] == "succeeded"  # v2


def test_a_cli_promotion_and_rollback_reach_mlflow_at_once(quickstart, server, mlflow, monkeypatch):
    _two_versions(quickstart, server, "cli")
    mirrored = {n: found[0].version for n, found in versions_of(mlflow, "cli-penguins").items()}
    assert set(mirrored) == {1, 2}
    monkeypatch.chdir(quickstart.root)  # where `hookline models ...` finds hookline.toml

    code, _, err = quickstart.cli("models", "promote", "penguins", "2", "--reason", "better f1")
    assert code == 0, err
    aliases = mlflow.get_registered_model("cli-penguins").aliases
    assert aliases == {"production": mirrored[2], "challenger": mirrored[2]}

    code, _, err = quickstart.cli("models", "rollback", "penguins")
    assert code == 0, err
    assert mlflow.get_registered_model("cli-penguins").aliases["production"] == mirrored[1]
    assert [len(v) for v in versions_of(mlflow, "cli-penguins").values()] == [1, 1]


def test_a_dashboard_promotion_reaches_mlflow_at_once(quickstart, server, mlflow, monkeypatch):
    import re

    from fastapi.testclient import TestClient
    from hookline.adapters.dashboard import create_app
    from hookline.adapters.dashboard._auth import Auth
    from hookline.config import load_config

    _two_versions(quickstart, server, "dash")
    mirrored = {n: found[0].version for n, found in versions_of(mlflow, "dash-penguins").items()}
    monkeypatch.setenv("HOOKLINE_CONFIG", str(quickstart.config))
    config = load_config(quickstart.config)
    client = TestClient(
        create_app(
            str(quickstart.storage), config=config, auth=Auth(admin_keys=["k-0123456789abcdef"])
        ),
        follow_redirects=False,
    )
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    data = {"key": "k-0123456789abcdef", "operator": "alice", "csrf": token}
    assert client.post("/login", data=data).status_code == 303
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/models/penguins").text)
    r = client.post(
        "/models/penguins/promote",
        data={"version": "2", "expected": "1", "csrf": token.group(1)},
    )
    assert r.status_code == 303, r.text
    assert Registry(LocalStorage(quickstart.storage)).alias("penguins", "production").version == 2
    assert mlflow.get_registered_model("dash-penguins").aliases["production"] == mirrored[2]


def test_the_integrations_page_runs(server, mlflow, tmp_path):
    """docs/integrations.md, as a reader follows it: its tables added to the quickstart's
    hookline.toml, its commands and Python run in order, MLflow at $MLFLOW_TRACKING_URI."""
    import os

    from docs._markdown import blocks

    page = "integrations.md"
    found = blocks(page)
    work = Quickstart(tmp_path / "quickstart")
    tables = "".join(f"\n{b.code}" for b in found if b.lang == "toml" and not b.skip)
    work.configure(tables)
    samples = [
        {"where": b.where, "lang": b.lang, "code": b.code}
        for b in found
        if not b.skip and (b.lang == "python" or (b.lang == "console" and b.runs_hookline))
    ]
    assert [s["lang"] for s in samples] == ["console", "python", "console", "python"]
    spec = tmp_path / "samples.json"
    spec.write_text(json.dumps(samples))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOOKLINE_", "OPENLINEAGE"))}
    env.update(MLFLOW_TRACKING_URI=server.url, HOOKLINE_PLUGINS=PLUGINS, OMP_NUM_THREADS="1")
    runner = Path(__file__).parents[1] / "docs" / "_run_samples.py"
    done = subprocess.run(
        [sys.executable, str(runner), str(spec)],
        cwd=work.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FINISHED True\nTrue\nFAILED\nTrue 1\n" in done.stdout
    assert "['START', 'COMPLETE']\nquickstart train\nfile True\nTrue\n" in done.stdout


def test_the_integrations_page_lists_every_setting():
    from hookline.plugins import openlineage

    text = (Path(__file__).parents[2] / "docs" / "integrations.md").read_text()
    for schema, heading in (
        (plugin.CONFIG, "[plugins.mlflow]"),
        (openlineage.CONFIG, "[plugins.openlineage]"),
    ):
        section = text[text.index(f"Settings: `{heading}`") :]
        for key in schema:
            assert f"| `{key}` |" in section, (heading, key)
