"""Azure payloads -> events, driven by real-shaped payloads in tests/fixtures/events/azure
and the real ``azure.functions`` binding types."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from hookline.adapters.azure.events import (
    classify,
    from_blob_client,
    from_input_stream,
    from_queue_message,
    from_timer,
    normalize_etag,
    parse_event,
    sample_event,
    validation_response,
)
from hookline.adapters.azure.storage import AzureBlobStorage
from hookline.adapters.cloud import EventError
from hookline.errors import UsageError
from hookline.events import ScheduleEvent, StorageEvent, skip_reason

FIXTURES = Path(__file__).parents[1] / "fixtures" / "events" / "azure"
BIG_KEY = "train/ventes été+2024 100%.csv"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_event_grid_schema_array() -> None:
    events = parse_event(load("blob_created_eventgrid.json"))
    assert [e.key for e in events] == [BIG_KEY, "train/small.csv"]  # type: ignore[union-attr]
    big = events[0]
    assert isinstance(big, StorageEvent)
    assert big.bucket == "landing"
    assert big.uri == AzureBlobStorage("az://landing").url(BIG_KEY)
    assert (big.size, big.etag) == (734003200, "0x8DC74E3C7F4A1B2")
    assert big.event_id == "831e1650-001e-001b-66ab-eeb76e069631"
    assert big.event_time == "2024-05-14T09:21:37.6066191Z"
    assert big.source == "azure"


def test_cloudevents_schema_keeps_the_plus() -> None:
    [event] = parse_event(load("blob_created_cloudevents.json"))
    assert isinstance(event, StorageEvent)
    assert event.key == "train/a b+c.csv"  # URL-decoded once, '+' is not a space here
    assert event.event_time == "2024-05-14T09:25:02.1180342Z"
    assert classify(load("blob_created_cloudevents.json")) == "storage"


def test_subscription_validation_handshake() -> None:
    payload = load("subscription_validation.json")
    assert classify(payload) == "validation"
    assert validation_response(payload) == {
        "validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"
    }
    assert parse_event(payload) == []
    assert validation_response(load("blob_created_eventgrid.json")) is None
    assert validation_response("junk") is None


def test_adls_create_file_is_zero_bytes_and_flagged() -> None:
    [event] = parse_event(load("blob_created_adls_createfile.json"))
    assert isinstance(event, StorageEvent) and event.size == 0
    assert event.key == "train/lake.csv"
    assert skip_reason(event) is not None


def test_deleted_blobs_carry_nothing_to_run() -> None:
    assert classify(load("blob_deleted.json")) == "storage-other"
    assert parse_event(load("blob_deleted.json")) == []


def test_key_from_subject_when_url_is_missing() -> None:
    payload = load("blob_created_cloudevents.json")
    del payload["data"]["url"]
    [event] = parse_event(payload)
    assert (event.bucket, event.key) == ("landing", "train/a b+c.csv")  # type: ignore[union-attr]


def test_path_style_urls_of_emulators() -> None:
    payload = load("blob_created_cloudevents.json")
    payload["data"]["url"] = "http://127.0.0.1:10000/devstoreaccount1/landing/train/a%20b%2Bc.csv"
    [event] = parse_event(payload)
    assert (event.bucket, event.key) == ("landing", "train/a b+c.csv")  # type: ignore[union-attr]
    del payload["subject"]
    [event] = parse_event(payload)
    assert (event.bucket, event.key) == ("landing", "train/a b+c.csv")  # type: ignore[union-attr]


def test_eventgrid_event_binding_object() -> None:
    raw = load("blob_created_eventgrid.json")[0]
    event = func.EventGridEvent(
        id=raw["id"],
        data=raw["data"],
        topic=raw["topic"],
        subject=raw["subject"],
        event_type=raw["eventType"],
        event_time=dt.datetime(2024, 5, 14, 9, 21, 37, tzinfo=dt.UTC),
        data_version=raw["dataVersion"],
    )
    [parsed] = parse_event(event)
    assert isinstance(parsed, StorageEvent)
    assert (parsed.key, parsed.size, parsed.event_id) == (BIG_KEY, 734003200, raw["id"])
    assert parsed.event_time.startswith("2024-05-14T09:21:37")


def test_schedule_event() -> None:
    [event] = parse_event(
        {
            "id": "t1",
            "eventType": "hookline.schedule",
            "eventTime": "2024-05-15T02:00:00Z",
            "subject": "",
            "data": {"pipeline": "monitor"},
        }
    )
    assert event == ScheduleEvent(
        "monitor", event_time="2024-05-15T02:00:00Z", event_id="t1", source="azure"
    )


def test_input_stream_is_not_read() -> None:
    class Unreadable(func.blob.InputStream):
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("the blob must not be read to build the event")

    stream = Unreadable(
        data=b"",
        name="landing/train/a b+c 100%.csv",
        uri="https://acmemllanding.blob.core.windows.net/landing/train/a%20b%2Bc%20100%25.csv",
        length=4096,
        blob_properties={"ETag": '"0x8DC74E3C7F4A1B2"', "Length": 4096},
    )
    event = from_input_stream(stream)
    assert (event.bucket, event.key, event.size) == ("landing", "train/a b+c 100%.csv", 4096)
    assert event.etag == event.version == "0x8DC74E3C7F4A1B2"  # normalised: no quotes
    assert event.uri == AzureBlobStorage("az://landing").url("train/a b+c 100%.csv")
    only_uri = func.blob.InputStream(data=b"", uri=stream.uri, length=None)
    assert from_input_stream(only_uri).key == "train/a b+c 100%.csv"
    with pytest.raises(EventError):
        from_input_stream(func.blob.InputStream(data=b""))


def test_blob_client_binding() -> None:
    from azure.storage.blob import BlobClient

    client = BlobClient("https://acmemllanding.blob.core.windows.net", "landing", "t/é+1.csv")

    class Props:
        size = 12
        etag = '"0x1"'

    event = from_blob_client(client, Props())
    assert (event.bucket, event.key, event.size, event.etag, event.version) == (
        "landing",
        "t/é+1.csv",
        12,
        "0x1",
        "0x1",
    )
    with pytest.raises(EventError):
        from_blob_client(object())


def test_timer() -> None:
    from azure.functions.timer import TimerRequest  # the concrete class the host passes

    timer = TimerRequest(past_due=True, schedule_status={"Last": "2024-05-14T02:00:00"})
    event = from_timer(timer, "monitor")
    assert isinstance(event, ScheduleEvent)
    assert (event.pipeline, event.source) == ("monitor", "azure")
    with pytest.raises(EventError):
        from_timer(timer, "")


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda e: e.update(data="x"), "data"),
        (lambda e: e["data"].update(contentLength="big"), "data.contentLength"),
        (lambda e: e["data"].update(url="https://acct.blob.core.windows.net/"), "data.url"),
        (lambda e: (e["data"].pop("url"), e.pop("subject")), "data"),
    ],
)
def test_malformed_events_name_the_field(mutate: Any, where: str) -> None:
    event = load("blob_created_cloudevents.json")
    mutate(event)
    with pytest.raises(EventError) as err:
        parse_event(event)
    assert f"(at {where})" in str(err.value)


@pytest.mark.parametrize("payload", [None, "x", 1, [], {}, [{"eventType": "Contoso.Custom"}]])
def test_not_an_event_says_what_was_expected(payload: Any) -> None:
    with pytest.raises(EventError, match="Microsoft.Storage.BlobCreated"):
        parse_event(payload)


@pytest.mark.parametrize("schema", ["eventgrid", "cloudevents"])
@pytest.mark.parametrize("key", [BIG_KEY, "a%20b/%2B+ü.csv", "x"])
def test_samples_round_trip(schema: str, key: str) -> None:
    storage = AzureBlobStorage("az://landing")
    sample = sample_event(storage.url(key), schema=schema, size=9, etag="0xABC")
    json.dumps(sample)
    [event] = parse_event(sample)
    assert isinstance(event, StorageEvent)
    assert (event.key, event.size, event.etag, event.uri) == (key, 9, "0xABC", storage.url(key))


def test_bad_sample_input() -> None:
    with pytest.raises(UsageError):
        sample_event("s3://bucket/key")
    with pytest.raises(UsageError):
        sample_event("az://c/key", schema="storagequeue")


@pytest.mark.parametrize("quoted", [False, True])
def test_every_delivery_path_gives_a_blob_version_one_identity(quoted: bool) -> None:
    """Event Grid (both schemas, as a dict and as the trigger's objects), the queue
    (plain and base64 text), the blob trigger's InputStream and an SDK BlobClient: one
    run id for one blob version, whether the ETag comes quoted or bare."""
    import base64
    import json

    from azure.functions.eventgrid import EventGridEventInConverter
    from azure.functions.meta import Datum
    from azure.storage.blob import BlobClient
    from hookline.adapters.azure.pipeline import _payload

    key, etag = "landing/train/a b+c.csv", "0x8DC74E3C7F4A1B2"
    given = f'"{etag}"' if quoted else etag
    events = []
    for schema in ("eventgrid", "cloudevents"):
        payload = sample_event(f"az://data/{key.replace(' ', '%20')}", schema=schema, etag=given)
        events += parse_event(payload)
        events += parse_event([payload])
        text = json.dumps(payload)
        events += from_queue_message(text)
        events += from_queue_message(base64.b64encode(text.encode()).decode())
        converted = EventGridEventInConverter.decode(Datum(text, "json"), trigger_metadata={})
        events += parse_event(_payload(converted))
    stream = func.blob.InputStream(
        data=b"", name=f"data/{key}", length=10, blob_properties={"ETag": given}
    )
    events.append(from_input_stream(stream))

    class Props:
        size = 10
        etag = given

    client = BlobClient("https://acct.blob.core.windows.net", "data", key)
    events.append(from_blob_client(client, Props()))
    assert {e.etag for e in events} == {etag} and {e.version for e in events} == {etag}
    assert {e.uri for e in events} == {"az://data/landing/train/a%20b+c.csv"}
    assert len({e.run_id("train") for e in events}) == 1, [e.identity for e in events]


def test_normalize_etag() -> None:
    assert normalize_etag('"0x1"') == normalize_etag("0x1") == normalize_etag(' "0x1" ') == "0x1"
    assert normalize_etag("") is None and normalize_etag(None) is None and normalize_etag(3) is None
