"""The dispatch state machine, backend by backend's answers: one job per run however many
deliveries, attempts closed once, failures recorded with the platform's words.

The backend here is an in-process stand-in that records what it is asked (the cloud
backends are tested against their emulators in tests/offload and tests/adapters); the
storage, claims and records are real. Time is simulated where leases matter.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hookline import jsonio, layout
from hookline.compute import JobHandle, JobSpec, JobStatus, job_name
from hookline.errors import HooklineError, TransientError
from hookline.events import JobEvent, ReconcileEvent
from hookline.runs import function_deadline
from offload._project import MODEL, make_project, training_csv

DIGEST = "sha256:" + "cd" * 32


class Recorder:
    """A backend that records submissions and answers what the test says."""

    name: ClassVar[str] = "aws-batch"
    events: ClassVar[str] = "events"

    def __init__(self) -> None:
        self.submitted: list[JobSpec] = []
        self.cancelled: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.fail_with: Exception | None = None
        self.states: dict[str, JobStatus] = {}
        self.known: dict[str, JobHandle] = {}

    def submit(self, job: JobSpec) -> JobHandle:
        with self.lock:
            if self.fail_with is not None:
                raise self.fail_with
            self.submitted.append(job)
            handle = JobHandle(self.name, job.name, f"id-{len(self.submitted)}")
            self.known[job.name] = handle
            return handle

    def find(self, name: str) -> JobHandle | None:
        return self.known.get(name)

    def status(self, handle: JobHandle) -> JobStatus:
        return self.states.get(handle.name, JobStatus("pending", "RUNNABLE", "RUNNABLE"))

    def cancel(self, handle: JobHandle, reason: str) -> None:
        self.cancelled.append((handle.name, reason))


class Clock:
    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def backend() -> Recorder:
    return Recorder()


def _project(tmp_path: Path, **compute: Any):
    table = {
        "backend": "aws-batch",
        "job_queue": "q",
        "job_definition": "jd",
        "image": f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/hookline@{DIGEST}",
        "when": "always",
        "max_attempts": 2,
        "heartbeat_seconds": 10,
        **compute,
    }
    return make_project(tmp_path / "p", compute=table)


def _app(project, backend: Recorder, clock: Clock | None = None):
    app = project.app()
    app.offload._backends["train"] = backend
    if clock is not None:
        app.runs.clock = clock
    return app


def test_eight_concurrent_dispatchers_submit_one_job(tmp_path, backend):
    project = _project(tmp_path)
    event = project.upload("a.csv", training_csv(1))
    apps = [_app(project, backend) for _ in range(8)]
    barrier = threading.Barrier(8)

    def deliver(app):
        barrier.wait()
        return app.handle(event)[0]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(deliver, apps))
    assert len(backend.submitted) == 1
    assert {r.status for r in results} == {"dispatched"}
    run_id = results[0].run_id
    dispatch = project.dispatch(run_id)
    assert dispatch["state"] == "submitted" and dispatch["attempt"] == 1
    assert [a["name"] for a in dispatch["attempts"]] == [job_name(run_id, 1)]
    assert project.open_jobs() == [job_name(run_id, 1)]
    spec = backend.submitted[0]
    assert spec.env["HOOKLINE_RUN_ID"] == run_id and spec.env["HOOKLINE_ATTEMPT"] == "1"
    assert project.claim(run_id) is None, "the function claims nothing: the job will"


def test_a_redelivery_while_the_job_runs_submits_nothing(tmp_path, backend):
    project = _project(tmp_path)
    event = project.upload("a.csv", training_csv(1))
    app = _app(project, backend)
    first = app.handle(event)[0]
    again = _app(project, backend).handle(event)[0]
    assert (first.status, again.status) == ("dispatched", "dispatched")
    assert "already handed to aws-batch job" in again.message
    assert len(backend.submitted) == 1


def test_a_failed_job_is_dispatched_again_then_recorded_failed(tmp_path, backend):
    project = _project(tmp_path)
    event = project.upload("a.csv", training_csv(1))
    app = _app(project, backend)
    run_id = app.handle(event)[0].run_id
    first = job_name(run_id, 1)
    # The job claimed the run, then died; the platform says so.
    app.runs.claim(run_id, event, "train", holder="job", lease_seconds=30, job=first)
    failed = JobEvent(
        "aws-batch",
        first,
        "failed",
        "id-1",
        "Essential container in task exited; exit code 137",
        "FAILED",
    )
    results = [app.handle(failed)[0], _app(project, backend).handle(failed)[0]]  # delivered twice
    assert [r.status for r in results] == ["dispatched", "ignored"]
    assert "already closed" in results[1].message
    assert [s.name for s in backend.submitted] == [first, job_name(run_id, 2)]
    claim = project.claim(run_id)
    assert claim["released"] and "exit code 137" in claim["last_error"], (
        "the dead job's lease is broken"
    )
    dispatch = project.dispatch(run_id)
    assert dispatch["attempt"] == 2 and dispatch["attempts"][0]["outcome"] == "failed"
    assert project.open_jobs() == [job_name(run_id, 2)]

    last = app.handle(
        JobEvent(
            "aws-batch",
            job_name(run_id, 2),
            "failed",
            "id-2",
            "OutOfMemoryError: Container killed due to memory usage",
            "FAILED",
        )
    )[0]
    assert last.status == "failed"
    record = project.record(run_id)
    assert record["status"] == "failed" and record["attempt"] == 2
    assert record["error"]["type"] == "JobFailed"
    assert "gave up after 2 attempt(s)" in record["error"]["message"]
    assert "OutOfMemoryError" in record["error"]["message"]
    assert record["error"]["hint"]
    assert record["notes"]["offload"]["backend"] == "aws-batch"
    assert project.dispatch(run_id)["state"] == "failed"
    assert project.open_jobs() == []
    assert len(backend.submitted) == 2
    # The index lists it like any other run.
    summary = next(app.runs.summaries())
    assert (summary["run_id"], summary["status"]) == (run_id, "failed")
    # A late duplicate of the last event changes nothing.
    late = app.handle(
        JobEvent("aws-batch", job_name(run_id, 2), "failed", "id-2", "again", "FAILED")
    )[0]
    assert late.status == "ignored" and len(backend.submitted) == 2


def test_a_job_state_event_for_an_unknown_run_is_acknowledged_and_changes_nothing(
    tmp_path, backend
):
    project = _project(tmp_path)
    app = _app(project, backend)
    before = sorted(i.key for i in project.storage.list(""))
    result = app.handle(
        JobEvent("aws-batch", "hl-other-0123456789abcdef0123-1", "failed", "x", "boom", "FAILED")
    )[0]
    assert result.status == "ignored" and result.run_id is None
    assert "unknown job 'hl-other-0123456789abcdef0123-1'" in result.message
    assert sorted(i.key for i in project.storage.list("")) == before
    assert backend.submitted == []


def test_a_transient_submit_failure_is_retried_by_the_next_delivery(tmp_path, backend):
    project = _project(tmp_path)
    event = project.upload("a.csv", training_csv(1))
    app = _app(project, backend)
    backend.fail_with = TransientError("batch:SubmitJob: TooManyRequestsException")
    with pytest.raises(TransientError, match="will retry"):
        app.handle(event)
    run_id = event.run_id("train")
    assert project.dispatch(run_id)["state"] == "submit_failed"
    backend.fail_with = None
    again = _app(project, backend).handle(event)[0]
    assert again.status == "dispatched" and len(backend.submitted) == 1


def test_a_refused_submission_is_recorded_failed_with_the_platform_s_words(tmp_path, backend):
    project = _project(tmp_path)
    event = project.upload("a.csv", training_csv(1))
    backend.fail_with = HooklineError(
        "batch:SubmitJob: ClientException: Job queue q does not exist"
    )
    result = _app(project, backend).handle(event)[0]
    assert result.status == "failed"
    record = project.record(result.run_id)
    assert "Job queue q does not exist" in record["error"]["message"]
    assert project.open_jobs() == []


def test_a_dispatcher_that_died_mid_submission_is_taken_over_without_a_second_job(
    tmp_path, backend
):
    clock = Clock()
    project = _project(tmp_path)
    event = project.upload("a.csv", training_csv(1))
    app = _app(project, backend, clock)
    app.handle(event)  # submitted...
    run_id = event.run_id("train")
    # ... but the dispatcher died before it recorded the job: the record still says so.
    key = layout.run_dispatch_key(run_id)
    doc = jsonio.loads(project.storage.read(key))
    doc.update(state="submitting", job=None, attempts=[], state_epoch=clock.now)
    project.storage.write(key, jsonio.dumps(doc))
    assert _app(project, backend, clock).handle(event)[0].status == "dispatched"
    assert len(backend.submitted) == 1, "young: its submitter may be at it"
    clock.now += 121
    taken = _app(project, backend, clock).handle(event)[0]
    assert taken.status == "dispatched"
    assert len(backend.submitted) == 1, "the platform had the job: found, not submitted again"
    assert project.dispatch(run_id)["job"]["id"] == "id-1"


def test_auto_sends_large_uploads_to_a_job_and_runs_small_ones_here(tmp_path, backend):
    project = _project(tmp_path, when="auto", inline_max_bytes=5000)
    app = _app(project, backend)
    big = app.handle(project.upload("big.csv", training_csv(1, rows=400)))[0]
    assert big.status == "dispatched" and "over inline_max_bytes (5000)" in big.message
    small = app.handle(project.upload("small.csv", training_csv(2, rows=60)))[0]
    assert small.status == "succeeded"
    assert len(backend.submitted) == 1
    assert project.record(small.run_id)["status"] == "succeeded"


def test_a_function_timeout_then_a_redelivery_dispatches_within_one_delivery(tmp_path, backend):
    clock = Clock()
    project = _project(tmp_path, when="auto", inline_max_bytes=10**9)
    event = project.upload("a.csv", training_csv(1))
    app = _app(project, backend, clock)
    run_id = event.run_id("train")
    # The first delivery claims the run inline under the function's deadline, then is
    # killed at the deadline (Lambda timeout, out of memory): no release, no record.
    with function_deadline(clock.now + 30):
        app.runs.claim(run_id, event, "train", lease_until=clock.now + 30)
    clock.now += 25
    assert _app(project, backend, clock).handle(event)[0].status == "in_progress"
    clock.now += 40  # the platform's retry, a minute after the first attempt began
    retry = _app(project, backend, clock).handle(event)[0]
    assert retry.status == "dispatched", retry.message
    assert "died in the function" in retry.message
    assert len(backend.submitted) == 1
    # Without the deadline, the same retry would have waited out claim_timeout (900 s).


def test_the_job_refuses_a_configuration_or_image_that_is_not_the_dispatch_s(tmp_path, backend):
    project = _project(tmp_path)
    event = project.upload("a.csv", training_csv(1))
    app = _app(project, backend)
    run_id = app.handle(event)[0].run_id
    refused = app.offload.run_job(run_id, attempt=1, image_digest="sha256:" + "00" * 32)
    assert refused.status == "failed"
    record = project.record(run_id)
    assert record["error"]["type"] == "DispatchMismatch"
    assert f"the dispatch's image is {DIGEST}" in record["error"]["message"]
    assert project.dispatch(run_id)["state"] == "refused"
    assert project.claim(run_id) is None, "a refused job claims nothing"
    assert project.versions() == []
    # The platform's failure event for it then finds the run recorded: no second job.
    assert (
        app.handle(
            JobEvent("aws-batch", job_name(run_id, 1), "failed", None, "exit code 2", "FAILED")
        )[0].status
        == "ignored"
    )
    assert len(backend.submitted) == 1


def test_a_changed_configuration_is_refused(tmp_path, backend):
    project = _project(tmp_path)
    event = project.upload("a.csv", training_csv(1))
    run_id = _app(project, backend).handle(event)[0].run_id
    text = project.config_path.read_text().replace("max_depth = 3", "max_depth = 4")
    project.config_path.write_text(text)
    refused = _app(project, backend).offload.run_job(run_id, attempt=1, image_digest=DIGEST)
    assert refused.status == "failed"
    message = project.record(run_id)["error"]["message"]
    assert "its configuration hash is" in message and "the dispatch's is" in message


def test_the_job_runs_and_records_exactly_as_a_function_would(tmp_path, backend):
    project = _project(tmp_path)
    event = project.upload("a.csv", training_csv(1))
    app = _app(project, backend)
    run_id = app.handle(event)[0].run_id
    result = _app(project, backend).offload.run_job(run_id, attempt=1, image_digest=DIGEST)
    assert result.status == "succeeded", result.message
    record = project.record(run_id)
    assert record["trigger"]["sha256"] and record["deployments"][0]["version"] == 1
    assert record["notes"]["offload"] == {
        "backend": "aws-batch",
        "job": job_name(run_id, 1),
        "attempt": 1,
        "reason": "compute.when is 'always'",
        "image": project.dispatch(run_id)["image"],
    }
    claim = project.claim(run_id)
    assert claim["holder"] == "job" and claim["job"] == job_name(run_id, 1)
    assert project.open_jobs() == []
    assert project.versions() == [1] and project.registry.alias(MODEL, "production").version == 1
    # A stale attempt's job and a repeated job do nothing.
    assert (
        _app(project, backend).offload.run_job(run_id, attempt=1, image_digest=DIGEST).status
        == "duplicate"
    )
    # The platform's success event is not news.
    ok = app.handle(JobEvent("aws-batch", job_name(run_id, 1), "succeeded", None, "", "SUCCEEDED"))[
        0
    ]
    assert ok.status == "ignored"


def test_a_job_of_a_superseded_attempt_does_nothing(tmp_path, backend):
    project = _project(tmp_path, max_attempts=3)
    event = project.upload("a.csv", training_csv(1))
    app = _app(project, backend)
    run_id = app.handle(event)[0].run_id
    app.handle(
        JobEvent("aws-batch", job_name(run_id, 1), "failed", None, "spot reclaimed", "FAILED")
    )
    stale = app.offload.run_job(run_id, attempt=1, image_digest=DIGEST)
    assert stale.status == "stale" and "attempt 2" in stale.message
    assert project.claim(run_id) is None


def test_the_reconciler_closes_a_job_that_never_starts(tmp_path, backend):
    clock = Clock()
    project = _project(tmp_path, start_timeout_seconds=600, max_attempts=1)
    event = project.upload("a.csv", training_csv(1))
    app = _app(project, backend, clock)
    run_id = app.handle(event)[0].run_id
    clock.now += 300
    assert [r.status for r in app.handle(ReconcileEvent())] == ["dispatched"]
    clock.now += 301
    closed = app.handle(ReconcileEvent())
    assert [r.status for r in closed] == ["failed"]
    assert backend.cancelled and backend.cancelled[0][0] == job_name(run_id, 1)
    message = project.record(run_id)["error"]["message"]
    assert "did not start within start_timeout_seconds (600s" in message and "RUNNABLE" in message
    assert project.open_jobs() == []
    assert [r.status for r in app.handle(ReconcileEvent())] == ["ignored"]


def test_the_reconciler_closes_what_the_platform_reports_ended(tmp_path, backend):
    project = _project(tmp_path, max_attempts=2)
    event = project.upload("a.csv", training_csv(1))
    app = _app(project, backend)
    run_id = app.handle(event)[0].run_id
    backend.states[job_name(run_id, 1)] = JobStatus("failed", "CannotPullContainerError", "FAILED")
    results = app.handle(ReconcileEvent())
    assert [r.status for r in results] == ["dispatched"]
    assert "found by the reconciler" in project.dispatch(run_id)["attempts"][0]["reason"]
    assert [s.attempt for s in backend.submitted] == [1, 2]


def test_the_reconciler_stops_a_job_whose_lease_ended_while_it_ran(tmp_path, backend):
    clock = Clock()
    project = _project(tmp_path, max_attempts=2)
    event = project.upload("a.csv", training_csv(1))
    app = _app(project, backend, clock)
    run_id = app.handle(event)[0].run_id
    name = job_name(run_id, 1)
    app.runs.claim(run_id, event, "train", holder="job", lease_seconds=30, job=name)
    backend.states[name] = JobStatus("running", "", "RUNNING")
    assert [r.status for r in app.handle(ReconcileEvent())] == ["dispatched"]
    clock.now += 31  # hung: the platform says running, but nothing renews the lease
    assert [r.status for r in app.handle(ReconcileEvent())] == ["dispatched"]
    assert backend.cancelled == [(name, "its lease ended while it ran")]
    assert [s.attempt for s in backend.submitted] == [1, 2]


def test_schedules_do_not_dispatch_pipelines_without_compute(tmp_path, backend):
    project = _project(tmp_path, when="never")
    app = _app(project, backend)
    result = app.handle(project.upload("a.csv", training_csv(1)))[0]
    assert result.status == "succeeded" and backend.submitted == []
