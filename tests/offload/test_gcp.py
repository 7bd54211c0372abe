"""Run offload on Google Cloud: the storage root on fake-gcs-server, Cloud Run jobs through
the official client over the network to a stand-in that checks every request body against
the documented shape (``_cloudrun.py``; Cloud Run has no emulator). Cloud Run emits no
job-state events, so failures and jobs that never start are closed by the reconciler's
schedule, delivered as Cloud Scheduler -> Pub/Sub would."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hookline.adapters.gcp.events import parse_event
from hookline.compute import job_name

from ._cloudrun import FakeCloudRun
from ._project import make_project, training_csv

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

DIGEST = "sha256:" + "9a" * 32
JOB = "projects/acme-ml/locations/europe-west1/jobs/hookline-train"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "jobs" / "gcp"


@pytest.fixture
def cloud_run():
    fake = FakeCloudRun().start()
    yield fake
    fake.stop()


def _project(tmp_path, gcs_server, cloud_run, **compute):
    table = {
        "backend": "cloud-run-job",
        "job": JOB,
        "image": f"europe-west1-docker.pkg.dev/acme-ml/hookline/job@{DIGEST}",
        "api_endpoint": cloud_run.url,
        "max_attempts": 2,
        **compute,
    }
    return make_project(tmp_path / "p", f"gs://{gcs_server.new_bucket()}/root", compute=table)


def _reconcile_tick(n: int) -> dict:
    data = base64.b64encode(json.dumps({"source": "hookline.reconcile"}).encode()).decode()
    return {
        "specversion": "1.0",
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "source": "//pubsub.googleapis.com/projects/acme-ml/topics/hookline-reconcile",
        "id": f"tick-{n}",
        "data": {"message": {"data": data, "messageId": f"m{n}"}, "subscription": "s"},
    }


def _reconcile(project, n: int) -> list:
    [event] = parse_event(_reconcile_tick(n))
    return project.app().handle(event)


def _play(cloud_run, execution: str, project) -> subprocess.CompletedProcess:
    """Start what Cloud Run would: the job's container with the execution's environment
    (the template's, with the run's overrides applied)."""
    env = {**cloud_run.env_of(execution), "HOOKLINE_IMAGE_DIGEST": DIGEST}
    env["HOOKLINE_CONFIG"] = str(project.config_path)
    return subprocess.run(
        [sys.executable, "-m", "hookline", "job", "run"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_one_execution_from_eight_deliveries_with_a_documented_request_body(
    tmp_path, gcs_server, cloud_run
):
    project = _project(tmp_path, gcs_server, cloud_run)
    event = project.upload("a.csv", training_csv(21))
    apps = [project.app() for _ in range(8)]
    barrier = threading.Barrier(8)

    def deliver(app):
        barrier.wait()
        return app.handle(event)[0]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(deliver, apps))
    assert {r.status for r in results} == {"dispatched"}
    assert cloud_run.refused == [] and len(cloud_run.runs) == 1
    run_id = results[0].run_id
    [body] = cloud_run.runs
    overrides = body["overrides"]
    assert overrides["taskCount"] == 1 and overrides["timeout"] == "86400s"
    env = {e["name"]: e["value"] for e in overrides["containerOverrides"][0]["env"]}
    assert env["HOOKLINE_RUN_ID"] == run_id
    assert env["HOOKLINE_JOB_NAME"] == job_name(run_id, 1)
    execution = project.dispatch(run_id)["job"]["id"]
    assert execution.startswith(JOB + "/executions/hookline-train-")

    done = _play(cloud_run, execution, project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert project.record(run_id)["status"] == "succeeded"
    assert project.versions() == [1] and project.open_jobs() == []
    assert [r.status for r in _reconcile(project, 1)] == ["ignored"]


def test_a_failed_execution_is_found_by_the_reconciler_and_run_again_then_recorded(
    tmp_path, gcs_server, cloud_run
):
    project = _project(tmp_path, gcs_server, cloud_run)
    run_id = project.app().handle(project.upload("b.csv", training_csv(22)))[0].run_id
    first = project.dispatch(run_id)["job"]["id"]
    assert [r.status for r in _reconcile(project, 1)] == ["dispatched"], "pending: left alone"
    failed = json.loads((FIXTURES / "execution_failed.json").read_text())
    cloud_run.executions[first].update(
        {k: failed[k] for k in ("completionTime", "conditions", "failedCount")}
    )
    assert [r.status for r in _reconcile(project, 2)] == ["dispatched"]
    assert len(cloud_run.runs) == 2
    env = {
        e["name"]: e["value"]
        for e in cloud_run.runs[1]["overrides"]["containerOverrides"][0]["env"]
    }
    assert env["HOOKLINE_ATTEMPT"] == "2"
    reason = project.dispatch(run_id)["attempts"][0]["reason"]
    assert "cloud-run-job job" in reason and "The container exited with an error" in reason
    second = project.dispatch(run_id)["job"]["id"]
    cloud_run.executions[second].update(
        {k: failed[k] for k in ("completionTime", "conditions", "failedCount")}
    )
    assert [r.status for r in _reconcile(project, 3)] == ["failed"]
    record = project.record(run_id)
    assert (
        record["status"] == "failed" and "gave up after 2 attempt(s)" in record["error"]["message"]
    )
    assert len(cloud_run.runs) == 2 and project.open_jobs() == []


def test_an_execution_that_never_starts_is_cancelled_and_closed(tmp_path, gcs_server, cloud_run):
    project = _project(tmp_path, gcs_server, cloud_run, start_timeout_seconds=1, max_attempts=1)
    run_id = project.app().handle(project.upload("c.csv", training_csv(23)))[0].run_id
    execution = project.dispatch(run_id)["job"]["id"]
    time.sleep(1.5)
    assert [r.status for r in _reconcile(project, 1)] == ["failed"]
    assert cloud_run.cancels == [execution]
    assert (
        "did not start within start_timeout_seconds (1s"
        in project.record(run_id)["error"]["message"]
    )


def test_a_body_the_api_would_refuse_is_refused_here(cloud_run):
    import urllib.request

    from hookline.adapters.gcp.compute import CloudRunJobBackend
    from hookline.compute import JobSpec
    from hookline.errors import HooklineError

    bad = json.dumps({"overrides": {"containerOverrides": [{"environment": []}]}}).encode()
    request = urllib.request.Request(f"{cloud_run.url}/v2/{JOB}:run", data=bad, method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 400 and 'Unknown name "environment"' in cloud_run.refused[0]
    # The backend's own requests pass, and a refusal reaches the caller as a clear error.
    other = JOB.replace("hookline-train", "other")
    backend = CloudRunJobBackend(
        {"job": other, "image": "i@" + DIGEST, "api_endpoint": cloud_run.url}
    )
    spec = JobSpec(
        "train-0123456789abcdef0123",
        "train",
        1,
        "hl-train-0123456789abcdef0123-1",
        (),
        {"A": "1"},
        60,
    )
    assert backend.submit(spec).id.startswith(other + "/executions/other-")
    assert backend.find(spec.name).id.startswith(other + "/executions/")
    backend.config["api_endpoint"] = cloud_run.url + "/nowhere"
    backend._clients.clear()
    with pytest.raises(HooklineError, match="run.jobs.run"):
        backend.submit(spec)
