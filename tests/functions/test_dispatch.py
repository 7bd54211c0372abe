"""How each cloud's pipeline function answers its platform, case by case: what returns,
what raises, which SQS messages are retried, which events reach the serving app.

The runtime here is a recording stand-in for :class:`~hookline.runner.Hookline` (the
adapters' own logic is under test; the real runtime runs in the end-to-end tests)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hookline.adapters.aws.events import sample_event as aws_sample
from hookline.adapters.aws.pipeline import PipelineHandler
from hookline.adapters.azure.events import sample_event as azure_sample
from hookline.adapters.cloud import EventError, PipelineRuntime, handle_events
from hookline.adapters.gcp.events import sample_event as gcp_sample
from hookline.adapters.gcp.pipeline import CloudEventPipeline
from hookline.errors import TransientError, TransientStorageError, UsageError
from hookline.events import Event, ScheduleEvent, StorageEvent
from hookline.runner import RunResult

from ._e2e import FUNCTIONS, make_bundle


@dataclass
class Recorder:
    """Answers ``handle(event)`` per object key: a status, or an exception to raise."""

    outcomes: dict[str, Any] = field(default_factory=dict)
    seen: list[Event] = field(default_factory=list)

    def handle(self, event: Event) -> list[RunResult]:
        self.seen.append(event)
        name = event.key if isinstance(event, StorageEvent) else f"schedule:{event.pipeline}"
        outcome = self.outcomes.get(name, "succeeded")
        if isinstance(outcome, BaseException):
            raise outcome
        return [RunResult(f"run-{len(self.seen)}", "train", outcome, f"{name}: {outcome}")]


@dataclass
class Context:
    aws_request_id: str = "req-1"


def sqs_of(*keys: str, arn: str = "arn:aws:sqs:us-east-1:123456789012:landing") -> dict:
    records = []
    for i, key in enumerate(keys):
        [record] = aws_sample(f"s3://bkt/{key}", kind="sqs")["Records"]
        record.update(messageId=f"m-{i}", eventSourceARN=arn)
        records.append(record)
    return {"Records": records}


def aws_handler(recorder: Recorder, **kwargs: Any) -> PipelineHandler:
    return PipelineHandler(PipelineRuntime(app=recorder), **kwargs)


# -- AWS ----------------------------------------------------------------------------------


def test_sqs_reports_only_the_messages_that_need_a_retry() -> None:
    recorder = Recorder(
        {
            "b.csv": TransientStorageError("throttled", uri="s3://bkt/b.csv"),
            "c.csv": "in_progress",
            "d.csv": "failed",  # permanent: recorded, acknowledged
        }
    )
    answer = aws_handler(recorder)(sqs_of("a.csv", "b.csv", "c.csv", "d.csv", "e.csv"), Context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]}
    assert [e.key for e in recorder.seen] == ["a.csv", "b.csv", "c.csv", "d.csv", "e.csv"]


@pytest.mark.parametrize("kind", ["s3", "sqs", "sns", "sqs-sns", "eventbridge"])
def test_every_aws_delivery_shape_reaches_the_runtime(kind: str) -> None:
    recorder = Recorder()
    answer = aws_handler(recorder)(aws_sample("s3://bkt/landing/a b.csv", kind=kind), Context())
    [event] = recorder.seen
    assert isinstance(event, StorageEvent) and event.key == "landing/a b.csv"
    if kind.startswith("sqs"):
        assert answer == {"batchItemFailures": []}
    else:
        assert answer["counts"] == {"succeeded": 1}


def test_fifo_queues_fail_every_message_after_the_first_failure() -> None:
    recorder = Recorder({"b.csv": TransientError("throttled")})
    arn = "arn:aws:sqs:us-east-1:123456789012:landing.fifo"
    answer = aws_handler(recorder)(sqs_of("a.csv", "b.csv", "c.csv", arn=arn), Context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]}
    assert [e.key for e in recorder.seen] == ["a.csv", "b.csv"]  # order kept: c waits


def test_an_sqs_message_that_breaks_the_runtime_fails_alone() -> None:
    recorder = Recorder({"b.csv": RuntimeError("a bug")})
    answer = aws_handler(recorder)(sqs_of("a.csv", "b.csv", "c.csv"), Context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_asynchronous_events_raise_only_for_a_retry_after_running_every_record() -> None:
    payload = aws_sample("s3://bkt/a.csv")
    payload["Records"] += aws_sample("s3://bkt/b.csv")["Records"]
    recorder = Recorder({"a.csv": TransientError("throttled")})
    with pytest.raises(TransientError, match="a.csv"):
        aws_handler(recorder)(payload, Context())
    assert [e.key for e in recorder.seen] == ["a.csv", "b.csv"]
    summary = aws_handler(Recorder({"a.csv": "failed"}))(payload, Context())
    assert summary["counts"] == {"failed": 1, "succeeded": 1} and summary["retry"] == []


def test_schedules_take_the_invocation_or_message_id_as_their_identity() -> None:
    recorder = Recorder()
    schedule = {"source": "hookline.schedule", "pipeline": "monitor"}
    aws_handler(recorder)(schedule, Context("req-42"))
    aws_handler(recorder)(
        {"Records": [{"messageId": "m-9", "eventSource": "aws:sqs", "body": json.dumps(schedule)}]},
        Context(),
    )
    first, second = recorder.seen
    assert isinstance(first, ScheduleEvent) and first.event_id == "req-42"
    assert isinstance(second, ScheduleEvent) and second.event_id == "m-9"


def test_only_http_events_reach_the_serving_app() -> None:
    served: list[Any] = []
    handler = aws_handler(Recorder(), serving=lambda e, c: served.append(e) or {"statusCode": 200})
    http = json.loads((Path(__file__).parents[1] / "fixtures/http/function_url.json").read_text())
    assert handler(http, Context()) == {"statusCode": 200}
    handler(aws_sample("s3://bkt/a.csv"), Context())
    handler(aws_sample("s3://bkt/a.csv", kind="eventbridge"), Context())
    handler({"source": "hookline.schedule", "pipeline": "monitor"}, Context())
    assert served == [http]


def test_http_without_the_serving_app_bundled_says_where_to_send_it() -> None:
    http = json.loads((Path(__file__).parents[1] / "fixtures/http/function_url.json").read_text())
    with pytest.raises(UsageError) as err:
        aws_handler(Recorder(), serving=None)(http, Context())
    assert "serving.handler" in str(err.value) and "not bundled" in str(err.value)


def test_a_foreign_payload_is_an_event_error_naming_what_was_expected() -> None:
    with pytest.raises(EventError, match="expected an S3 notification"):
        aws_handler(Recorder())({"detail-type": "EC2 Instance State-change"}, Context())


# -- GCP ----------------------------------------------------------------------------------


def test_gcp_schedule_identity_comes_from_the_scheduler_header() -> None:
    from flask import Flask

    recorder = Recorder()
    function = CloudEventPipeline(PipelineRuntime(app=recorder))
    event = {
        "specversion": "1.0",
        "id": "job-monitor",
        "type": "hookline.schedule",
        "source": "hookline/x/schedules/monitor",
        "data": {"pipeline": "monitor"},
    }
    app = Flask("test")
    for when in ("2024-05-15T02:00:00Z", "2024-05-16T02:00:00Z"):
        with app.test_request_context("/", headers={"X-CloudScheduler-ScheduleTime": when}):
            function(event)
    first, second = recorder.seen
    assert isinstance(first, ScheduleEvent) and isinstance(second, ScheduleEvent)
    assert first.event_time == "2024-05-15T02:00:00Z"
    assert first.run_id("monitor") != second.run_id("monitor")


def test_gcp_transient_failures_and_held_runs_raise() -> None:
    payload = gcp_sample("gs://bkt/a.csv")
    function = CloudEventPipeline(PipelineRuntime(app=Recorder({"a.csv": "in_progress"})))
    with pytest.raises(TransientError, match="held by another invocation"):
        function(payload, headers={})
    done = CloudEventPipeline(PipelineRuntime(app=Recorder({"a.csv": "duplicate"})))
    assert done(payload, headers={})["counts"] == {"duplicate": 1}


# -- the shared runtime -----------------------------------------------------------------


def test_the_runtime_is_built_once_per_process(tmp_path: Path, monkeypatch) -> None:
    bundle = make_bundle(tmp_path / "bundle", "aws_lambda/pipeline.py")
    monkeypatch.delenv("HOOKLINE_CONFIG", raising=False)
    monkeypatch.setenv("HOOKLINE_STORAGE", str(tmp_path / "store"))
    runtime = PipelineRuntime(bundle)
    threads = [threading.Thread(target=runtime.get) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert runtime.builds == 1 and runtime.get() is runtime.get()
    assert runtime.get().config.source == str(bundle / "hookline.toml")  # the bundled file
    # the one rule, hookline.config.find_config, decides: the setting wins over the bundle
    other = tmp_path / "elsewhere.toml"
    other.write_text((bundle / "hookline.toml").read_text().replace("functions-e2e", "other"))
    monkeypatch.setenv("HOOKLINE_CONFIG", str(other))
    assert PipelineRuntime(bundle).get().config.name == "other"


def test_handle_events_lists_why_a_delivery_must_come_again() -> None:
    events = [
        StorageEvent(uri="s3://b/a.csv", bucket="b", key="a.csv"),
        StorageEvent(uri="s3://b/b.csv", bucket="b", key="b.csv"),
    ]
    delivery = handle_events(Recorder({"a.csv": TransientError("slow down")}), events)  # type: ignore[arg-type]
    assert not delivery.done and "s3://b/a.csv: slow down" in delivery.retry[0]
    assert [r.status for r in delivery.results] == ["succeeded"]


# -- cold start -------------------------------------------------------------------------

HEAVY = (
    "pandas",
    "numpy",
    "sklearn",
    "scipy",
    "pyarrow",
    "boto3",
    "botocore",
    "fastapi",
    "mangum",
    "google.cloud.storage",
    "azure.storage.blob",
    "azure.identity",
)


@pytest.mark.parametrize(
    ("entry", "env"),
    [
        ("aws_lambda/pipeline.py", {}),
        ("gcp_functions/main.py", {}),
        ("azure_functions/function_app.py", {"HOOKLINE_ROLE": "pipeline"}),
    ],
)
def test_entry_files_import_nothing_heavy(entry: str, env: dict[str, str]) -> None:
    path = FUNCTIONS / entry
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('entry', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PATH": "", **env},
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_azure_cloudevents_schema_objects_are_read() -> None:
    from azure.functions.eventgrid import EventGridEventInConverter
    from azure.functions.meta import Datum
    from hookline.adapters.azure.pipeline import handle_event_grid

    payload = azure_sample("az://data/landing/a b.csv", schema="cloudevents")
    argument = EventGridEventInConverter.decode(
        Datum(json.dumps(payload), "json"), trigger_metadata={}
    )
    recorder = Recorder()
    handle_event_grid(PipelineRuntime(app=recorder), argument)
    [event] = recorder.seen
    assert isinstance(event, StorageEvent) and event.key == "landing/a b.csv"


def test_azure_timer_without_a_pipeline_says_which_setting(monkeypatch) -> None:
    from hookline.adapters.azure.pipeline import handle_timer

    monkeypatch.delenv("HOOKLINE_SCHEDULED_PIPELINE", raising=False)
    with pytest.raises(EventError, match="HOOKLINE_SCHEDULED_PIPELINE"):
        handle_timer(PipelineRuntime(app=Recorder()), None)


# -- one "skip this event" rule -----------------------------------------------------------


@pytest.mark.parametrize("skip_empty", [True, False])
def test_one_skip_rule_for_every_trigger(tmp_path: Path, monkeypatch, skip_empty: bool) -> None:
    """Folder placeholders are never run; zero-byte objects follow ``[limits]
    skip_empty_objects``. The runtime's routing and ``hookline.events.skip_reason`` are the
    same rule (there is no second one in the adapters)."""
    from hookline.events import skip_reason

    bundle = make_bundle(tmp_path / "bundle", "aws_lambda/pipeline.py")
    config = (bundle / "hookline.toml").read_text()
    limits = "true" if skip_empty else "false"
    (bundle / "hookline.toml").write_text(config + f"\n[limits]\nskip_empty_objects = {limits}\n")
    monkeypatch.delenv("HOOKLINE_CONFIG", raising=False)
    monkeypatch.setenv("HOOKLINE_STORAGE", str(tmp_path / "store"))
    app = PipelineRuntime(bundle).get()
    storage = app.storage

    def event(key: str, size: int) -> StorageEvent:
        return StorageEvent(uri=storage.url(key), bucket="", key=key, size=size)

    folder = event("landing/train/", 0)
    [result] = app.handle(folder)
    assert result.status == "ignored" and "folder placeholder" in result.message
    assert skip_reason(folder, skip_empty=skip_empty) == result.message
    empty = event("landing/train/empty.csv", 0)
    pipelines, reason = app.route(empty)
    if skip_empty:
        assert pipelines == [] and "zero bytes" in reason
        assert reason == skip_reason(empty)
    else:
        assert [p.name for p in pipelines] == ["train"] and reason == ""
        assert skip_reason(empty, skip_empty=False) is None


def test_the_azure_queue_settings_are_deliberate() -> None:
    """host.json: the encoding Event Grid writes, one run per instance at a time, retries
    that outlast a crashed run's claim, and a function timeout within the claim timeout."""
    from hookline.config import load_config

    def seconds(span: str) -> float:
        h, m, s = span.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    host = json.loads((FUNCTIONS / "azure_functions" / "host.json").read_text())
    queues = host["extensions"]["queues"]
    assert queues["messageEncoding"] == "base64"  # Event Grid base64-encodes queue messages
    assert queues["batchSize"] == 1 and queues["newBatchThreshold"] == 0
    claim_timeout = load_config(FUNCTIONS.parent / "examples/quickstart/hookline.toml").runs[
        "claim_timeout_seconds"
    ]
    # a crashed instance's message reappears after the host's 10-minute receive visibility;
    # the attempts that follow must reach past the claim timeout, when the run is taken over
    retries = 600 + (queues["maxDequeueCount"] - 1) * seconds(queues["visibilityTimeout"])
    assert retries >= claim_timeout
    assert seconds(host["functionTimeout"]) <= claim_timeout  # a live run's claim never expires
    sampled = host["logging"]["applicationInsights"]["samplingSettings"]["excludedTypes"]
    assert "Trace" in sampled.split(";")  # run_finished traces are never sampled away
