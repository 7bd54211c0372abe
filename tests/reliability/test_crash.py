"""Crash injection: a function instance is killed (``os._exit`` in a child process) at each
step boundary of a run; the next delivery of the same event finds the claim, waits out
``[runs] claim_timeout_seconds``, restarts the run and finishes it. Meanwhile readers see
the previous production version, never a half-written one; afterwards exactly one
complete version carries the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ._audit import AliasReader, audit, run_records
from ._counters import record
from ._faults import CRASH_EXIT
from ._stack import MODEL, TRAIN_PREFIX, Project, make_project, training_csv
from .conftest import BACKENDS, root_for

CLAIM_TIMEOUT = 2
TESTS = Path(__file__).resolve().parents[1]

# name: (key pattern, before/after the write, alias moved before the crash)
POINTS = {
    "after-claim": ("runs/*/claim.json", "after", False),
    "after-run-marker": ("registry/*/by-run/*.json", "after", False),
    "after-version-allocated": ("registry/*/versions/*/_claim.json", "after", False),
    "mid-artifacts": ("registry/*/versions/*/model.skops", "after", False),
    "before-manifest": ("registry/*/versions/*/manifest.json", "before", False),
    "before-alias-move": ("registry/*/aliases/*.json", "before", False),
    "before-run-record": ("runs/*/record.json", "before", True),
}
FAST = {
    ("local", "after-claim"),
    ("local", "after-version-allocated"),
    ("local", "before-manifest"),
    ("s3", "before-alias-move"),
}


def cases() -> list[object]:
    out = []
    for backend in BACKENDS:
        for point in POINTS:
            marks = [] if backend == "local" else [pytest.mark.emulator]
            if (backend, point) not in FAST:
                marks.append(pytest.mark.soak)
            out.append(pytest.param(backend, point, marks=marks, id=f"{backend}-{point}"))
    return out


def crash(
    project: Project, event_json: str, pattern: str, when: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "reliability._crash_child",
            str(project.config_path),
            event_json,
            pattern,
            when,
        ],
        env=env,
        cwd=TESTS,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.parametrize(("backend", "point"), cases())
def test_a_crash_at_each_step_boundary_is_recovered(
    request: pytest.FixtureRequest, backend: str, point: str, tmp_path: Path, clean_env: None
) -> None:
    project = make_project(
        tmp_path / "project", root_for(request, backend, tmp_path), claim_timeout=CLAIM_TIMEOUT
    )
    pattern, when, moved = POINTS[point]
    # A production version exists before the crash: readers must keep seeing it, intact.
    [first] = project.app().handle(project.upload(f"{TRAIN_PREFIX}day-1.csv", training_csv(1)))
    assert first.status == "succeeded", first.message
    event = project.upload(f"{TRAIN_PREFIX}day-2.csv", training_csv(2))
    run_id = event.run_id("train")

    with AliasReader(project.root, MODEL) as reader:
        child = crash(project, json.dumps(event.to_dict()), pattern, when)
        assert child.returncode == CRASH_EXIT, (
            f"the crash point {point} was never reached:\n{child.stdout}\n{child.stderr[-3000:]}"
        )
        record("crashes_injected")
        state = project.registry.alias(MODEL, "production")
        assert state is not None and (state.version != 1) == moved, "alias moved too early"

        # The dead instance's claim is fresh: a redelivery now leaves it alone ...
        app = project.app()
        claim = json.loads(project.storage.read(f"runs/{run_id}/claim.json"))
        [again] = app.handle(event)
        deliveries = 3  # the first upload, the dead instance's, this one
        if time.time() - claim["claimed_epoch"] < CLAIM_TIMEOUT - 0.5:
            assert again.status == "in_progress", again
        # ... and once it is stale, the next delivery restarts the run and finishes it.
        time.sleep(max(0.0, claim["claimed_epoch"] + CLAIM_TIMEOUT + 0.2 - time.time()))
        if again.status == "in_progress":
            [again] = app.handle(event)
            deliveries += 1
        assert again.status == "succeeded", again.message
        assert again.record is not None and again.record["attempt"] == 2
        [done] = app.handle(event)
        record("events_delivered", deliveries + 1)
        assert done.status == "duplicate"
        time.sleep(0.1)
        reader.stop()

    assert reader.violations == [], reader.violations[:5]
    records = run_records(project.storage)
    assert sorted(r["run_id"] for r in records) == sorted([first.run_id, run_id])
    found = audit(project.storage, MODEL, records=records)
    assert found, found.problems
    mine = [
        v for v in found.versions if project.registry.get(MODEL, v).manifest["run_id"] == run_id
    ]
    assert len(mine) == 1, f"the run registered {mine}: a restart must not register twice"
    assert found.alias is not None and found.alias.version == mine[0]
    # A version the dead instance left without a manifest stays invisible, and nothing
    # ever pointed at it.
    claimed = {
        int(i.key.split("/")[3])
        for i in project.storage.list(f"registry/{MODEL}/versions/")
        if i.key.endswith("/_claim.json")
    }
    orphans = claimed - set(found.versions)
    assert not orphans & reader.seen
    assert not orphans & {e["version"] for e in found.alias.history}
    # Wherever it died -- even between allocating a number and recording it for the run --
    # the restarted run resumes the version the dead instance allocated: no number leaks.
    assert not orphans, f"versions allocated but never completed: {sorted(orphans)}"
    assert sorted(found.versions) == list(range(1, len(found.versions) + 1)), "a gap"
    # and every finished run has its side outputs
    for r in records:
        assert project.storage.stat(f"runs/{r['run_id']}/report.html") is not None, r["run_id"]


@pytest.mark.parametrize(
    "backend",
    [pytest.param("local"), pytest.param("s3", marks=[pytest.mark.emulator, pytest.mark.soak])],
)
def test_a_crash_after_the_record_completes_its_side_outputs_on_redelivery(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, clean_env: None
) -> None:
    """Died after ``record.json``, before the observers (the report, the index entry):
    the redelivery is a duplicate that writes what is missing, once."""
    project = make_project(
        tmp_path / "project", root_for(request, backend, tmp_path), claim_timeout=CLAIM_TIMEOUT
    )
    event = project.upload(f"{TRAIN_PREFIX}day-1.csv", training_csv(1))
    run_id = event.run_id("train")
    child = crash(project, json.dumps(event.to_dict()), "runs/*/record.json", "after")
    assert child.returncode == CRASH_EXIT, child.stderr[-3000:]
    record("crashes_injected")
    assert project.storage.stat(f"runs/{run_id}/report.html") is None
    [again] = project.app().handle(event)
    assert again.status == "duplicate", again
    report = project.storage.stat(f"runs/{run_id}/report.html")
    assert report is not None, "the redelivery did not complete the run's report"
    assert [s["run_id"] for s in project.runs.summaries()] == [run_id]
    [third] = project.app().handle(event)
    assert third.status == "duplicate"
    assert project.storage.stat(f"runs/{run_id}/report.html").etag == report.etag
