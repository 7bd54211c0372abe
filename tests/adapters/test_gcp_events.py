"""GCS CloudEvents -> events, driven by real-shaped payloads in tests/fixtures/events/gcp."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hookline.adapters.cloud import EventError
from hookline.adapters.gcp.events import classify, parse_event, parse_http, sample_event
from hookline.adapters.gcp.storage import GCSStorage
from hookline.errors import UsageError
from hookline.events import ScheduleEvent, StorageEvent, skip_reason

FIXTURES = Path(__file__).parents[1] / "fixtures" / "events" / "gcp"
STRUCTURED_KEY = "landing/train/ventes été+2024 100%.csv"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_structured_mode() -> None:
    [event] = parse_event(load("finalized_structured.json"))
    assert isinstance(event, StorageEvent)
    assert (event.bucket, event.key) == ("acme-ml-landing", STRUCTURED_KEY)
    assert event.uri == GCSStorage("gs://acme-ml-landing").url(STRUCTURED_KEY)
    assert event.size == 48213  # sent as the string "48213"
    assert event.version == "1715678497597912"  # the generation
    assert event.etag == "1B2M2Y8AsgTpgAmY7PhCfg=="  # md5Hash: a content token
    assert event.event_id == "10870917853342616"
    assert event.event_time == "2024-05-14T09:21:37.608Z"
    assert event.source == "gcp"
    assert classify(load("finalized_structured.json")) == "storage"


def test_binary_mode_with_headers_in_any_case() -> None:
    delivery = load("finalized_binary.json")
    [event] = parse_event(delivery["body"], delivery["headers"])
    assert isinstance(event, StorageEvent)
    assert event.key == "landing/train/a b+c.csv"
    assert (event.size, event.version, event.event_id) == (
        1024,
        "1715678702105331",
        "10870917853342617",
    )
    raw = json.dumps(delivery["body"]).encode()
    assert parse_event(raw, delivery["headers"]) == [event]  # body as bytes
    assert parse_http(delivery["headers"], raw) == [event]


def test_structured_mode_over_http() -> None:
    doc = load("finalized_structured.json")
    headers = {"Content-Type": "application/cloudevents+json; charset=utf-8"}
    assert parse_http(headers, json.dumps(doc)) == parse_event(doc)


def test_binary_mode_without_headers_is_explained() -> None:
    delivery = load("finalized_binary.json")
    with pytest.raises(EventError) as err:
        parse_event(delivery["body"])
    assert "ce-* headers" in str(err.value)


def test_redeliveries_share_a_run_id_and_new_generations_do_not() -> None:
    first = parse_event(load("finalized_structured.json"))[0]
    again = load("finalized_structured.json")
    again["id"] = "99999999999"  # a redelivery has a new CloudEvent id
    second = parse_event(again)[0]
    assert first.run_id("train") == second.run_id("train")
    newer = load("finalized_structured.json")
    newer["data"]["generation"] = "1715678497597999"
    assert parse_event(newer)[0].run_id("train") != first.run_id("train")


def test_zero_byte_object_is_flagged() -> None:
    [event] = parse_event(load("finalized_zero_byte.json"))
    assert isinstance(event, StorageEvent) and event.size == 0
    assert "zero bytes" in (skip_reason(event) or "")


def test_other_storage_events_carry_nothing_to_run() -> None:
    assert classify(load("deleted.json")) == "storage-other"
    assert parse_event(load("deleted.json")) == []


def test_schedule_via_pubsub_cloudevent_and_plain_http() -> None:
    [event] = parse_event(load("pubsub_schedule.json"))
    assert event == ScheduleEvent(
        "monitor", event_time="2024-05-15T02:00:00.421Z", event_id="11146470297541218", source="gcp"
    )
    [plain] = parse_http(
        {"Content-Type": "application/json"},
        b'{"source": "hookline.schedule", "pipeline": "monitor"}',
    )
    assert isinstance(plain, ScheduleEvent) and plain.pipeline == "monitor"
    [direct] = parse_event(
        {
            "specversion": "1.0",
            "type": "hookline.schedule",
            "id": "abc",
            "source": "//cloudscheduler",
            "data": {"pipeline": "nightly"},
        }
    )
    assert isinstance(direct, ScheduleEvent) and direct.event_id == "abc"


def test_gcs_pubsub_notification() -> None:
    [event] = parse_event(load("pubsub_gcs_notification.json"))
    assert isinstance(event, StorageEvent)
    assert event.key == STRUCTURED_KEY
    assert event.version == "1715678497597912"
    # the same write via Eventarc and via a Pub/Sub notification: the same run
    assert event.run_id("train") == parse_event(load("finalized_structured.json"))[0].run_id(
        "train"
    )


def test_functions_framework_cloudevent_object() -> None:
    from cloudevents.http import CloudEvent

    doc = load("finalized_structured.json")
    attributes = {k: v for k, v in doc.items() if k != "data"}
    ce = CloudEvent(attributes, doc["data"])
    assert parse_event(ce) == parse_event(doc)


def test_bucket_falls_back_to_the_source() -> None:
    doc = load("finalized_structured.json")
    del doc["data"]["bucket"]
    [event] = parse_event(doc)
    assert event.bucket == "acme-ml-landing"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.update(data=[1, 2]), "data"),
        (lambda d: d["data"].pop("name"), "data.name"),
        (lambda d: d["data"].update(size="-1"), "data.size"),
        (lambda d: d["data"].update(generation="abc"), "data.generation"),
        (lambda d: d.update(data="{broken"), "data"),
        (lambda d: d.update(type="google.cloud.audit.log.v1.written"), "type"),
    ],
)
def test_malformed_events_name_the_field(mutate: Any, where: str) -> None:
    doc = load("finalized_structured.json")
    mutate(doc)
    with pytest.raises(EventError) as err:
        parse_event(doc)
    assert f"(at {where})" in str(err.value)


@pytest.mark.parametrize("payload", [None, "x", 1, [], {}, {"name": "x"}])
def test_not_an_event_says_what_was_expected(payload: Any) -> None:
    with pytest.raises(EventError, match="google.cloud.storage.object.v1.finalized"):
        parse_event(payload)


def test_pubsub_message_of_another_kind_is_refused() -> None:
    doc = load("pubsub_schedule.json")
    doc["data"]["message"]["data"] = base64.b64encode(b'{"hello": 1}').decode()
    with pytest.raises(EventError, match="neither a schedule nor a GCS notification"):
        parse_event(doc)
    doc["data"]["message"]["data"] = "!!not base64!!"
    with pytest.raises(EventError, match="base64"):
        parse_event(doc)


@pytest.mark.parametrize("mode", ["structured", "binary"])
@pytest.mark.parametrize("key", [STRUCTURED_KEY, "a%20b/%2B+ü.csv", "x"])
def test_samples_round_trip(mode: str, key: str) -> None:
    storage = GCSStorage("gs://acme-ml-landing")
    sample = sample_event(storage.url(key), mode=mode, size=5, generation=42)
    json.dumps(sample)
    if mode == "binary":
        assert all(v.isascii() for v in sample["headers"].values())  # valid header values
        events = parse_http(sample["headers"], json.dumps(sample["data"]).encode())
    else:
        events = parse_event(sample)
    [event] = events
    assert isinstance(event, StorageEvent)
    assert (event.key, event.size, event.version, event.uri) == (key, 5, "42", storage.url(key))


def test_bad_sample_input() -> None:
    with pytest.raises(UsageError):
        sample_event("s3://bucket/key")
    with pytest.raises(UsageError):
        sample_event("gs://bucket/key", mode="batch")
