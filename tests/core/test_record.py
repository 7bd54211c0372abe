"""The typed run record: the stored JSON shape, mapping access, unknown keys kept."""

from __future__ import annotations

import json

import pytest
from hookline import jsonio
from hookline.record import RunRecord, RunRecorder


def _record() -> RunRecord:
    return RunRecord(
        run_id="train-0123456789abcdef0123",
        pipeline="train",
        model="m",
        project="p",
        status="running",
        attempt=1,
        started_at="2026-12-03T10:00:00.000Z",
        trigger={"type": "storage", "uri": "file:///r/landing/a.csv"},
        config_hash="c" * 64,
    )


def test_the_recorder_times_stages_and_finishes_without_private_keys():
    recorder = RunRecorder(_record())
    recorder.start_stage("ingest")
    recorder.end_stage()
    recorder.skip_stage("deploy", "a blocking check failed")
    record = recorder.finish("rejected", {"plugin": "note"})
    stored = json.loads(jsonio.dumps(record.to_dict()))
    assert stored["stages"]["ingest"]["status"] == "ok"
    assert stored["stages"]["deploy"] == {
        "status": "skipped",
        "seconds": 0.0,
        "reason": "a blocking check failed",
    }
    assert stored["status"] == "rejected" and stored["notes"] == {"plugin": "note"}
    assert not [k for k in stored if k.startswith("_")]
    assert record["status"] == record.status == "rejected"


def test_a_failure_names_the_stage_it_stopped():
    recorder = RunRecorder(_record())
    recorder.start_stage("train")
    assert recorder.fail(ValueError("no variance")) == "train"
    record = recorder.finish("failed")
    assert record.stages["train"] == {"status": "failed"}
    assert record.error["message"] == "no variance" and record.error["stage"] == "train"


def test_round_trip_keeps_unknown_keys_and_the_mapping_view():
    stored = {**_record().to_dict(), "written_by_a_newer_hookline": {"x": 1}}
    record = RunRecord.from_dict(stored)
    assert record == stored and dict(record) == stored
    assert record["written_by_a_newer_hookline"] == {"x": 1}
    assert "task" not in record and record.get("task", "none") == "none"
    with pytest.raises(KeyError):
        record["finished_at"]
    assert record.summary()["trigger"] == "file:///r/landing/a.csv"
