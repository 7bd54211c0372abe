"""The Azure pipeline through a Storage Queue, end to end: Event Grid -> queue -> the
queue-triggered function ``pipeline_queue``, with Azurite's blob and queue services.

Event Grid's side is played by writing each ``BlobCreated`` event to the queue the way it
does (one event per message, base64-encoded text). Two function instances run as separate
processes (``_azure_host.py``): each is the Functions host's queue listener -- receive with
a visibility timeout, renew it while the function runs, delete on success, make visible
again after ``visibilityTimeout`` on failure, poison after ``maxDequeueCount`` -- with the
Python worker's converter and ``function_app.py`` from a bundle folder in it. Durations are
the host's scaled by ``SCALE`` (its 10-minute receive visibility becomes 18 seconds), so a
60-second run outlasts it three times over.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from emulators._process import EmulatorProcess
from emulators._servers import AZURITE_ACCOUNT, AZURITE_KEY, ensure_azurite
from hookline.registry import Registry
from hookline.storage import Storage, open_storage

from ._e2e import (
    BATCH1,
    BATCH2,
    MODEL,
    assert_promoted,
    blob_created,
    make_bundle,
    only_record,
    records_for,
)

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

SCALE = 0.03  # the host's 600 s receive visibility -> 18 s; visibilityTimeout 300 s -> 9 s
QUEUE = "hookline-events"
HOST = Path(__file__).with_name("_azure_host.py")
SLOWPOKE = '''
"""A plugin that makes the train stage of objects named *slow* take SLOWPOKE_SECONDS."""
import os
import time

from hookline import hookimpl


@hookimpl
def before_stage_run(ctx, stage):
    key = getattr(ctx.event, "key", "")
    if stage == "train" and "slow" in key:
        time.sleep(float(os.environ.get("SLOWPOKE_SECONDS", "0")))
'''


@pytest.fixture(scope="module")
def queue_service() -> Iterator[str]:
    """Azurite's queue service (the blob service runs in the session's azurite_server)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Azurite needs Node.js")
    main = ensure_azurite().parents[1] / "queue" / "main.js"
    process = EmulatorProcess(
        "azure-queue",
        [
            node,
            str(main),
            "--queueHost",
            "127.0.0.1",
            "--queuePort",
            "{port}",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--silent",
            "--loose",
            "--inMemoryPersistence",
        ],
        probe_path=f"/{AZURITE_ACCOUNT}?comp=list",
    )
    process.start()
    try:
        yield process.url
    finally:
        process.stop()


@dataclass
class QueueDeployment:
    container: str
    storage: Storage
    server: Any
    queue: Any
    poison: Any
    bundle: Path
    work: Path
    env: dict[str, str]

    def upload(self, key: str, data: bytes) -> Any:
        blob = self.server.blob_service().get_blob_client(self.container, key)
        blob.upload_blob(data, overwrite=True)
        return blob

    def blob_created(self, key: str, *, schema: str = "eventgrid", quoted: bool = False) -> dict:
        """The ``BlobCreated`` event the account's Event Grid topic sends for ``key``."""
        blob = self.server.blob_service().get_blob_client(self.container, key)
        return blob_created(blob, self.container, key, schema=schema, quoted=quoted)

    def publish(self, event: Any) -> str:
        """Event Grid's storage-queue delivery: one event per message, base64 text."""
        text = event if isinstance(event, str) else json.dumps(event)
        sent = self.queue.send_message(base64.b64encode(text.encode()).decode())
        return str(sent.id)

    def invocations(self) -> list[dict[str, Any]]:
        path = self.work / "invocations.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def traces(self) -> list[dict[str, Any]]:
        path = self.work / "traces.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def wait(self, condition: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                tail = (self.work / "host-a.log").read_text()[-3000:]
                raise AssertionError(f"timed out waiting for {what}: {self.invocations()}\n{tail}")
            time.sleep(0.25)

    def done(self, message_id: str) -> bool:
        return any(
            i["message_id"] == message_id and i.get("error") is None
            for i in self.invocations()
            if "dequeue_count" in i
        )


def _slowpoke_site(root: Path) -> Path:
    site = root / "site"
    site.mkdir()
    (site / "slowpoke.py").write_text(textwrap.dedent(SLOWPOKE))
    info = site / "slowpoke-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: slowpoke\nVersion: 1.0\n\n")
    (info / "entry_points.txt").write_text("[hookline]\nslowpoke = slowpoke\n")
    return site


def _start_hosts(deployment: QueueDeployment, *extra: str) -> list[subprocess.Popen]:
    procs = []
    for name in ("a", "b"):
        log = (deployment.work / f"host-{name}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(HOST),
                    "--bundle",
                    str(deployment.bundle),
                    "--instance",
                    name,
                    "--invocations",
                    str(deployment.work / "invocations.jsonl"),
                    "--traces",
                    str(deployment.work / "traces.jsonl"),
                    "--scale",
                    str(SCALE),
                    *extra,
                ],
                cwd=deployment.bundle,
                env=deployment.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def deployment(
    azurite_server: Any, queue_service: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QueueDeployment]:
    from azure.storage.queue import QueueClient

    container = azurite_server.new_bucket("q")
    work = tmp_path_factory.mktemp("azure-queue")
    bundle = make_bundle(
        work / "bundle", "azure_functions/function_app.py", "azure_functions/host.json"
    )
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={azurite_server.url}/{AZURITE_ACCOUNT};"
        f"QueueEndpoint={queue_service}/{AZURITE_ACCOUNT};"
    )
    queue = QueueClient.from_connection_string(connection, QUEUE)
    queue.create_queue()
    poison = QueueClient.from_connection_string(connection, f"{QUEUE}-poison")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HOOKLINE_", "PYTEST_"))}
    env = {
        **base,
        "PYTHONPATH": str(_slowpoke_site(work)),
        "AZURE_STORAGE_CONNECTION_STRING": connection,
        # the app settings the Terraform module sets on the pipeline app
        "HOOKLINE_ROLE": "pipeline",
        "HOOKLINE_STORAGE": f"az://{container}",
        "HOOKLINE_EVENTS_QUEUE": QUEUE,
        "HOOKLINE_QUEUE": connection,
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "SLOWPOKE_SECONDS": "60",
    }
    yield QueueDeployment(
        container,
        open_storage(f"az://{container}"),
        azurite_server,
        queue,
        poison,
        bundle,
        work,
        env,
    )


@pytest.fixture(scope="module")
def hosts(deployment: QueueDeployment) -> Iterator[list[subprocess.Popen]]:
    procs = _start_hosts(deployment)
    try:
        yield procs
    finally:
        _stop(procs)
        for proc in procs:
            assert proc.returncode in (0, -15), (deployment.work / "host-a.log").read_text()


def test_a_60_second_run_is_handled_once(deployment: QueueDeployment, hosts: list) -> None:
    key = "landing/train/slow-batch1.csv"
    deployment.upload(key, BATCH1)
    message = deployment.publish(deployment.blob_created(key))
    started = time.monotonic()
    deployment.wait(lambda: deployment.done(message), 180, "the slow run")
    elapsed = time.monotonic() - started
    tries = [i for i in deployment.invocations() if i.get("message_id") == message]
    assert elapsed >= 60 and len(tries) == 1, tries  # received once, by one instance
    [attempt] = tries
    assert attempt["dequeue_count"] == 1 and attempt["seconds"] >= 60
    assert attempt["seconds"] > 3 * 600 * SCALE  # it outlasted the receive visibility 3x
    record = only_record(deployment.storage, key)
    assert record["attempt"] == 1
    assert_promoted(deployment.storage, record, BATCH1)
    assert deployment.queue.peek_messages() == []  # deleted once done
    lines = [
        json.loads(t["message"])
        for t in deployment.traces()
        if t["message"].startswith("{") and '"run_finished"' in t["message"]
    ]
    [line] = [doc for doc in lines if doc["run_id"] == record["run_id"]]
    assert line["level"] == "INFO" and line["status"] == "succeeded"  # the trace's message


@pytest.mark.parametrize("schema", ["eventgrid", "cloudevents"])
def test_one_blob_version_is_one_run_on_every_path(
    deployment: QueueDeployment, hosts: list, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queue (bare and quoted ETags, both schemas), Event Grid's push and the blob
    trigger deliver the same blob version: one run."""
    from azure.functions.eventgrid import EventGridEventInConverter
    from azure.functions.meta import Datum
    from hookline.adapters.azure.pipeline import (
        handle_blob_client,
        handle_event_grid,
    )
    from hookline.adapters.cloud import PipelineRuntime

    key = f"landing/train/paths-{schema}.csv"
    blob = deployment.upload(key, BATCH2)
    first = deployment.publish(deployment.blob_created(key, schema=schema))
    again = deployment.publish(deployment.blob_created(key, schema=schema, quoted=True))
    deployment.wait(
        lambda: deployment.done(first) and deployment.done(again), 120, "two deliveries"
    )
    [record] = records_for(deployment.storage, key)
    assert record["status"] == "succeeded" and record["attempt"] == 1
    monkeypatch.delenv("HOOKLINE_CONFIG", raising=False)
    monkeypatch.setenv("HOOKLINE_STORAGE", deployment.env["HOOKLINE_STORAGE"])
    runtime = PipelineRuntime(deployment.bundle)
    pushed = EventGridEventInConverter.decode(
        Datum(json.dumps(deployment.blob_created(key, schema=schema, quoted=True)), "json"),
        trigger_metadata={},
    )
    assert handle_event_grid(runtime, pushed)["counts"] == {"duplicate": 1}
    assert handle_blob_client(runtime, blob)["counts"] == {"duplicate": 1}  # SDK: quoted
    assert [r["run_id"] for r in records_for(deployment.storage, key)] == [record["run_id"]]


def test_a_message_that_is_not_an_event_ends_in_the_poison_queue(
    deployment: QueueDeployment, hosts: list
) -> None:
    text = json.dumps({"hello": "world"})
    message = deployment.publish(text)

    def poisoned() -> bool:
        try:
            return bool(deployment.poison.peek_messages())
        except Exception:
            return False

    deployment.wait(poisoned, 5 * 300 * SCALE + 60, "the poison queue")
    tries = [i for i in deployment.invocations() if i.get("message_id") == message]
    assert [t["dequeue_count"] for t in tries] == [1, 2, 3, 4, 5]  # maxDequeueCount
    assert all("EventError" in t["error"] for t in tries)
    [moved] = deployment.poison.peek_messages()
    assert base64.b64decode(moved.content).decode() == text  # the body, unchanged
    assert deployment.queue.peek_messages() == []
    assert Registry(deployment.storage).alias(MODEL, "production") is not None


def test_without_renewal_a_long_run_would_be_delivered_again(
    deployment: QueueDeployment, hosts: list, tmp_path: Path
) -> None:
    """The control: a host that does not renew the visibility hands the message to the
    other instance while the run goes on (that instance finds the run held and fails)."""
    _stop(hosts)
    env = {**deployment.env, "SLOWPOKE_SECONDS": str(600 * SCALE * 1.5)}
    procs = _start_hosts(QueueDeployment(**{**deployment.__dict__, "env": env}), "--no-renewal")
    try:
        key = "landing/train/slow-unrenewed.csv"
        deployment.upload(key, BATCH2)
        message = deployment.publish(deployment.blob_created(key))

        def redelivered() -> bool:
            return any(
                i.get("message_id") == message and i.get("dequeue_count", 0) >= 2
                for i in deployment.invocations()
            )

        deployment.wait(redelivered, 120, "a second delivery")
        second = [
            i
            for i in deployment.invocations()
            if i.get("message_id") == message and i.get("dequeue_count", 0) >= 2
        ][0]
        assert "held by another invocation" in (second["error"] or "")
    finally:
        _stop(procs)
