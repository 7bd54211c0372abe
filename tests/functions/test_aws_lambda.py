"""The AWS pipeline function end to end, through the real parts.

An object uploaded to moto's S3 produces an S3 -> SQS notification (configured on the moto
server, received over the network); the message goes, as Lambda's SQS poller hands it over,
through a Lambda Runtime API stub to two instances of the real runtime client
(``python -m awslambdaric pipeline.handler``) running ``functions/aws_lambda/pipeline.py``
from a bundle folder with its ``hookline.toml``; the function reads and writes the same
bucket (``HOOKLINE_STORAGE``), and the tests read the run records and the registry back
from it. The function reaches S3 through a forwarder that can throttle one object.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from hookline.adapters.aws.events import parse_event, sample_event
from hookline.registry import Registry
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
from ._lambda_stub import Frame, LambdaStub, lambda_runtime_api, runtime_processes
from ._proxy import Fault, FaultyProxy, faulty_proxy

pytestmark = pytest.mark.emulator

LOGGING_CONFIG = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"}
RUN_METRICS = {"RunSucceeded", "RunFailed", "RunRejected"}

SLOW_DOWN = Fault(
    503,
    b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
    {"Content-Type": "application/xml"},
)


@dataclass
class AwsDeployment:
    bucket: str
    storage: Storage
    s3: Any
    sqs: Any
    queue_url: str
    queue_arn: str
    stub: LambdaStub
    proxy: FaultyProxy
    frames: list[Frame] = field(default_factory=list)
    inbox: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def run_lines(self, run_id: str, event: str | None = None) -> list[tuple[Frame, dict]]:
        """The JSON log records (with their frames) the runtimes sent about ``run_id``."""
        deadline = time.monotonic() + 5
        while True:
            found = [
                (f, doc)
                for f in list(self.frames)
                if (doc := f.document()) is not None
                and doc.get("run_id") == run_id
                and (event is None or doc.get("event") == event)
            ]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def upload(self, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)

    def drain(self, wait: float = 0.0) -> None:
        """Receive (and delete, as Lambda's poller does) what is in the queue."""
        deadline = time.monotonic() + wait
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
            ).get("Messages", [])
            for message in got:
                body = json.loads(message["Body"])
                for record in body.get("Records", []) or [{}]:
                    raw = record.get("s3", {}).get("object", {}).get("key", "")
                    self.inbox.setdefault(unquote_plus(raw), []).append(message)
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
            if not got and time.monotonic() >= deadline:
                return
            if not got:
                time.sleep(0.05)

    def messages_for(self, key: str, count: int = 1) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 10
        while len(self.inbox.get(key, [])) < count and time.monotonic() < deadline:
            self.drain(wait=0.2)
        found = self.inbox.get(key, [])
        assert len(found) >= count, f"no S3 notification for {key!r} (got {list(self.inbox)})"
        return found[:count]

    def sqs_batch(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Received SQS messages as Lambda's event source mapping delivers them."""
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
        }


@pytest.fixture(scope="module")
def aws(s3_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsDeployment]:
    import boto3

    bucket = s3_server.new_bucket("fn")
    s3 = s3_server.s3_client()
    sqs = boto3.session.Session().client("sqs", endpoint_url=s3_server.url, region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName=f"landing-{bucket}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    # No prefix filter: the trigger fires on the whole bucket, hookline's own outputs included.
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    bundle = make_bundle(tmp_path_factory.mktemp("aws-bundle"), "aws_lambda/pipeline.py")
    frames: list[Frame] = []
    with faulty_proxy(s3_server.url) as proxy, lambda_runtime_api() as stub:
        env = {
            **s3_server.env,
            "AWS_ENDPOINT_URL": proxy.url,
            "HOOKLINE_STORAGE": f"s3://{bucket}",
            # what the module's logging_config { log_format = "JSON",
            # application_log_level = "INFO" } makes Lambda set for the runtime
            **LOGGING_CONFIG,
        }
        with runtime_processes(
            stub, bundle, "pipeline.handler", env, count=2, frames=frames
        ) as procs:
            deployment = AwsDeployment(
                bucket,
                open_storage(f"s3://{bucket}"),
                s3,
                sqs,
                queue_url,
                queue_arn,
                stub,
                proxy,
                frames,
            )
            yield deployment
            for proc in procs:
                tail = "\n".join(f.message for f in frames[-20:])
                assert proc.poll() is None, (bundle / "runtime-0.log").read_text() + tail


@pytest.fixture(scope="module")
def first_run(aws: AwsDeployment) -> dict[str, Any]:
    """The quickstart's first batch, uploaded, notified, run: the production model."""
    key = "landing/train/batch1.csv"
    aws.upload(key, BATCH1)
    [message] = aws.messages_for(key)
    answer = aws.stub.invoke(aws.sqs_batch([message]))
    return {"key": key, "message": message, "answer": answer}


def test_s3_testevent_is_ignored(aws: AwsDeployment) -> None:
    aws.drain(wait=0.5)
    [test_event] = aws.inbox.pop("")  # the queue's first message: no Records
    body = json.loads(test_event["Body"])
    assert body["Event"] == "s3:TestEvent"
    before = len(run_records(aws.storage))
    answer = aws.stub.invoke(body)
    assert answer.ok and answer.body["ignored"] == "s3:TestEvent"
    answer = aws.stub.invoke(aws.sqs_batch([test_event]))
    assert answer.ok and answer.body == {"batchItemFailures": []}
    assert len(run_records(aws.storage)) == before


def test_an_upload_trains_registers_and_promotes(aws: AwsDeployment, first_run: dict) -> None:
    answer = first_run["answer"]
    assert answer.ok, answer.body
    assert answer.body == {"batchItemFailures": []}
    record = only_record(aws.storage, first_run["key"])
    [event] = parse_event(json.loads(first_run["message"]["Body"]))
    assert record["run_id"] == event.run_id("train")
    assert aws.storage.stat(f"runs/{record['run_id']}/record.json") is not None
    assert record["trigger"]["uri"] == f"s3://{aws.bucket}/landing/train/batch1.csv"
    version = assert_promoted(aws.storage, record, BATCH1)
    assert Registry(aws.storage).alias(MODEL, "production").version == version


def test_the_same_event_delivered_twice_is_one_run(aws: AwsDeployment, first_run: dict) -> None:
    notification = json.loads(first_run["message"]["Body"])
    direct = aws.stub.invoke(notification)  # S3 -> Lambda directly, same event
    assert direct.ok and direct.body["counts"] == {"duplicate": 1}
    again = aws.stub.invoke(aws.sqs_batch([first_run["message"]]))  # SQS redelivery
    assert again.ok and again.body == {"batchItemFailures": []}
    [record] = records_for(aws.storage, first_run["key"])
    assert record["attempt"] == 1


def test_two_uploads_at_once_give_two_versions_and_one_history(
    aws: AwsDeployment, first_run: dict
) -> None:
    keys = {"landing/train/at-once-a.csv": BATCH1, "landing/train/at-once-b.csv": BATCH2}
    for key, data in keys.items():
        aws.upload(key, data)
    batches = [aws.sqs_batch(aws.messages_for(key)) for key in keys]
    with ThreadPoolExecutor(2) as pool:  # two instances, one invocation each
        answers = list(pool.map(aws.stub.invoke, batches))
    assert all(a.ok and a.body == {"batchItemFailures": []} for a in answers), answers
    versions = {
        assert_promoted(aws.storage, only_record(aws.storage, k), d) for k, d in keys.items()
    }
    assert len(versions) == 2
    history = assert_history_consistent(aws.storage)
    assert versions <= {e["version"] for e in history}


def test_a_key_with_spaces_plus_percent_and_non_ascii(aws: AwsDeployment, first_run: dict) -> None:
    aws.upload(AWKWARD_KEY, BATCH2)
    [message] = aws.messages_for(AWKWARD_KEY)
    raw_key = json.loads(message["Body"])["Records"][0]["s3"]["object"]["key"]
    assert raw_key != AWKWARD_KEY and "+" in raw_key  # S3 sends it URL-encoded
    answer = aws.stub.invoke(aws.sqs_batch([message]))
    assert answer.ok and answer.body == {"batchItemFailures": []}
    record = only_record(aws.storage, AWKWARD_KEY)
    assert record["trigger"]["uri"] == aws.storage.url(AWKWARD_KEY)
    assert_promoted(aws.storage, record, BATCH2)


def test_a_broken_file_is_a_failed_run_and_the_function_returns(
    aws: AwsDeployment, first_run: dict
) -> None:
    before = Registry(aws.storage).alias(MODEL, "production")
    key = "landing/train/broken.csv"
    aws.upload(key, BROKEN)
    [message] = aws.messages_for(key)
    answer = aws.stub.invoke(aws.sqs_batch([message]))
    assert answer.ok and answer.body == {"batchItemFailures": []}  # acknowledged, not retried
    direct = aws.stub.invoke(json.loads(message["Body"]))
    assert direct.ok and direct.body["counts"] == {"duplicate": 1}
    record = only_record(aws.storage, key)
    assert record["status"] == "failed"
    assert record["error"]["stage"] == "ingest" and "broken.csv" in record["error"]["message"]
    assert record["deployments"] == []
    after = Registry(aws.storage).alias(MODEL, "production")
    assert after.version == before.version and after.seq == before.seq  # nothing promoted


def test_a_transient_storage_failure_retries_only_that_message(
    aws: AwsDeployment, first_run: dict
) -> None:
    throttled, fine = "landing/train/throttled.csv", "landing/train/fine.csv"
    aws.upload(throttled, BATCH1)
    aws.upload(fine, BATCH2)
    [slow], [ok] = aws.messages_for(throttled), aws.messages_for(fine)
    aws.proxy.fail(throttled, SLOW_DOWN)
    try:
        answer = aws.stub.invoke(aws.sqs_batch([slow, ok]))
    finally:
        aws.proxy.heal()
    assert answer.ok, answer.body
    assert answer.body == {"batchItemFailures": [{"itemIdentifier": slow["MessageId"]}]}
    assert aws.proxy.failed  # the function did meet the throttling
    assert only_record(aws.storage, fine)["status"] == "succeeded"
    assert records_for(aws.storage, throttled) == []  # no final record: it will be retried
    [event] = parse_event(json.loads(slow["Body"]))
    claim = json.loads(aws.storage.read(f"runs/{event.run_id('train')}/claim.json"))
    assert claim["released"] is True and "503" in claim["last_error"]
    # SQS makes the message visible again; the retry restarts the released run
    retried = aws.stub.invoke(aws.sqs_batch([slow]))
    assert retried.ok and retried.body == {"batchItemFailures": []}
    record = only_record(aws.storage, throttled)
    assert record["attempt"] == 2
    assert_promoted(aws.storage, record, BATCH1)


def test_a_scheduled_monitoring_run(aws: AwsDeployment, first_run: dict) -> None:
    aws.upload("landing/score/drifted.csv", DRIFTED)
    schedule = {"source": "hookline.schedule", "pipeline": "monitor"}  # the module's input
    first = aws.stub.invoke(schedule, request_id="firing-1")
    assert first.ok, first.body
    [run] = first.body["runs"]
    assert run["pipeline"] == "monitor" and run["status"] == "succeeded", run
    record = json.loads(aws.storage.read(f"runs/{run['run_id']}/record.json"))
    assert record["trigger"]["type"] == "schedule" and record["trigger"]["event_id"] == "firing-1"
    [report] = record["reports"]
    assert aws.storage.stat(f"monitoring/{MODEL}/reports/{run['run_id']}.json") is not None
    assert report["name"]
    # Lambda retries an asynchronous invocation with the same request id: the same firing
    retry = aws.stub.invoke(schedule, request_id="firing-1")
    assert retry.ok and retry.body["counts"] == {"duplicate": 1}
    # the next firing is a new run
    nxt = aws.stub.invoke(schedule, request_id="firing-2")
    assert nxt.ok and nxt.body["runs"][0]["run_id"] != run["run_id"]


def test_hookline_outputs_never_trigger_runs(aws: AwsDeployment, first_run: dict) -> None:
    aws.drain(wait=0.3)
    own = [
        m
        for key, messages in aws.inbox.items()
        if key.startswith(("runs/", "registry/", "monitoring/"))
        for m in messages
    ]
    assert own, "the bucket-wide notification should have announced hookline's own writes"
    before = len(run_records(aws.storage))
    for i in range(0, len(own), 10):
        answer = aws.stub.invoke(aws.sqs_batch(own[i : i + 10]))
        assert answer.ok and answer.body == {"batchItemFailures": []}
    direct = aws.stub.invoke(json.loads(own[0]["Body"]))
    assert direct.ok and direct.body["counts"] == {"ignored": 1}
    assert "loop safety" in direct.body["runs"][0]["message"]
    assert len(run_records(aws.storage)) == before


def test_malformed_and_foreign_payloads_fail_with_what_was_expected(aws: AwsDeployment) -> None:
    answer = aws.stub.invoke({"hello": "world"})
    assert not answer.ok and answer.error_type == "EventError"
    assert "expected an S3 notification" in answer.body["errorMessage"]
    bad = aws.sqs_batch([])
    bad["Records"] = [
        {"messageId": "m-1", "body": "{not json", "eventSource": "aws:sqs"},
        {
            "messageId": "m-2",
            "body": json.dumps({"Event": "s3:TestEvent"}),
            "eventSource": "aws:sqs",
        },
    ]
    answer = aws.stub.invoke(bad)
    assert answer.ok and answer.body == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_http_events_reach_the_serving_app_only(aws: AwsDeployment, first_run: dict) -> None:
    event = json.loads((Path(__file__).parents[1] / "fixtures/http/apigw_http_v2.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/prod/health"
    event["requestContext"]["http"]["method"] = "GET"
    event["body"] = None
    answer = aws.stub.invoke(event)
    assert answer.ok, answer.body
    assert answer.body["statusCode"] == 200, answer.body
    assert json.loads(answer.body["body"])["version"] >= 1  # served from the same registry


def test_sample_payloads_match_what_moto_delivers(aws: AwsDeployment, first_run: dict) -> None:
    """`hookline events sample --cloud aws` agrees with the emulator on everything the
    function reads."""
    body = json.loads(first_run["message"]["Body"])
    [real] = parse_event(body)
    [sample] = parse_event(sample_event(real.uri, size=real.size, etag=real.etag, kind="sqs"))
    assert (sample.uri, sample.key, sample.size, sample.etag) == (
        real.uri,
        real.key,
        real.size,
        real.etag,
    )


# -- logs and metrics, as Lambda's telemetry receives them --------------------------------


def check_emf(doc: dict[str, Any]) -> dict[str, Any]:
    """The embedded metric format of a log record, checked against the specification:
    ``_aws.Timestamp`` in ms, one directive with namespace, dimension sets and metric
    definitions, and a value at the top level for every dimension and metric named."""
    meta = doc["_aws"]
    assert isinstance(meta["Timestamp"], int) and meta["Timestamp"] > 1_600_000_000_000
    [directive] = meta["CloudWatchMetrics"]
    assert directive["Namespace"] == "hookline"
    for dimension_set in directive["Dimensions"]:
        for name in dimension_set:
            assert isinstance(doc[name], str) and doc[name], name
    values = {}
    for metric in directive["Metrics"]:
        assert metric["Unit"] in ("Count", "Seconds")
        value = doc[metric["Name"]]
        assert isinstance(value, int | float) and not isinstance(value, bool)
        values[metric["Name"]] = value
    return {"dimensions": directive["Dimensions"], "values": values}


def test_a_succeeded_runs_info_line_and_metrics_reach_lambdas_log(
    aws: AwsDeployment, first_run: dict
) -> None:
    record = only_record(aws.storage, first_run["key"])
    [(frame, line)] = aws.run_lines(record["run_id"], "run_finished")
    assert frame.json_level == "INFO"  # a JSON record at INFO: kept by logging_config
    assert line["level"] == "INFO" and line["logger"] == "hookline.function"
    assert {k: line[k] for k in ("status", "pipeline", "model", "project")} == {
        "status": "succeeded",
        "pipeline": "train",
        "model": MODEL,
        "project": "functions-e2e",
    }
    assert line["seconds"] == record["seconds"] and "drifted" not in line
    assert line["requestId"]  # the runtime's own field: the record went through its handler
    emf = check_emf(line)
    assert emf["dimensions"] == [["Project", "Pipeline"]]
    assert (line["Project"], line["Pipeline"]) == ("functions-e2e", "train")
    assert emf["values"] == {
        "RunSucceeded": 1,
        "RunFailed": 0,
        "RunRejected": 0,
        "RunSeconds": record["seconds"],
    }
    stages = [doc for _, doc in aws.run_lines(record["run_id"], "stage_finished")]
    assert [s["stage"] for s in stages] == ["ingest", "train", "validate", "deploy"]  # in order
    for stage in stages:
        assert stage["status"] == "ok" and stage["level"] == "INFO"
        assert check_emf(stage)["values"] == {"StageSeconds": stage["seconds"]}
        assert stage["Stage"] == stage["stage"]


def test_a_failed_run_is_an_error_line_with_its_stage_and_metric(
    aws: AwsDeployment, first_run: dict
) -> None:
    key = "landing/train/broken-for-logs.csv"
    aws.upload(key, BROKEN)
    [message] = aws.messages_for(key)
    assert aws.stub.invoke(aws.sqs_batch([message])).ok
    record = only_record(aws.storage, key)
    [(frame, line)] = aws.run_lines(record["run_id"], "run_finished")
    assert frame.json_level == "ERROR" and line["level"] == "ERROR"
    assert line["status"] == "failed" and line["stage"] == "ingest"
    assert "broken-for-logs.csv" in line["error"]
    assert check_emf(line)["values"]["RunFailed"] == 1
    assert check_emf(line)["values"]["RunSucceeded"] == 0


def test_a_monitoring_run_says_whether_it_drifted(aws: AwsDeployment, first_run: dict) -> None:
    aws.upload("landing/score/drifted.csv", DRIFTED)
    answer = aws.stub.invoke({"source": "hookline.schedule", "pipeline": "monitor"})
    assert answer.ok, answer.body
    [run] = answer.body["runs"]
    [(_, line)] = aws.run_lines(run["run_id"], "run_finished")
    record = json.loads(aws.storage.read(f"runs/{run['run_id']}/record.json"))
    drifted = any(r["drifted"] for r in record["reports"])
    assert line["drifted"] is drifted
    assert check_emf(line)["values"]["RunDrifted"] == int(drifted)


def test_without_logging_config_the_info_lines_are_still_json_and_kept(
    aws: AwsDeployment, first_run: dict, tmp_path: Path
) -> None:
    """A function deployed without ``logging_config``: the runtime writes text and keeps
    WARNING and above; hookline's lines are still JSON objects, at INFO."""
    bundle = make_bundle(tmp_path / "text-bundle", "aws_lambda/pipeline.py")
    frames: list[Frame] = []
    env = {**aws_env(aws), "HOOKLINE_STORAGE": f"s3://{aws.bucket}"}
    with (
        lambda_runtime_api() as stub,
        runtime_processes(stub, bundle, "pipeline.handler", env, frames=frames),
    ):
        answer = stub.invoke({"source": "hookline.schedule", "pipeline": "monitor"})
        assert answer.ok, answer.body
        [run] = answer.body["runs"]
        deadline = time.monotonic() + 5
        lines: list[tuple[Frame, dict]] = []
        while not lines and time.monotonic() < deadline:
            lines = [
                (f, d)
                for f in list(frames)
                if (d := f.document()) and d.get("event") == "run_finished"
            ]
            time.sleep(0.05)
    [(frame, line)] = lines
    assert frame.json_level is None  # a text frame: the runtime did not format it ...
    assert line["run_id"] == run["run_id"] and line["level"] == "INFO"  # ... hookline did
    assert "_aws" in line  # EMF needs a JSON log event, which this is
    assert all(f.document() is not None for f in frames), [f.message for f in frames]


def aws_env(aws: AwsDeployment) -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k.startswith("AWS_")} | {
        "AWS_ENDPOINT_URL": aws.proxy.url
    }
