"""The runtime: routing, claims, stage calls, failure semantics and run records."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hookline import hookimpl
from hookline._manager import make_plugin_manager
from hookline.cli._app import event_for
from hookline.config import load_config
from hookline.errors import NotFound, TransientError, TransientStorageError, answer
from hookline.events import ScheduleEvent, StorageEvent
from hookline.runner import Hookline

from .conftest import TinyPlugin


def make_app(plugin: object | None = None) -> Hookline:
    pm = make_plugin_manager(plugins={"tiny": plugin or TinyPlugin()}, entry_points_group=None)
    return Hookline(load_config(), pm=pm)


def upload(app: Hookline, key: str, data: bytes) -> StorageEvent:
    info = app.storage.write(key, data)
    return event_for(app.storage, info)


def test_a_run_trains_registers_and_records(project: Path) -> None:
    app = make_app()
    event = upload(app, "landing/train/data.csv", (project / "data.csv").read_bytes())
    [result] = app.handle(event)
    assert result.status == "succeeded"
    record = json.loads(app.storage.read(f"runs/{result.run_id}/record.json"))
    assert record["status"] == "succeeded"
    assert record["trigger"]["uri"] == event.uri
    import hashlib

    assert (
        record["trigger"]["sha256"]
        == hashlib.sha256((project / "data.csv").read_bytes()).hexdigest()
    )
    assert record["config_hash"] == app.config.digest
    assert record["metrics"] == {"r2": 0.5}
    assert set(record["stages"]) == {"ingest", "train", "validate", "deploy"}
    assert {"python", "pluggy"} <= set(record["libraries"])
    assert record["plugins"][0]["name"] == "tiny"
    mv = app.registry.resolve("m", "production")
    assert mv is not None and mv.version == 1 and mv.manifest["run_id"] == result.run_id


def test_second_delivery_of_the_same_event_does_nothing(project: Path) -> None:
    plugin = TinyPlugin()
    app = make_app(plugin)
    event = upload(app, "landing/train/data.csv", b"x,y\n1,2\n")
    first = app.handle(event)[0]
    again = app.handle(event)[0]
    assert again.status == "duplicate" and again.run_id == first.run_id
    assert "nothing to do" in again.message
    assert plugin.calls.count("train") == 1
    assert [v.version for v in app.registry.versions("m")] == [1]


def test_a_new_upload_of_the_same_key_is_a_new_run(project: Path) -> None:
    app = make_app()
    first = app.handle(upload(app, "landing/train/data.csv", b"x,y\n1,2\n"))[0]
    second = app.handle(upload(app, "landing/train/data.csv", b"x,y\n1,3\n"))[0]
    assert first.run_id != second.run_id
    assert [v.version for v in app.registry.versions("m")] == [1, 2]


def test_plugin_exception_is_recorded_with_plugin_and_hook(project: Path) -> None:
    app = make_app(TinyPlugin(fail_in="train"))
    [result] = app.handle(upload(app, "landing/train/data.csv", b"x,y\n1,2\n"))
    assert result.status == "failed"
    assert (
        "plugin 'tiny' failed in hook 'train': ValueError: the data has no variance"
        in result.message
    )
    record = json.loads(app.storage.read(f"runs/{result.run_id}/record.json"))
    assert record["error"]["plugin"] == "tiny"
    assert record["error"]["hook"] == "train"
    assert record["error"]["stage"] == "train"
    assert record["stages"]["train"]["status"] == "failed"
    assert app.registry.versions("m") == []


def test_failed_blocking_check_rejects_and_promotes_nothing(project: Path) -> None:
    app = make_app(TinyPlugin(passed=False))
    [result] = app.handle(upload(app, "landing/train/data.csv", b"x,y\n1,2\n"))
    assert result.status == "rejected"
    assert "min_rows" in result.message
    assert app.registry.models() == []
    record = json.loads(app.storage.read(f"runs/{result.run_id}/record.json"))
    assert record["stages"]["deploy"]["status"] == "skipped"


def test_events_for_own_outputs_and_unmatched_keys_are_ignored(project: Path) -> None:
    app = make_app()
    for key in (
        "runs/x/record.json",
        "registry/m/versions/000001/manifest.json",
        "monitoring/m/reports/r.json",
        "elsewhere/data.csv",
        "landing/train/notes.txt",
    ):
        [result] = app.handle(upload(app, key, b"x"))
        assert result.status == "ignored", key
    assert not list(app.storage.list("runs/index/"))


def test_an_event_from_another_bucket_is_ignored_saying_so(project: Path) -> None:
    app = make_app()
    event = StorageEvent(
        uri="gs://someone-else/landing/train/data.csv",
        bucket="someone-else",
        key="landing/train/data.csv",
        size=10,
        source="gcp",
    )
    [result] = app.handle(event)
    assert result.status == "ignored"
    assert "outside the project's storage" in result.message and app.storage.uri in result.message
    assert not list(app.storage.list("runs/index/"))


def test_empty_objects_are_skipped(project: Path) -> None:
    app = make_app()
    [result] = app.handle(upload(app, "landing/train/empty.csv", b""))
    assert result.status == "ignored" and "empty" in result.message


def test_an_upload_over_the_limit_fails_without_being_read(project: Path) -> None:
    cfg = (project / "hookline.toml").read_text() + "\n[limits]\nmax_upload_bytes = 10\n"
    (project / "hookline.toml").write_text(cfg)
    plugin = TinyPlugin()
    app = make_app(plugin)
    [result] = app.handle(upload(app, "landing/train/big.csv", b"x,y\n" + b"1,2\n" * 10))
    assert result.status == "failed"
    assert "over the configured limit of 10" in result.message
    assert plugin.calls == []


def test_transient_failure_raises_releases_and_the_retry_restarts(project: Path) -> None:
    class Flaky(TinyPlugin):
        failures = 1

        def train(self, ctx, dataset):  # type: ignore[override]
            if Flaky.failures:
                Flaky.failures -= 1
                raise TransientStorageError("SlowDown", uri="s3://b/k")
            return super().train(ctx, dataset)

    from hookline import hookimpl

    Flaky.train = hookimpl(Flaky.train)  # type: ignore[method-assign]
    app = make_app(Flaky())
    event = upload(app, "landing/train/data.csv", b"x,y\n1,2\n")
    with pytest.raises(TransientError):
        app.handle(event)
    run_id = event.run_id("train")
    assert app.runs.get(run_id, missing_ok=True) is None  # no final record: the retry may run
    [retry] = app.handle(event)
    assert retry.status == "succeeded"
    assert app.runs.get(run_id)["attempt"] == 2


def test_a_stale_claim_from_a_crashed_invocation_is_taken_over(project: Path) -> None:
    app = make_app()
    app.runs.claim_timeout = 0.05
    event = upload(app, "landing/train/data.csv", b"x,y\n1,2\n")
    claim = app.runs.claim(event.run_id("train"), event, "train")  # a crashed invocation
    assert claim.acquired
    fresh = app.handle(event)[0]
    assert fresh.status == "in_progress"
    time.sleep(0.1)
    [taken] = app.handle(event)
    assert taken.status == "succeeded"
    assert app.runs.get(taken.run_id or "")["attempt"] == 2


def test_schedule_event_runs_the_named_pipeline(project: Path) -> None:
    app = make_app()
    with pytest.raises(NotFound, match="unknown pipeline 'nope'") as refused:
        app.handle(ScheduleEvent(pipeline="nope"))
    assert answer(refused.value).status == 404 and "train" in (refused.value.hint or "")


def test_records_are_listed_newest_first(project: Path) -> None:
    app = make_app()
    ids = []
    for i in range(3):
        ids.append(app.handle(upload(app, f"landing/train/d{i}.csv", b"x,y\n1,2\n"))[0].run_id)
        time.sleep(0.01)
    assert [s["run_id"] for s in app.runs.summaries()] == ids[::-1]
    assert [s["run_id"] for s in app.runs.summaries(status="failed")] == []


def test_a_claim_whose_answer_was_lost_is_still_ours(project: Path) -> None:
    """An SDK retry of a create that landed sees AlreadyExists: the claim is still ours."""
    from hookline.errors import AlreadyExists

    app = make_app()
    event = upload(app, "landing/train/data.csv", b"x,y\n1,2\n")
    storage = app.storage
    real_create = storage.create

    def create_then_lose_the_answer(key: str, data: bytes):
        real_create(key, data)
        raise AlreadyExists("answer lost, retried", uri=key)

    storage.create = create_then_lose_the_answer  # type: ignore[method-assign]
    claim = app.runs.claim(event.run_id("train"), event, "train")
    storage.create = real_create  # type: ignore[method-assign]
    assert claim.acquired and claim.state == "new"


def test_same_bytes_uploaded_again_to_an_unversioned_bucket_is_a_new_run() -> None:
    first = StorageEvent(
        uri="s3://b/landing/a.csv",
        bucket="b",
        key="landing/a.csv",
        etag='"abc"',
        event_id="0055AED6DCD90281E5",
    )
    again = StorageEvent(
        uri="s3://b/landing/a.csv",
        bucket="b",
        key="landing/a.csv",
        etag='"abc"',
        event_id="0055AED6DCD90281E9",
    )
    assert first.run_id("train") != again.run_id("train")
    redelivered = StorageEvent(**{k: v for k, v in first.to_dict().items() if k != "type"})
    assert first.run_id("train") == redelivered.run_id("train")


def test_a_nan_metric_is_null_in_the_record_and_in_the_manifest(project: Path) -> None:
    """One NaN policy for every stored document (a third-party trainer's NaN metric)."""
    import dataclasses

    class NanTrainer(TinyPlugin):
        @hookimpl
        def train(self, ctx, dataset):
            model = TinyPlugin.train(self, ctx, dataset)
            return dataclasses.replace(model, metrics={"r2": float("nan"), "mae": 1.5})

    app = make_app(NanTrainer())
    [result] = app.handle(upload(app, "landing/train/data.csv", b"x,y\n1,2\n2,4\n"))
    record_bytes = app.storage.read(f"runs/{result.run_id}/record.json")
    manifest_bytes = app.storage.read("registry/m/versions/000001/manifest.json")
    for raw in (record_bytes, manifest_bytes):
        assert b"NaN" not in raw
        assert json.loads(raw)["metrics"] == {"r2": None, "mae": 1.5}
