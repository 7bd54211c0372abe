"""Fuzzing the event parsers: whatever JSON-ish input arrives, the answer is a list of
events or an ``EventError`` -- never a ``KeyError``, ``TypeError`` or anything else -- and
every event names a key that stays inside its storage root.

Inputs are random JSON built from the vocabulary the parsers look for (so the fuzzer gets
past the first ``if``), the real fixtures with a few nodes replaced, deleted or turned into
JSON strings, the fixtures with hostile object keys put where each cloud carries the key
(control characters C0 and C1, lone surrogates, ``..`` segments, 2,000-byte names, percent-
and form-encoded forms of them), SQS batches of such messages as ``hookline events parse``
and the handler read them, and -- deterministically -- every single-node mutation of every
fixture, envelopes (JSON text inside SQS bodies and SNS messages) included.

The number of examples is fixed and the runs derandomized (``_fuzz.FUZZ``, marker ``fuzz``);
``make fuzz`` runs many more, at random.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hookline.adapters.aws import events as aws
from hookline.adapters.azure import events as azure
from hookline.adapters.cloud import EventError, get_cloud
from hookline.adapters.gcp import events as gcp
from hookline.errors import HooklineError
from hookline.events import ScheduleEvent, StorageEvent
from hookline.storage import LocalStorage, check_key, parse_uri
from hypothesis import given
from hypothesis import strategies as st

from ._fuzz import FUZZ

pytestmark = pytest.mark.fuzz

FIXTURES = Path(__file__).parents[1] / "fixtures" / "events"
KEYS = [
    "Records",
    "eventSource",
    "EventSource",
    "eventName",
    "s3",
    "bucket",
    "name",
    "object",
    "key",
    "size",
    "eTag",
    "versionId",
    "sequencer",
    "body",
    "Sns",
    "Message",
    "Type",
    "Event",
    "detail-type",
    "detail",
    "source",
    "pipeline",
    "id",
    "time",
    "httpMethod",
    "requestContext",
    "specversion",
    "type",
    "data",
    "data_base64",
    "generation",
    "message",
    "attributes",
    "eventType",
    "url",
    "subject",
    "contentLength",
    "validationCode",
    "messageId",
    "version",
]
WORDS = [
    "aws:s3",
    "aws:sqs",
    "aws:sns",
    "ObjectCreated:Put",
    "ObjectCreated:",
    "s3:TestEvent",
    "Object Created",
    "aws.s3",
    "Scheduled Event",
    "hookline.schedule",
    "Notification",
    "google.cloud.storage.object.v1.finalized",
    "google.cloud.storage.object.v1.deleted",
    "google.cloud.pubsub.topic.v1.messagePublished",
    "OBJECT_FINALIZE",
    "Microsoft.Storage.BlobCreated",
    "Microsoft.EventGrid.SubscriptionValidationEvent",
    "/blobServices/default/containers/c/blobs/k",
    "https://a.blob.core.windows.net/c/k%20x",
    "http://127.0.0.1:1/acct/c/k",
    "//storage.googleapis.com/projects/_/buckets/b",
    "1.0",
    "2.0",
    "a+b%2B%zz",
    "",
    "../x",
    "\x00",
    "12",
    "-1",
    "eyJwaXBlbGluZSI6ICJ4In0=",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(WORDS)
    | st.text(max_size=12)
)


def _with_json_strings(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5)
        | children.map(lambda v: json.dumps(v, allow_nan=True))  # envelopes carry JSON text
    )


json_like = st.recursive(scalars, _with_json_strings, max_leaves=25)


def _load(cloud: str) -> list[Any]:
    return [json.loads(p.read_text()) for p in sorted((FIXTURES / cloud).glob("*.json"))]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


_DELETE = object()


def _apply(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``doc`` with the node at ``path`` replaced (or deleted with ``_DELETE``)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, str):  # an envelope: JSON text inside a string
        return json.dumps(_apply(json.loads(doc), path, value))
    if isinstance(doc, dict):
        copy = dict(doc)
        if not rest and value is _DELETE:
            copy.pop(head, None)
        else:
            copy[head] = _apply(doc[head], rest, value)
        return copy
    copy_list = list(doc)
    if not rest and value is _DELETE:
        del copy_list[head]
    else:
        copy_list[head] = _apply(doc[head], rest, value)
    return copy_list


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        if isinstance(doc, str):
            doc = json.loads(doc)
        doc = doc[step]
    return doc


def _deep_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every node's path, looking inside strings that hold JSON objects (envelopes)."""
    if isinstance(node, str) and node.startswith(("{", "[")):
        try:
            inner = json.loads(node)
        except ValueError:
            return [prefix]
        return [prefix] + [p for p in _deep_paths(inner, prefix) if p != prefix]
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _deep_paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _deep_paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn, cloud: str) -> Any:
    """A real fixture with one to three nodes replaced by random JSON, deleted, or
    stringified (inside envelopes too)."""
    doc = draw(st.sampled_from(_load(cloud)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _deep_paths(doc)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "stringify"]))
        if action == "delete" and path:
            doc = _apply(doc, path, _DELETE)
        elif action == "stringify":
            doc = _apply(doc, path, json.dumps(_get(doc, path)))
        else:
            doc = _apply(doc, path, draw(json_like))
    return doc


ROOT = LocalStorage(Path(__file__).parents[2] / ".cache" / "fuzz-root")


def check_storage_event(event: StorageEvent) -> None:
    """The event serialises, and its key stays inside any storage root it is read from."""
    assert isinstance(event.key, str) and event.key
    assert isinstance(event.bucket, str) and event.bucket
    assert event.uri.split("://")[0] in ("s3", "gs", "az")
    assert event.size is None or (isinstance(event.size, int) and event.size >= 0)
    assert check_key(event.key) == event.key  # what every back-end checks before any I/O
    assert parse_uri(event.uri)[1:] == (event.bucket, event.key)
    path = ROOT._path(event.key)  # resolved under a real folder: never outside it
    assert ROOT.root in path.parents
    json.dumps(event.to_dict(), ensure_ascii=False).encode("utf-8")


def check(parse: Any, *args: Any) -> None:
    try:
        events = parse(*args)
    except EventError as exc:
        assert str(exc)  # a message that says what was expected
        str(exc).encode("utf-8")  # printable as it is (no lone surrogate in the text)
        return
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, StorageEvent | ScheduleEvent)
        if isinstance(event, StorageEvent):
            check_storage_event(event)
        else:
            assert isinstance(event.pipeline, str) and event.pipeline


# -- hostile keys, where each cloud carries them ----------------------------------------

HOSTILE = [
    "../escape.csv",
    "landing/../../etc/passwd",
    "landing/./x.csv",
    "/abs.csv",
    "a\\b.csv",
    "a//b.csv",
    "nul\x00.csv",
    "line\nbreak.csv",
    "c1\x85next.csv",
    "c1\x9f.csv",
    "lone\ud800.csv",
    "\udfff",
    "k" * 2000,
    "é" * 600,
    "%2e%2e/x.csv",
    "%00.csv",
]
key_text = st.sampled_from(HOSTILE) | st.text(
    alphabet=st.characters(codec=None, exclude_categories=()), max_size=40
)


def _with_key(cloud: str, key: str, encoding: str) -> Any:
    """A real-shaped payload of ``cloud`` carrying ``key`` raw, percent- or form-encoded."""
    from urllib.parse import quote, quote_plus

    def encode(text: str) -> str | None:
        try:
            if encoding == "plus":
                return quote_plus(text, safe="/")
            if encoding == "percent":
                return quote(text, safe="/")
        except UnicodeEncodeError:
            return None
        return text

    encoded = encode(key)
    if encoded is None:
        encoded = key
    c = get_cloud(cloud)
    payload = c.sample(f"{c.scheme}://bkt/landing/x.csv", kind=None)
    if cloud == "aws":
        payload["Records"][0]["s3"]["object"]["key"] = encoded
    elif cloud == "gcp":
        payload["data"]["name"] = key  # GCS names arrive unencoded
    else:
        payload["data"]["url"] = f"https://acct.blob.core.windows.net/bkt/{encoded}"
        payload["subject"] = f"/blobServices/default/containers/bkt/blobs/{key}"
    return payload


@FUZZ
@given(
    st.sampled_from(["aws", "gcp", "azure"]), key_text, st.sampled_from(["raw", "plus", "percent"])
)
def test_hostile_keys_never_name_an_object_outside_the_root(
    cloud: str, key: str, encoding: str
) -> None:
    c = get_cloud(cloud)
    check(c.parse, _with_key(cloud, key, encoding))
    for item in c.items(_with_key(cloud, key, encoding)):
        assert item.error is None or not item.events
        for event in item.events:
            check_storage_event(event)  # type: ignore[arg-type]


def _with_bucket(cloud: str, bucket: str) -> Any:
    c = get_cloud(cloud)
    payload = c.sample(f"{c.scheme}://bkt/landing/x.csv", kind=None)
    if cloud == "aws":
        payload["Records"][0]["s3"]["bucket"]["name"] = bucket
    elif cloud == "gcp":
        payload["data"]["bucket"] = bucket
    else:
        payload["data"]["url"] = f"https://acct.blob.core.windows.net/{bucket}/landing/x.csv"
        payload["subject"] = f"/blobServices/default/containers/{bucket}/blobs/landing/x.csv"
    return payload


@FUZZ
@given(
    st.sampled_from(["aws", "gcp", "azure"]),
    st.sampled_from(["[::1]", "[", "a/b", "a@b", "a b", "", "x" * 300, "..", "a:1", "a?b"])
    | st.text(max_size=20),
)
def test_hostile_bucket_names_never_make_another_uri(cloud: str, bucket: str) -> None:
    check(get_cloud(cloud).parse, _with_bucket(cloud, bucket))


@st.composite
def sqs_batches(draw: st.DrawFn) -> Any:
    """SQS batches mixing good messages with bad bodies and hostile keys."""
    from urllib.parse import quote_plus

    good = json.dumps(get_cloud("aws").sample("s3://bkt/landing/good.csv", kind="s3"))
    records = []
    for i in range(draw(st.integers(1, 6))):
        choice = draw(st.sampled_from(["good", "bad", "key", "random"]))
        if choice == "good":
            body: Any = good
        elif choice == "bad":
            body = draw(st.sampled_from(["", " ", "{", "null", "[]", "42", "x" * 70_000]))
        elif choice == "key":
            key = draw(key_text)
            notification = get_cloud("aws").sample("s3://bkt/landing/x.csv", kind="s3")
            try:
                raw = quote_plus(key, safe="/")
            except UnicodeEncodeError:
                raw = key
            notification["Records"][0]["s3"]["object"]["key"] = raw
            body = json.dumps(notification)
        else:
            body = draw(json_like)
        record: Any = {"messageId": f"m-{i}", "eventSource": "aws:sqs", "body": body}
        records.append(draw(st.sampled_from([record, {**record, "eventSourceARN": "x.fifo"}])))
    return {"Records": records}


@FUZZ
@given(sqs_batches())
def test_sqs_batches_are_answered_item_by_item(payload: Any) -> None:
    """What ``hookline events parse`` computes for a batch: one item per record, each with
    events or an error, and the handler's partial-batch answer -- never another exception."""
    from hookline.adapters.events_cli import parse_report

    report, status = parse_report("aws", payload)
    items = report["items"]
    assert len(items) == len(payload["Records"])
    failed = [i for i in items if "error" in i]
    assert status == (2 if failed else 0)
    listed = [f["itemIdentifier"] for f in report["answer"]["batchItemFailures"]]
    assert {i["id"] for i in failed} <= set(listed)
    for item in aws.sqs_messages(payload):
        assert item.error is None or isinstance(item.error, HooklineError)
        for event in item.events:
            if isinstance(event, StorageEvent):
                check_storage_event(event)
    json.dumps(report, ensure_ascii=False).encode("utf-8")


@FUZZ
@given(st.one_of(json_like, mutated("aws")))
def test_aws_parser_never_crashes(payload: Any) -> None:
    assert isinstance(aws.classify(payload), str)
    check(aws.parse_event, payload)
    if aws.classify(payload) == "sqs":
        for message in aws.sqs_messages(payload):
            assert message.error is None or isinstance(message.error, HooklineError)


headers = st.dictionaries(
    st.sampled_from(
        ["ce-type", "Ce-Id", "ce-source", "ce-time", "ce-specversion", "content-type", "ce-subject"]
    )
    | st.text(max_size=6),
    st.sampled_from(WORDS) | st.text(max_size=12),
    max_size=5,
)


@FUZZ
@given(st.one_of(json_like, mutated("gcp")), st.none() | headers)
def test_gcp_parser_never_crashes(payload: Any, hdrs: dict[str, str] | None) -> None:
    assert isinstance(gcp.classify(payload, hdrs), str)
    check(gcp.parse_event, payload, hdrs)
    body = json.dumps(payload, allow_nan=True).encode()
    check(gcp.parse_http, hdrs or {}, body)


@FUZZ
@given(st.binary(max_size=64), headers)
def test_gcp_raw_http_bodies_never_crash(body: bytes, hdrs: dict[str, str]) -> None:
    check(gcp.parse_http, hdrs, body)


@FUZZ
@given(st.one_of(json_like, mutated("azure")))
def test_azure_parser_never_crashes(payload: Any) -> None:
    assert isinstance(azure.classify(payload), str)
    check(azure.parse_event, payload)
    response = azure.validation_response(payload)
    assert response is None or set(response) == {"validationResponse"}


@FUZZ
@given(st.one_of(json_like.map(lambda v: json.dumps(v, allow_nan=True)), st.text(max_size=80)))
def test_azure_queue_messages_never_crash(body: str) -> None:
    import base64

    check(azure.parse_queue_body, body)
    check(azure.parse_queue_body, base64.b64encode(body.encode("utf-8", "replace")).decode())


SWEEP_VALUES = [_DELETE, None, True, -1, 2.5, "", "x", "{", [], {}, [1], {"a": 1}]


def _sweep(cloud: str, parse: Any) -> int:
    count = 0
    for doc in _load(cloud):
        for path in _deep_paths(doc):
            for value in SWEEP_VALUES:
                if value is _DELETE and not path:
                    continue
                check(parse, _apply(doc, path, value))
                count += 1
    return count


def test_every_single_node_mutation_of_the_aws_fixtures() -> None:
    assert _sweep("aws", aws.parse_event) > 1000


def test_every_single_node_mutation_of_the_gcp_fixtures() -> None:
    def parse(doc: Any) -> Any:
        if isinstance(doc, dict) and set(doc) == {"headers", "body"}:
            return gcp.parse_event(doc["body"], doc["headers"])
        return gcp.parse_event(doc)

    assert _sweep("gcp", parse) > 500


def test_every_single_node_mutation_of_the_azure_fixtures() -> None:
    assert _sweep("azure", azure.parse_event) > 500
