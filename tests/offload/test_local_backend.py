"""The fault scenarios on the ``local`` backend: every job is a separate process (a
supervisor running ``python -m hookline job run``) on local storage, and the supervisor
reports how it ended, as a platform's job-state event does. Nothing is lost or duplicated:
each scenario checks the dispatch record, the run record and the versions in storage.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hookline.compute import job_name
from hookline.events import ReconcileEvent

from ._project import MODEL, OffloadProject, make_project, training_csv

pytestmark = pytest.mark.slow

SLOW = {
    "estimator": "sklearn.ensemble.RandomForestClassifier",
    "params": {"n_estimators": 300, "max_depth": 12},
}


@pytest.fixture
def projects():
    made: list[OffloadProject] = []
    yield made
    for project in made:
        project.kill_all()


def _make(projects, folder: Path, **kwargs) -> OffloadProject:
    project = make_project(folder, **kwargs)
    projects.append(project)
    return project


def test_an_upload_runs_in_a_job_and_a_redelivery_starts_no_second_one(tmp_path, projects):
    project = _make(projects, tmp_path / "p")
    event = project.upload("a.csv", training_csv(1))
    first = project.app().handle(event)[0]
    assert first.status == "dispatched"
    run_id = first.run_id
    project.wait(lambda: project.claim(run_id), why="the job to claim the run")
    again = project.app().handle(event)[0]  # redelivered while the job runs
    assert again.status in ("dispatched", "duplicate")
    record = project.settled(run_id)
    assert record["status"] == "succeeded", record.get("error")
    assert record["attempt"] == 1 and record["notes"]["offload"]["backend"] == "local"
    assert list(project.local_jobs()) == [job_name(run_id, 1)], "one job, one process"
    assert project.versions() == [1]
    assert project.claim(run_id)["holder"] == "job"
    assert project.open_jobs() == []
    assert project.app().handle(event)[0].status == "duplicate"


_DISPATCHER = """
import json, sys
from hookline.events import event_from_dict
from hookline.project import Project
from hookline.runner import Hookline
app = Hookline(Project.open(sys.argv[1]))
event = event_from_dict(json.loads(sys.argv[2]))
open(sys.argv[3], "w").close()
while not __import__("os").path.exists(sys.argv[4]):
    pass
print(json.dumps([r.to_dict() for r in app.handle(event)]))
"""


def test_eight_concurrent_dispatcher_processes_start_one_job(tmp_path, projects):
    project = _make(projects, tmp_path / "p")
    event = project.upload("a.csv", training_csv(2))
    go = tmp_path / "go"
    procs = []
    for i in range(8):
        ready = tmp_path / f"ready{i}"
        procs.append(
            (
                ready,
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        _DISPATCHER,
                        str(project.config_path),
                        json.dumps(event.to_dict()),
                        str(ready),
                        str(go),
                    ],
                    stdout=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    project.wait(lambda: all(r.exists() for r, _ in procs), timeout=120, why="8 dispatchers")
    go.touch()  # all at once
    statuses = []
    for _, proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        statuses += [r["status"] for r in json.loads(out)]
    assert sorted(set(statuses)) == ["dispatched"] and len(statuses) == 8
    run_id = event.run_id("train")
    record = project.settled(run_id)
    assert record["status"] == "succeeded"
    assert list(project.local_jobs()) == [job_name(run_id, 1)]
    assert len(project.dispatch(run_id)["attempts"]) == 1
    assert project.versions() == [1]


def test_a_job_killed_mid_training_is_retried_and_one_version_results(tmp_path, projects):
    project = _make(projects, tmp_path / "p", **SLOW)
    event = project.upload("big.csv", training_csv(3, rows=6000))
    run_id = project.app().handle(event)[0].run_id
    first = job_name(run_id, 1)
    project.wait(lambda: (project.claim(run_id) or {}).get("job") == first, why="job 1 to claim")
    time.sleep(2.0)  # in the middle of reading and training
    assert project.record(run_id) is None, "the job finished before it could be killed"
    pid = project.local_jobs()[first]["pid"]
    os.kill(int(pid), signal.SIGKILL)
    record = project.settled(run_id, timeout=300)
    assert record["status"] == "succeeded", record.get("error")
    assert record["attempt"] == 2 and record["notes"]["offload"]["job"] == job_name(run_id, 2)
    dispatch = project.dispatch(run_id)
    assert [a["name"] for a in dispatch["attempts"]] == [first, job_name(run_id, 2)]
    assert "killed by signal 9 (SIGKILL)" in dispatch["attempts"][0]["reason"]
    assert project.local_jobs()[first]["reason"] == "killed by signal 9 (SIGKILL)"
    assert project.versions() == [1], "exactly one version after the retry"
    assert project.registry.alias(MODEL, "production").version == 1


def test_a_job_whose_configuration_changed_refuses_and_is_recorded(tmp_path, projects):
    project = _make(
        projects,
        tmp_path / "p",
        compute={"command": [sys.executable, "-c", "import time; time.sleep(2)"]},
    )
    event = project.upload("a.csv", training_csv(4))
    run_id = project.app().handle(event)[0].run_id
    # The deployment changes under the dispatch: the job reads another hookline.toml.
    text = project.config_path.read_text().replace("max_depth = 3", "max_depth = 5")
    changed = tmp_path / "changed.toml"
    changed.write_text(text)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hookline",
            "job",
            "run",
            "--config",
            str(changed),
            "--run-id",
            run_id,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refused to run" in done.stdout
    record = project.settled(run_id)
    assert record["status"] == "failed" and record["error"]["type"] == "DispatchMismatch"
    assert "configuration hash" in record["error"]["message"]
    assert project.versions() == [] and project.claim(run_id) is None
    # The placeholder job then ends; its event finds the run recorded: no second job.
    time.sleep(3)
    assert list(project.local_jobs()) == [job_name(run_id, 1)]


def test_max_attempts_exhausted_records_the_platform_s_reason(tmp_path, projects):
    failing = [
        sys.executable,
        "-c",
        "import sys; print('no GPU here', file=sys.stderr); sys.exit(3)",
    ]
    project = _make(projects, tmp_path / "p", compute={"command": failing, "max_attempts": 2})
    event = project.upload("a.csv", training_csv(5))
    run_id = project.app().handle(event)[0].run_id
    record = project.settled(run_id)
    assert record["status"] == "failed" and record["attempt"] == 2
    assert "gave up after 2 attempt(s)" in record["error"]["message"]
    assert "local job " + job_name(run_id, 2) + " FAILED: exit code 3" in record["error"]["message"]
    assert sorted(project.local_jobs()) == [job_name(run_id, 1), job_name(run_id, 2)]
    assert project.open_jobs() == [] and project.versions() == []


def test_a_job_that_never_starts_is_closed_by_the_reconciler(tmp_path, projects):
    never = [sys.executable, "-c", "import time; time.sleep(600)"]
    project = _make(
        projects,
        tmp_path / "p",
        compute={"command": never, "max_attempts": 1, "start_timeout_seconds": 1},
    )
    event = project.upload("a.csv", training_csv(6))
    run_id = project.app().handle(event)[0].run_id
    name = job_name(run_id, 1)
    project.wait(
        lambda: project.local_jobs().get(name, {}).get("state") == "running", why="the job process"
    )
    time.sleep(1.5)
    results = project.app().handle(ReconcileEvent())
    assert [r.status for r in results] == ["failed"]
    record = project.record(run_id)
    assert "did not start within start_timeout_seconds (1s" in record["error"]["message"]
    state = project.local_jobs()[name]
    assert state["state"] == "failed" and state["reason"].startswith("cancelled")
    child = int(state["pid"])
    project.wait(lambda: not _alive(child), timeout=10, why="the cancelled job to end")
    assert project.open_jobs() == []


def test_the_reconciler_cli_reports_nothing_to_do(tmp_path, projects):
    project = _make(projects, tmp_path / "p")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hookline",
            "job",
            "reconcile",
            "--config",
            str(project.config_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["message"] == "no jobs in flight"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
