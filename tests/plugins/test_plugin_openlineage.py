"""The ``openlineage`` plugin: events of real runs, received by a real HTTP server on loopback
and written by the client's file transport, each validated against the OpenLineage JSON
Schemas (copies in openlineage_spec/, see SOURCE.md)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jsonschema
import pytest
from _integrations import PLUGINS, Quickstart, receiver
from hookline.plugins import openlineage as plugin
from hookline.testing import parametrize_plugin_checks
from referencing import Registry, Resource

SPEC = Path(__file__).parent / "openlineage_spec"
OWN_FACET = Path(__file__).resolve().parents[2] / "docs/spec/facets/1-0-0/HooklineRunFacet.json"


def _schemas() -> Registry:
    resources = []
    for path in [*sorted(SPEC.glob("*.json")), OWN_FACET]:
        doc = json.loads(path.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


SCHEMAS = _schemas()


def _validate(schema_url: str, instance: object) -> None:
    validator = jsonschema.Draft202012Validator({"$ref": schema_url}, registry=SCHEMAS)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, f"{schema_url}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors)


def validate_event(event: dict) -> None:
    """The event against OpenLineage.json, and every facet against its own schema."""
    _validate("https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent", event)
    assert event["schemaURL"].startswith("https://openlineage.io/spec/2-0-2/OpenLineage.json")
    facets = [event["run"].get("facets", {}), event["job"].get("facets", {})]
    for dataset in event.get("inputs", []) + event.get("outputs", []):
        facets += [dataset.get("facets", {}), dataset.get("inputFacets", {})]
        facets.append(dataset.get("outputFacets", {}))
    for group in facets:
        for name, facet in group.items():
            url = facet["_schemaURL"]
            assert SCHEMAS.get(url.partition("#")[0]) is not None, f"facet {name}: no schema {url}"
            _validate(url, facet)


@pytest.fixture
def quickstart(tmp_path, monkeypatch):
    monkeypatch.setenv("HOOKLINE_PLUGINS", PLUGINS)
    monkeypatch.setenv("HOOKLINE_LOG_LEVEL", "CRITICAL")
    for name in ("MLFLOW_TRACKING_URI", "OPENLINEAGE_URL", "OPENLINEAGE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return Quickstart(tmp_path / "quickstart")


def http_table(url: str, options: str = "") -> str:
    """A ``[plugins.openlineage]`` table with an HTTP transport; ``options``: more TOML keys
    of the transport, e.g. ``", timeout = 2"``."""
    return f'\n[plugins.openlineage]\ntransport = {{ type = "http", url = "{url}"{options} }}\n'


def by_run(events: list[dict]) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {}
    for event in events:
        runs.setdefault(event["run"]["facets"]["hookline_run"]["runId"], []).append(event)
    return runs


def test_succeeded_rejected_and_failed_runs_over_http(quickstart):
    with receiver() as server:
        quickstart.configure(http_table(server.url))
        done = quickstart.run("batch1.csv")
        rejected = quickstart.run("batch2.csv", pipeline="strict")
        failed = quickstart.run("broken.csv")
        bodies = [r.json for r in server.received]
    assert {r.path for r in server.received} == {"/api/v1/lineage"}
    for event in bodies:
        validate_event(event)
    runs = by_run(bodies)
    assert [e["eventType"] for e in runs[done["run_id"]]] == ["START", "COMPLETE"]
    assert [e["eventType"] for e in runs[rejected["run_id"]]] == ["START", "COMPLETE"]
    assert [e["eventType"] for e in runs[failed["run_id"]]] == ["START", "FAIL"]

    start, complete = runs[done["run_id"]]
    # one stable UUID per run, derived from the run id
    expected = str(uuid.uuid5(uuid.NAMESPACE_URL, f"hookline:quickstart/{done['run_id']}"))
    assert start["run"]["runId"] == complete["run"]["runId"] == expected
    assert complete["job"]["namespace"] == "quickstart" and complete["job"]["name"] == "train"
    # the uploaded object is the input: namespace/name by the naming conventions
    (source,) = complete["inputs"]
    trigger = done["trigger"]
    assert source["namespace"] == "file"
    assert source["name"] == str(quickstart.storage / "landing/train/batch1.csv")
    version = source["facets"]["version"]
    assert version["datasetVersion"] == trigger["read_version"]
    assert version["sha256"] == trigger["sha256"]
    assert {f["name"] for f in source["facets"]["schema"]["fields"]} >= {"species", "island"}
    assertions = source["inputFacets"]["dataQualityAssertions"]["assertions"]
    assert {"min_rows", "schema", "null_ratio"} <= {a["assertion"] for a in assertions}
    assert all(a["success"] for a in assertions)
    assert source["inputFacets"]["inputStatistics"]["rowCount"] == done["data"]["profile"]["rows"]
    # the model version is the output
    (model,) = complete["outputs"]
    assert model["namespace"] == "file"
    assert model["name"] == str(quickstart.storage / "registry/penguins/versions/000001")
    assert model["facets"]["version"]["datasetVersion"] == "1"
    assert model["facets"]["datasetType"]["datasetType"] == "MODEL"
    facet = complete["run"]["facets"]["hookline_run"]
    assert facet["status"] == "succeeded" and facet["modelVersion"] == 1
    assert facet["alias"] == "production" and facet["metrics"]["accuracy"] > 0.8
    assert facet["recordUri"].endswith(f"runs/{done['run_id']}/record.json")

    # rejected: COMPLETE (the job did its work, a gate said no), said by the facet, no output
    _, end = runs[rejected["run_id"]]
    assert end["run"]["facets"]["hookline_run"]["status"] == "rejected"
    assert end["run"]["facets"]["hookline_run"]["rejectedBy"] == ["metric.accuracy"]
    assert end["outputs"] == []

    # failed: FAIL with the error message
    _, end = runs[failed["run_id"]]
    assert "delimited by semicolons" in end["run"]["facets"]["errorMessage"]["message"]
    assert end["run"]["facets"]["errorMessage"]["programmingLanguage"] == "python"
    assert end["run"]["facets"]["hookline_run"]["status"] == "failed"

    # and the run record says what was sent
    assert done["notes"]["openlineage"]["sent"] == ["START", "COMPLETE"]
    assert done["notes"]["openlineage"]["run_id"] == expected
    assert quickstart.record(failed["run_id"])["notes"]["openlineage"]["sent"] == ["START", "FAIL"]


def test_file_transport(quickstart, tmp_path):
    log = tmp_path / "lineage.jsonl"
    quickstart.configure(
        "\n[plugins.openlineage]\n"
        f'transport = {{ type = "file", log_file_path = "{log}", append = true }}\n'
        'namespace = "ml-prod"\n'
    )
    record = quickstart.run("batch1.csv")
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    for event in events:
        validate_event(event)
        assert event["job"] == {**event["job"], "namespace": "ml-prod", "name": "train"}
    assert record["notes"]["openlineage"]["sent"] == ["START", "COMPLETE"]


def test_an_endpoint_answering_500_never_fails_the_run(quickstart):
    with receiver() as server:
        server.status = 500
        quickstart.configure(http_table(server.url, ", timeout = 2, retry = { total = 1 }"))
        started = time.monotonic()
        record = quickstart.run("batch1.csv")
        elapsed = time.monotonic() - started
    assert record["status"] == "succeeded"
    note = record["notes"]["openlineage"]
    assert note["sent"] == [] and note["not_sent"] == ["START", "COMPLETE"]
    assert "500" in note["offline"]
    # START was tried (with its one retry); COMPLETE was not, so the run waits only once
    assert len(server.received) == 2
    assert elapsed < 60


def test_a_slow_endpoint_is_bounded_by_the_timeout(quickstart):
    with receiver() as server:
        server.delay = 20
        quickstart.configure(http_table(server.url) + "timeout_seconds = 1.0\nretries = 0\n")
        started = time.monotonic()
        record = quickstart.run("batch1.csv")
        elapsed = time.monotonic() - started
    assert record["status"] == "succeeded"
    assert record["notes"]["openlineage"]["not_sent"] == ["START", "COMPLETE"]
    assert len(server.received) == 1  # one timed-out request, then nothing for this run
    assert elapsed < 20  # the run did not wait for the endpoint's 20 s


def test_the_client_environment_enables_it(quickstart, monkeypatch):
    with receiver() as server:
        monkeypatch.setenv("OPENLINEAGE_URL", server.url)
        record = quickstart.run("batch1.csv")
        assert [r.json["eventType"] for r in server.received] == ["START", "COMPLETE"]
    assert record["notes"]["openlineage"]["sent"] == ["START", "COMPLETE"]


def test_settings():
    assert plugin.settings_for({}, env={}) is None
    assert plugin.settings_for({"enabled": False}, env={"OPENLINEAGE_URL": "http://x"}) is None
    cfg = plugin.settings_for({}, env={"OPENLINEAGE_URL": "http://x", "OPENLINEAGE_API_KEY": "k"})
    assert cfg["transport"]["url"] == "http://x" and cfg["transport"]["timeout"] == 5.0
    assert cfg["transport"]["auth"] == {"type": "api_key", "apiKey": "k"}
    assert cfg["transport"]["retry"]["total"] == 1
    own = plugin.settings_for({"transport": {"type": "http", "url": "u", "timeout": 30}}, env={})
    assert own["transport"]["timeout"] == 30
    from hookline.errors import ConfigError

    with pytest.raises(ConfigError, match="no transport is configured"):
        plugin.settings_for({"enabled": True}, env={})
    with pytest.raises(ConfigError, match="unknown key 'transprot'"):
        plugin.settings_for({"transprot": {}}, env={})


@pytest.mark.parametrize("check", parametrize_plugin_checks(plugin, name="openlineage"))
def test_conforms_when_off(check, monkeypatch):
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    check()


@pytest.mark.parametrize(
    "check",
    parametrize_plugin_checks(
        plugin, name="openlineage", config={"transport": {"type": "console"}}
    ),
)
def test_conforms_when_on(check):
    check()


def test_importing_the_plugin_imports_no_openlineage():
    code = (
        "import sys, hookline.plugins.openlineage\n"
        "assert not [m for m in sys.modules if m.startswith('openlineage')], 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
