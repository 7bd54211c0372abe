"""Run offload on Azure with Azurite: the storage root in Azurite's blob service, and the
Container Apps job's Storage Queue in Azurite's queue service, over the network. The test
plays Container Apps: for each execution its scale rule would start, it runs the job
image's entry point (``hookline job run`` with ``HOOKLINE_COMPUTE_BACKEND``), which
receives the message itself. A killed execution's message comes back once its visibility
(the lease) passes, and the next execution is the next attempt."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from emulators._process import EmulatorProcess
from emulators._servers import AZURITE_ACCOUNT, AZURITE_KEY, ensure_azurite
from hookline.compute import job_name
from hookline.events import ReconcileEvent

from ._project import MODEL, make_project, training_csv

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

DIGEST = "sha256:" + "a2" * 32
QUEUE = "hookline-jobs"


@pytest.fixture(scope="module")
def queue_service() -> Iterator[str]:
    """Azurite's queue service (the blob service is the session's ``azurite_server``)."""
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


@pytest.fixture
def queue(queue_service, monkeypatch):
    from azure.storage.queue import QueueClient

    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"QueueEndpoint={queue_service}/{AZURITE_ACCOUNT};"
    )
    monkeypatch.setenv("HOOKLINE_QUEUE", conn)
    client = QueueClient.from_connection_string(conn, QUEUE)
    try:
        client.create_queue()
    except Exception:
        client.clear_messages()
    yield client
    client.clear_messages()


def _project(tmp_path, azurite_server, **compute):
    table = {
        "backend": "container-apps-job",
        "image": f"hookline.azurecr.io/job@{DIGEST}",
        "queue": QUEUE,
        "max_attempts": 2,
        **compute,
    }
    root = f"az://{azurite_server.new_bucket()}/root"
    return make_project(tmp_path / "p", root, compute=table)


def _execution(project, **popen) -> subprocess.Popen:
    """One execution the scale rule starts: the job image's entry point."""
    env = {
        **os.environ,
        "HOOKLINE_COMPUTE_BACKEND": "container-apps-job",
        "HOOKLINE_IMAGE_DIGEST": DIGEST,
        "HOOKLINE_CONFIG": str(project.config_path),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "hookline", "job", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


def _visible(queue) -> list:
    return list(queue.peek_messages(max_messages=32))


def test_one_message_from_eight_deliveries_and_the_execution_completes_the_run(
    tmp_path, azurite_server, queue
):
    project = _project(tmp_path, azurite_server)
    event = project.upload("a.csv", training_csv(31))
    apps = [project.app() for _ in range(8)]
    barrier = threading.Barrier(8)

    def deliver(app):
        barrier.wait()
        return app.handle(event)[0]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(deliver, apps))
    assert {r.status for r in results} == {"dispatched"}
    [message] = _visible(queue)
    run_id = results[0].run_id
    assert f'"run_id": "{run_id}"' in message.content
    execution = _execution(project)
    out, _ = execution.communicate(timeout=300)
    assert execution.returncode == 0, out
    record = project.record(run_id)
    assert record["status"] == "succeeded" and record["attempt"] == 1
    assert _visible(queue) == [] and list(queue.receive_messages()) == [], "deleted once recorded"
    assert project.versions() == [1] and project.open_jobs() == []
    # An execution started for a message another one took finds the queue empty.
    spare = _execution(project)
    out, _ = spare.communicate(timeout=120)
    assert spare.returncode == 0 and "the job queue is empty" in out


def test_a_killed_execution_s_message_comes_back_as_the_next_attempt(
    tmp_path, azurite_server, queue
):
    project = make_project(
        tmp_path / "p",
        f"az://{azurite_server.new_bucket()}/root",
        compute={
            "backend": "container-apps-job",
            "image": f"r.azurecr.io/j@{DIGEST}",
            "queue": QUEUE,
            "max_attempts": 2,
            "heartbeat_seconds": 1,
        },
        estimator="sklearn.ensemble.RandomForestClassifier",
        params={"n_estimators": 300, "max_depth": 12},
    )
    run_id = project.app().handle(project.upload("big.csv", training_csv(32, rows=6000)))[0].run_id
    first = _execution(project, start_new_session=True)
    project.wait(
        lambda: (project.claim(run_id) or {}).get("job") == job_name(run_id, 1), why="attempt 1"
    )
    time.sleep(2)
    assert project.record(run_id) is None and _visible(queue) == [], "invisible while it runs"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    project.wait(lambda: _visible(queue), timeout=30, why="the message to come back")
    second = _execution(project)
    out, _ = second.communicate(timeout=300)
    assert second.returncode == 0, out
    record = project.record(run_id)
    assert record["status"] == "succeeded" and record["attempt"] == 2, record.get("error")
    dispatch = project.dispatch(run_id)
    assert [a["name"] for a in dispatch["attempts"]] == [job_name(run_id, 1), job_name(run_id, 2)]
    assert "stopped without finishing" in dispatch["attempts"][0]["reason"]
    assert project.versions() == [1]
    assert project.registry.alias(MODEL, "production").version == 1
    assert _visible(queue) == []


def test_past_max_attempts_the_execution_records_the_run_failed(tmp_path, azurite_server, queue):
    project = _project(tmp_path, azurite_server, max_attempts=1)
    run_id = project.app().handle(project.upload("b.csv", training_csv(33)))[0].run_id
    # An execution received the message and died before it claimed the run.
    [taken] = list(queue.receive_messages(max_messages=1, visibility_timeout=1))
    assert f'"run_id": "{run_id}"' in taken.content
    project.wait(lambda: _visible(queue), timeout=30, why="the message to come back")
    execution = _execution(project)
    out, _ = execution.communicate(timeout=300)
    assert execution.returncode == 1, out
    record = project.record(run_id)
    assert record["status"] == "failed"
    assert "gave up after 1 attempt(s)" in record["error"]["message"]
    assert "the queue delivered it again as attempt 2" in record["error"]["message"]
    assert _visible(queue) == [] and project.versions() == []


def test_a_message_no_execution_receives_is_closed_by_the_reconciler(
    tmp_path, azurite_server, queue
):
    project = _project(tmp_path, azurite_server, start_timeout_seconds=1, max_attempts=1)
    run_id = project.app().handle(project.upload("c.csv", training_csv(34)))[0].run_id
    assert len(_visible(queue)) == 1
    time.sleep(1.5)
    # The function app's reconciler timer, registered as function_app.py registers it.
    import azure.functions as func
    from hookline.adapters._function import PipelineRuntime
    from hookline.adapters.azure.compute import register_reconciler

    app = func.FunctionApp()
    runtime = PipelineRuntime(app=project.app())
    assert register_reconciler(app, runtime, {}) == []
    assert register_reconciler(app, runtime, {"HOOKLINE_RECONCILE_SCHEDULE": "0 */5 * * * *"}) == [
        "pipeline_reconcile"
    ]
    [timer] = [f for f in app.get_functions() if f.get_function_name() == "pipeline_reconcile"]
    assert timer.get_bindings()[0].schedule == "%HOOKLINE_RECONCILE_SCHEDULE%"
    timer.get_user_function()(None)
    results = project.app().handle(ReconcileEvent(source="azure"))
    assert [r.status for r in results] == ["ignored"], "closed by the timer's pass"
    message = project.record(run_id)["error"]["message"]
    assert "did not start within start_timeout_seconds (1s" in message
    assert "waiting in queue hookline-jobs" in message
    assert _visible(queue) == [], "the message was deleted: no late execution runs it"
