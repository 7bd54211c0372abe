"""AWS payloads -> events, driven by real-shaped payloads in tests/fixtures/events/aws."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hookline.adapters.aws.events import (
    classify,
    parse_event,
    sample_event,
    sample_schedule,
    sqs_messages,
)
from hookline.adapters.aws.storage import S3Storage
from hookline.adapters.cloud import EventError, Item
from hookline.errors import HooklineError, UsageError
from hookline.events import ScheduleEvent, StorageEvent, skip_reason
from hookline.storage import parse_uri

FIXTURES = Path(__file__).parents[1] / "fixtures" / "events" / "aws"
ODD_KEY = "landing/train/sales 2024 (Q1) v1+2.csv"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("s3_put.json", "storage"),
        ("s3_multipart_two_records.json", "storage"),
        ("s3_object_removed.json", "storage"),
        ("s3_test_event.json", "test"),
        ("eventbridge_object_created.json", "eventbridge"),
        ("sqs_s3.json", "sqs"),
        ("sns_s3.json", "sns"),
        ("sqs_sns_s3.json", "sqs"),
        ("scheduler_hookline.json", "schedule"),
        ("eventbridge_scheduled_event.json", "schedule"),
        ("apigw_v1_http.json", "http"),
        ("apigw_v2_http.json", "http"),
        ("function_url_http.json", "http"),
    ],
)
def test_classify(name: str, kind: str) -> None:
    assert classify(load(name)) == kind


@pytest.mark.parametrize("payload", [None, [], "x", 3, {}, {"Records": []}, {"Records": [1]}])
def test_classify_never_raises(payload: Any) -> None:
    assert classify(payload) == "unknown"


def test_s3_notification_decodes_the_key_once() -> None:
    [event] = parse_event(load("s3_put.json"))
    assert isinstance(event, StorageEvent)
    assert event.key == ODD_KEY  # '+' -> space, '%2B' -> '+', '%28' -> '('
    assert event.bucket == "acme-ml-landing"
    assert event.uri == S3Storage("s3://acme-ml-landing").url(ODD_KEY)
    assert parse_uri(event.uri).path == ODD_KEY
    assert (event.size, event.etag) == (48213, "d41d8cd98f00b204e9800998ecf8427e")
    assert event.version == "096fKKXTRTtl3on89fVO.nfljtsv6qko"
    assert event.event_id == "0055AED6DCD90281E5"
    assert event.event_time == "2024-05-14T09:21:37.412Z"
    assert event.source == "aws"


def test_every_object_created_name_counts_and_all_records_are_read() -> None:
    events = parse_event(load("s3_multipart_two_records.json"))
    assert [e.key for e in events] == [  # type: ignore[union-attr]
        "landing/train/données été 100%.csv",
        "landing/train/a+b c.csv",
    ]
    assert events[0].size == 734003200  # type: ignore[union-attr]
    assert events[0].etag.endswith("-88")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "name", ["Put", "Post", "Copy", "CompleteMultipartUpload", "s3:ObjectCreated:Put"]
)
def test_object_created_names(name: str) -> None:
    payload = load("s3_put.json")
    payload["Records"][0]["eventName"] = name if ":" in name else f"ObjectCreated:{name}"
    assert len(parse_event(payload)) == 1


def test_test_events_and_deletions_carry_nothing_to_run() -> None:
    assert parse_event(load("s3_test_event.json")) == []
    assert parse_event(load("s3_object_removed.json")) == []


def test_eventbridge_key_is_not_decoded() -> None:
    [event] = parse_event(load("eventbridge_object_created.json"))
    assert isinstance(event, StorageEvent)
    assert event.key == ODD_KEY
    assert event.version == "096fKKXTRTtl3on89fVO.nfljtsv6qko"
    # the same upload via S3 notification and via EventBridge has the same identity
    [direct] = parse_event(load("s3_put.json"))
    assert event.identity == direct.identity
    assert event.run_id("train") == direct.run_id("train")


def test_eventbridge_other_detail_types_are_ignored() -> None:
    payload = load("eventbridge_object_created.json")
    payload["detail-type"] = "Object Deleted"
    assert parse_event(payload) == []


def test_sqs_batch_skips_the_test_event_and_unwraps_the_notification() -> None:
    events = parse_event(load("sqs_s3.json"))
    assert [e.key for e in events] == [ODD_KEY]  # type: ignore[union-attr]
    assert events == parse_event(load("s3_put.json"))


def test_sns_and_sqs_wrapped_sns() -> None:
    assert parse_event(load("sns_s3.json")) == parse_event(load("s3_multipart_two_records.json"))
    assert parse_event(load("sqs_sns_s3.json")) == parse_event(load("s3_put.json"))


def test_schedules() -> None:
    [scheduler] = parse_event(load("scheduler_hookline.json"))
    assert scheduler == ScheduleEvent(
        "monitor",
        event_time="2024-05-15T02:00:00Z",
        event_id="6f8e2c4a-1b3d-4e5f-8a9b-0c1d2e3f4a5b",
        source="aws",
    )
    [rule] = parse_event(load("eventbridge_scheduled_event.json"))
    assert isinstance(rule, ScheduleEvent)
    assert (rule.pipeline, rule.event_id) == ("monitor", "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa")
    bare = parse_event({"source": "hookline.schedule", "pipeline": "nightly"})
    assert isinstance(bare[0], ScheduleEvent) and bare[0].event_id is None


def test_scheduled_event_without_pipeline_says_how_to_fix() -> None:
    payload = load("eventbridge_scheduled_event.json")
    payload["detail"] = {}
    with pytest.raises(EventError) as err:
        parse_event(payload)
    assert "detail.pipeline" in str(err.value)
    assert "hookline.schedule" in str(err.value)


@pytest.mark.parametrize("name", ["apigw_v1_http.json", "apigw_v2_http.json"])
def test_http_events_are_refused_with_a_pointer_to_the_serving_app(name: str) -> None:
    with pytest.raises(EventError) as err:
        parse_event(load(name))
    assert "HTTP" in str(err.value) and "serving" in str(err.value)


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        (
            {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]},
            "Records[0].s3",
        ),
        (
            {
                "Records": [
                    {
                        "eventSource": "aws:s3",
                        "eventName": "ObjectCreated:Put",
                        "s3": {"bucket": {"name": "b"}, "object": {"key": 5}},
                    }
                ]
            },
            "Records[0].s3.object.key",
        ),
        (
            {
                "Records": [
                    {
                        "eventSource": "aws:s3",
                        "eventName": "ObjectCreated:Put",
                        "s3": {"bucket": {"name": "b"}, "object": {"key": "k", "size": "x"}},
                    }
                ]
            },
            "Records[0].s3.object.size",
        ),
        ({"Records": [{"eventSource": "aws:sqs", "body": "{not json"}]}, "Records[0].body"),
        ({"Records": [{"eventSource": "aws:sqs", "body": "[]"}]}, "Records[0].body"),
        (
            {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": 7}}]},
            "Records[0].Sns.Message",
        ),
        ({"detail-type": "Object Created", "source": "aws.s3", "detail": []}, "detail"),
        ({"source": "hookline.schedule"}, "pipeline"),
    ],
)
def test_malformed_payloads_name_the_field(payload: Any, where: str) -> None:
    with pytest.raises(EventError) as err:
        parse_event(payload)
    assert where in str(err.value)
    assert isinstance(err.value, HooklineError)


@pytest.mark.parametrize("payload", [None, [], "text", 42, {}, {"foo": "bar"}, {"Records": 3}])
def test_not_an_event_says_what_was_expected(payload: Any) -> None:
    with pytest.raises(EventError) as err:
        parse_event(payload)
    assert "expected an S3 notification" in str(err.value)


def test_sqs_messages_isolates_a_bad_message() -> None:
    payload = load("sqs_s3.json")
    payload["Records"].append({**payload["Records"][1], "messageId": "bad", "body": "{oops"})
    messages = sqs_messages(payload)
    assert [m.id for m in messages] == [
        "2e1424d4-f796-459a-8184-9c92662be6da",
        "059f36b4-87a3-44ab-83d2-661975830a7d",
        "bad",
    ]
    assert messages[0] == Item("2e1424d4-f796-459a-8184-9c92662be6da", "Records[0]", ())
    assert messages[2].where == "Records[2]" and not messages[2].events
    assert [e.key for e in messages[1].events] == [ODD_KEY]  # type: ignore[union-attr]
    assert isinstance(messages[2].error, EventError)
    with pytest.raises(EventError):
        sqs_messages(load("s3_put.json"))


def test_zero_byte_objects_and_folders_are_flagged() -> None:
    payload = load("s3_put.json")
    payload["Records"][0]["s3"]["object"]["size"] = 0
    [event] = parse_event(payload)
    assert skip_reason(event) is not None and "zero bytes" in skip_reason(event)  # type: ignore[operator]
    payload["Records"][0]["s3"]["object"].update(size=0, key="landing/train/")
    [folder] = parse_event(payload)
    assert "folder" in skip_reason(folder)  # type: ignore[operator]
    [normal] = parse_event(load("s3_put.json"))
    assert skip_reason(normal) is None


@pytest.mark.parametrize("kind", ["s3", "eventbridge", "sqs", "sns", "sqs-sns"])
@pytest.mark.parametrize("key", [ODD_KEY, "a%20b/%2B+ü 100%.csv", "plain.csv"])
def test_samples_round_trip(kind: str, key: str) -> None:
    storage = S3Storage("s3://acme-ml-landing")
    payload = sample_event(
        storage.url(key),
        kind=kind,
        size=77,
        version_id="v1",
        event_name="ObjectCreated:CompleteMultipartUpload",
    )
    json.dumps(payload)  # plain JSON
    [event] = parse_event(payload)
    assert isinstance(event, StorageEvent)
    assert (event.bucket, event.key, event.size, event.version) == (
        "acme-ml-landing",
        key,
        77,
        "v1",
    )
    assert event.uri == storage.url(key)


def test_sample_schedule_and_bad_sample_input() -> None:
    [event] = parse_event(sample_schedule("monitor"))
    assert isinstance(event, ScheduleEvent) and event.pipeline == "monitor"
    with pytest.raises(UsageError):
        sample_event("gs://bucket/key")
    with pytest.raises(UsageError):
        sample_event("s3://bucket/key", kind="kinesis")


def test_eventbridge_and_schedules_delivered_through_sqs() -> None:
    """EventBridge rules may target an SQS queue in front of the function."""
    bridge = load("eventbridge_object_created.json")
    schedule = load("scheduler_hookline.json")
    batch = load("sqs_s3.json")
    batch["Records"][0]["body"] = json.dumps(bridge)
    batch["Records"][1]["body"] = json.dumps(schedule)
    events = parse_event(batch)
    assert events == parse_event(bridge) + parse_event(schedule)


def test_envelopes_nested_too_deeply_are_refused() -> None:
    payload: Any = load("s3_put.json")
    for _ in range(6):
        payload = {"Records": [{"eventSource": "aws:sqs", "body": json.dumps(payload)}]}
    with pytest.raises(EventError, match="nested too deeply"):
        parse_event(payload)
