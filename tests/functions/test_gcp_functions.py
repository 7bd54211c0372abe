"""The Google Cloud pipeline function end to end, through the real parts.

``functions-framework --target pipeline --source main.py --signature-type cloudevent`` runs
``functions/gcp_functions/main.py`` from a bundle folder with its ``hookline.toml`` as a real
server; objects are uploaded to fake-gcs-server, and the object resource it returns for
``GET /storage/v1/b/{bucket}/o/{name}`` -- exactly a finalized event's ``data`` -- is POSTed
as a CloudEvent in binary and structured mode. The function reads and writes the same
bucket; the tests read the run records and the registry back from it.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hookline.adapters.cloud import PipelineRuntime
from hookline.adapters.gcp.events import parse_event
from hookline.adapters.gcp.pipeline import CloudEventPipeline
from hookline.errors import TransientError
from hookline.registry import Registry
from hookline.runner import Hookline
from hookline.runs import RunStore
from hookline.storage import Storage, open_storage

from ._e2e import (
    AWKWARD_KEY,
    BATCH1,
    BATCH2,
    BROKEN,
    DRIFTED,
    MODEL,
    assert_history_consistent,
    assert_promoted,
    make_bundle,
    only_record,
    records_for,
    run_records,
)
from ._host import Host, free_port, host
from ._proxy import Fault, faulty_proxy

pytestmark = pytest.mark.emulator

FINALIZED = "google.cloud.storage.object.v1.finalized"
BIN = Path(sys.executable).parent
# HTTP binding: header values are percent-encoded beyond printable ASCII
_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%') + " "


@dataclass
class GcpDeployment:
    bucket: str
    storage: Storage
    emulator: str
    host: Host
    bundle: Path

    def upload(self, key: str, data: bytes) -> dict[str, Any]:
        """Write ``data`` and return the object resource fake-gcs-server reports."""
        self.storage.write(key, data)
        url = f"{self.emulator}/storage/v1/b/{self.bucket}/o/{quote(key, safe='')}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return dict(json.loads(response.read()))

    def attributes(self, resource: dict[str, Any], event_id: str | None = None) -> dict[str, str]:
        return {
            "specversion": "1.0",
            "id": event_id or str(uuid.uuid4().int)[:16],
            "source": f"//storage.googleapis.com/projects/_/buckets/{self.bucket}",
            "type": FINALIZED,
            "subject": f"objects/{resource['name']}",
            "time": resource.get("timeCreated") or "2024-05-14T09:21:37.512Z",
        }

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        request = urllib.request.Request(self.host.url + "/", data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def binary(self, attributes: dict[str, str], data: Any) -> tuple[int, str]:
        headers = {f"ce-{k}": quote(v, safe=_HEADER_SAFE) for k, v in attributes.items()}
        headers["Content-Type"] = "application/json"
        return self.post(json.dumps(data).encode(), headers)

    def structured(self, attributes: dict[str, str], data: Any) -> tuple[int, str]:
        body = json.dumps({**attributes, "datacontenttype": "application/json", "data": data})
        return self.post(body.encode(), {"Content-Type": "application/cloudevents+json"})


@pytest.fixture(scope="module")
def gcp(gcs_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GcpDeployment]:
    bucket = gcs_server.new_bucket("fn")
    bundle = make_bundle(tmp_path_factory.mktemp("gcp-bundle"), "gcp_functions/main.py")
    port = free_port()
    argv = [
        str(BIN / "functions-framework"),
        "--target",
        "pipeline",
        "--source",
        str(bundle / "main.py"),
        "--signature-type",
        "cloudevent",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env = {
        **gcs_server.env,
        "HOOKLINE_STORAGE": f"gs://{bucket}",
        # what Cloud Run sets for a function: its service name, and execution id logging
        "K_SERVICE": "functions-e2e-pipeline",
        "LOG_EXECUTION_ID": "true",
    }
    with host(argv, port, env, bundle) as running:
        yield GcpDeployment(bucket, open_storage(f"gs://{bucket}"), gcs_server.url, running, bundle)


@pytest.fixture(scope="module")
def first_run(gcp: GcpDeployment) -> dict[str, Any]:
    key = "landing/train/batch1.csv"
    resource = gcp.upload(key, BATCH1)
    attributes = gcp.attributes(resource)
    status, body = gcp.binary(attributes, resource)
    return {
        "key": key,
        "resource": resource,
        "attributes": attributes,
        "status": status,
        "body": body,
    }


def test_an_upload_trains_registers_and_promotes(gcp: GcpDeployment, first_run: dict) -> None:
    assert first_run["status"] == 200, gcp.host.tail()
    record = only_record(gcp.storage, first_run["key"])
    [event] = parse_event({**first_run["attributes"], "data": first_run["resource"]})
    assert event.version == first_run["resource"]["generation"]
    assert record["run_id"] == event.run_id("train")
    assert record["trigger"]["version"] == first_run["resource"]["generation"]
    version = assert_promoted(gcp.storage, record, BATCH1)
    assert Registry(gcp.storage).alias(MODEL, "production").version == version


def test_repeated_deliveries_of_one_generation_are_one_run(
    gcp: GcpDeployment, first_run: dict
) -> None:
    resource, attributes = first_run["resource"], first_run["attributes"]
    assert gcp.binary(attributes, resource)[0] == 200  # the same delivery again
    redelivered = gcp.attributes(resource)  # a new delivery id, same generation
    assert gcp.structured(redelivered, resource)[0] == 200
    [record] = records_for(gcp.storage, first_run["key"])
    assert record["attempt"] == 1


def test_two_uploads_at_once_give_two_versions_and_one_history(
    gcp: GcpDeployment, first_run: dict
) -> None:
    keys = {"landing/train/at-once-a.csv": BATCH1, "landing/train/at-once-b.csv": BATCH2}
    resources = [gcp.upload(key, data) for key, data in keys.items()]
    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(lambda r: gcp.binary(gcp.attributes(r), r)[0], resources))
    assert statuses == [200, 200], gcp.host.tail()
    versions = {
        assert_promoted(gcp.storage, only_record(gcp.storage, k), d) for k, d in keys.items()
    }
    assert len(versions) == 2
    history = assert_history_consistent(gcp.storage)
    assert versions <= {e["version"] for e in history}


def test_a_key_with_spaces_plus_percent_and_non_ascii(gcp: GcpDeployment, first_run: dict) -> None:
    resource = gcp.upload(AWKWARD_KEY, BATCH2)
    assert resource["name"] == AWKWARD_KEY
    status, _ = gcp.structured(gcp.attributes(resource), resource)
    assert status == 200, gcp.host.tail()
    record = only_record(gcp.storage, AWKWARD_KEY)
    assert record["trigger"]["uri"] == gcp.storage.url(AWKWARD_KEY)
    assert_promoted(gcp.storage, record, BATCH2)


def test_a_broken_file_is_a_failed_run_and_the_function_returns(
    gcp: GcpDeployment, first_run: dict
) -> None:
    before = Registry(gcp.storage).alias(MODEL, "production")
    key = "landing/train/broken.csv"
    resource = gcp.upload(key, BROKEN)
    assert gcp.binary(gcp.attributes(resource), resource)[0] == 200  # acknowledged
    record = only_record(gcp.storage, key)
    assert record["status"] == "failed" and record["error"]["stage"] == "ingest"
    assert "broken.csv" in record["error"]["message"]
    assert record["deployments"] == []
    after = Registry(gcp.storage).alias(MODEL, "production")
    assert (after.version, after.seq) == (before.version, before.seq)


def test_a_zero_byte_object_is_skipped_and_its_real_write_runs(
    gcp: GcpDeployment, first_run: dict
) -> None:
    key = "landing/train/gcsfuse-style.csv"
    empty = gcp.upload(key, b"")  # gcsfuse-style writers create the object empty first
    assert empty["size"] == "0"
    assert gcp.binary(gcp.attributes(empty), empty)[0] == 200
    assert records_for(gcp.storage, key) == []
    full = gcp.upload(key, BATCH2)  # ... then write it: a new generation
    assert full["generation"] != empty["generation"]
    assert gcp.binary(gcp.attributes(full), full)[0] == 200
    assert_promoted(gcp.storage, only_record(gcp.storage, key), BATCH2)


def test_a_scheduled_monitoring_run(gcp: GcpDeployment, first_run: dict) -> None:
    gcp.upload("landing/score/drifted.csv", DRIFTED)
    # What the Terraform module's Cloud Scheduler job posts: the same ce-id on every firing
    headers = {
        "Content-Type": "application/json",
        "ce-specversion": "1.0",
        "ce-type": "hookline.schedule",
        "ce-source": "hookline/functions-e2e/schedules/monitor",
        "ce-id": "functions-e2e-monitor",
    }
    body = json.dumps({"pipeline": "monitor"}).encode()

    def monitor_runs() -> list[dict[str, Any]]:
        return [r for r in run_records(gcp.storage) if r["pipeline"] == "monitor"]

    first = {**headers, "X-CloudScheduler-ScheduleTime": "2024-05-15T02:00:00Z"}
    assert gcp.post(body, first)[0] == 200, gcp.host.tail()
    [record] = monitor_runs()
    assert record["status"] == "succeeded", record.get("error")
    assert record["trigger"]["type"] == "schedule"
    assert record["trigger"]["event_time"] == "2024-05-15T02:00:00Z"
    assert gcp.storage.stat(f"monitoring/{MODEL}/reports/{record['run_id']}.json") is not None
    assert gcp.post(body, first)[0] == 200  # Cloud Scheduler's retry of that firing
    assert len(monitor_runs()) == 1
    nxt = {**headers, "X-CloudScheduler-ScheduleTime": "2024-05-16T02:00:00Z"}
    assert gcp.post(body, nxt)[0] == 200  # the next day's firing
    assert len(monitor_runs()) == 2
    # a schedule this configuration does not have: 404, and nothing runs
    status, answer = gcp.post(json.dumps({"pipeline": "retired"}).encode(), nxt)
    assert (status, json.loads(answer)) == (404, {"error": "not found", "retry": False})
    assert len(monitor_runs()) == 2


def test_a_run_held_elsewhere_answers_503_and_a_released_one_restarts(
    gcp: GcpDeployment, first_run: dict
) -> None:
    key = "landing/train/held.csv"
    resource = gcp.upload(key, BATCH1)
    attributes = gcp.attributes(resource)
    [event] = parse_event({**attributes, "data": resource})
    runs = RunStore(gcp.storage)
    run_id = event.run_id("train")
    assert runs.claim(run_id, event, "train").acquired  # another instance is running it
    status, body = gcp.binary(attributes, resource)
    # a hookline error, not a crash: 503, and the trigger's retry policy delivers it again
    assert status == 503 and json.loads(body) == {"error": "temporarily unavailable", "retry": True}
    assert records_for(gcp.storage, key) == []
    runs.release(run_id, "the other instance was throttled")  # ... and gave it up
    assert gcp.binary(attributes, resource)[0] == 200
    record = only_record(gcp.storage, key)
    assert record["attempt"] == 2 and record["status"] == "succeeded"


def _json_or_none(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


@pytest.mark.parametrize(
    ("attributes", "data", "where"),
    [
        (
            {"type": "google.cloud.pubsub.topic.v1.messagePublished"},
            {"message": {}},
            "data.message",
        ),
        ({"type": "com.example.unknown"}, {}, "type"),
        ({}, {"bucket": "b", "name": "landing/train/x.csv", "generation": "1e9"}, "generation"),
        ({}, {"bucket": "b", "name": 7}, "name"),
    ],
    ids=["pubsub-neither", "unknown-type", "bad-generation", "name-not-a-string"],
)
def test_a_request_that_is_not_an_event_is_a_400_without_a_traceback(
    gcp: GcpDeployment, first_run: dict, attributes: dict, data: Any, where: str
) -> None:
    logged = len(gcp.host.log.read_text(errors="replace"))
    before = len(run_records(gcp.storage))
    attributes = {**gcp.attributes({"name": "landing/train/x.csv"}), **attributes}
    status, body = gcp.binary(attributes, data)
    assert status == 400, gcp.host.tail()
    assert json.loads(body) == {"error": "not an event", "retry": False}
    assert len(run_records(gcp.storage)) == before  # nothing ran, nothing was written
    output = gcp.host.log.read_text(errors="replace")[logged:]
    assert "Traceback" not in output
    [line] = [
        doc
        for doc in map(_json_or_none, output.splitlines())
        if isinstance(doc, dict) and doc.get("event") == "delivery_failed"
    ]
    assert line["status"] == "failed" and line["retry"] is False
    assert line["error_title"] == "not an event" and line["severity"] == "ERROR"
    assert where in line["error"]  # says where in the payload it went wrong


def test_hookline_outputs_never_trigger_runs(gcp: GcpDeployment, first_run: dict) -> None:
    record_key = next(i.key for i in gcp.storage.list("runs/") if i.key.endswith("record.json"))
    url = f"{gcp.emulator}/storage/v1/b/{gcp.bucket}/o/{quote(record_key, safe='')}"
    with urllib.request.urlopen(url, timeout=10) as response:
        resource = json.loads(response.read())
    before = len(run_records(gcp.storage))
    assert gcp.binary(gcp.attributes(resource), resource)[0] == 200
    assert len(run_records(gcp.storage)) == before


def test_a_transient_storage_failure_raises_for_the_retry_policy(
    gcp: GcpDeployment, first_run: dict, gcs_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry point's body, in this process, on storage that starts throttling: it
    raises (the entry point answers 503) and the retry restarts the run."""
    from hookline.adapters.gcp.storage import GCSStorage

    key = "landing/train/throttled.csv"
    resource = gcp.upload(key, BATCH1)
    cloud_event = {**gcp.attributes(resource), "data": resource}
    with faulty_proxy(gcs_server.url) as proxy:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy.url)
        monkeypatch.setenv("HOOKLINE_STORAGE", f"gs://{gcp.bucket}")
        storage = GCSStorage(f"gs://{gcp.bucket}", timeout=5, retry_timeout=0.5)
        app = Hookline.from_config(str(gcp.bundle / "hookline.toml"), storage=storage)
        function = CloudEventPipeline(PipelineRuntime(app=app))
        proxy.fail(key, Fault(503, b'{"error": {"code": 503, "message": "Backend Error"}}'))
        with pytest.raises(TransientError):
            function(cloud_event, headers={})
        assert proxy.failed and records_for(gcp.storage, key) == []
        proxy.heal()
        summary = function(cloud_event, headers={})
    assert summary["counts"] == {"succeeded": 1}
    record = only_record(gcp.storage, key)
    assert record["attempt"] == 2
    assert_promoted(gcp.storage, record, BATCH1)


# -- logs, as Cloud Logging reads them ------------------------------------------------------


def log_entries(gcp: GcpDeployment) -> list[dict[str, Any]]:
    """Each line the function host wrote to stdout or stderr, as Cloud Logging takes it: a
    line that is a JSON object becomes ``jsonPayload`` (its ``severity`` the entry's), any
    other line a ``textPayload`` without severity."""
    entries = []
    for line in gcp.host.log.read_text(errors="replace").splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            entries.append({"jsonPayload": doc, "severity": doc.get("severity", "DEFAULT")})
        elif line.strip():
            entries.append({"textPayload": line, "severity": "DEFAULT"})
    return entries


def run_finished(gcp: GcpDeployment, run_id: str) -> list[dict[str, Any]]:
    return [
        e
        for e in log_entries(gcp)
        if "jsonPayload" in e
        and e["jsonPayload"].get("run_id") == run_id
        and e["jsonPayload"].get("event") == "run_finished"  # the log-based metrics' filter
    ]


def test_a_succeeded_runs_info_line_reaches_cloud_logging_with_its_severity(
    gcp: GcpDeployment, first_run: dict
) -> None:
    record = only_record(gcp.storage, first_run["key"])
    [entry] = run_finished(gcp, record["run_id"])
    line = entry["jsonPayload"]
    assert entry["severity"] == "INFO" == line["level"]
    assert {k: line[k] for k in ("status", "pipeline", "model", "project", "seconds")} == {
        "status": "succeeded",
        "pipeline": "train",
        "model": MODEL,
        "project": "functions-e2e",
        "seconds": record["seconds"],
    }
    assert line["logger"] == "hookline.function" and "_aws" not in line
    # functions-framework labelled it with the request's execution id
    assert line["logging.googleapis.com/labels"]["execution_id"]
    stages = [
        e["jsonPayload"]
        for e in log_entries(gcp)
        if "jsonPayload" in e
        and e["jsonPayload"].get("run_id") == record["run_id"]
        and e["jsonPayload"].get("event") == "stage_finished"
    ]
    assert [s["stage"] for s in stages] == ["ingest", "train", "validate", "deploy"]


def test_a_failed_run_is_an_error_entry(gcp: GcpDeployment, first_run: dict) -> None:
    key = "landing/train/broken-for-logs.csv"
    resource = gcp.upload(key, BROKEN)
    assert gcp.binary(gcp.attributes(resource), resource)[0] == 200
    record = only_record(gcp.storage, key)
    [entry] = run_finished(gcp, record["run_id"])
    assert entry["severity"] == "ERROR"  # what the module's severity>=ERROR alert matches
    assert entry["jsonPayload"]["status"] == "failed"
    assert entry["jsonPayload"]["stage"] == "ingest"


def test_every_line_hookline_writes_is_a_json_object(gcp: GcpDeployment, first_run: dict) -> None:
    entries = log_entries(gcp)
    ours = [e for e in entries if "hookline" in str(e.get("jsonPayload", {}).get("logger", ""))]
    assert ours and all(e["severity"] in ("INFO", "WARNING", "ERROR") for e in ours)
    text = [e["textPayload"] for e in entries if "textPayload" in e]
    # only the host's own start-up lines (gunicorn) are text
    assert all("hookline" not in line for line in text), text
