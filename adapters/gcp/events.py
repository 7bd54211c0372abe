"""Google Cloud payloads -> hookline events. Pure functions: no Google SDK is imported.

* The CloudEvent ``google.cloud.storage.object.v1.finalized`` (Eventarc, Cloud Functions
  2nd gen, Cloud Run), in **binary** mode (``ce-*`` headers, the object resource as the
  JSON body) or **structured** mode (``application/cloudevents+json``: one JSON document
  with ``specversion``, ``type``, ``data``), or as the ``CloudEvent`` object that
  functions-framework hands to a ``@cloud_event`` function.
* The event's ``data`` is the object resource: ``bucket``, ``name``, ``generation``,
  ``size`` (a string), ``md5Hash``, ``etag``, ``timeCreated``. GCS deliveries repeat, so
  the event's ``version`` is the generation: (bucket, name, generation) names one write,
  and its run id is the same on every redelivery. Zero-byte objects (gcsfuse-style
  writers create one first) keep ``size == 0``, which the runner skips by default.
* Schedules: a CloudEvent of type ``hookline.schedule`` with ``{"pipeline": NAME}``, a
  Pub/Sub ``messagePublished`` CloudEvent whose message is such a payload (Cloud Scheduler
  -> Pub/Sub), or the bare JSON ``{"source": "hookline.schedule", "pipeline": NAME}``
  (Cloud Scheduler -> HTTP). Cloud Scheduler sends the same ``ce-id`` header on every
  firing, so a firing is identified by its ``X-CloudScheduler-ScheduleTime`` header (the
  same on Cloud Scheduler's retries of that firing), else by the event's time.
* GCS Pub/Sub notifications (``OBJECT_FINALIZE``, payload ``JSON_API_V1``) arriving
  through a ``messagePublished`` CloudEvent are read too.
* The run-offload reconciler's schedule -- a CloudEvent of type ``hookline.reconcile``
  (Cloud Scheduler -> HTTP, as the module sends it), ``{"source": "hookline.reconcile"}``
  through Pub/Sub or as a bare body -- becomes a ``ReconcileEvent`` (Cloud Run jobs emit no
  job-state events; :mod:`hookline.adapters.gcp.compute`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from hookline.adapters._jobs import RECONCILE_SOURCE, is_reconcile, reconcile_event
from hookline.adapters.cloud import (
    SCHEDULE_SOURCE,
    EventError,
    decode_json,
    get_int,
    get_map,
    get_str,
    schedule_event,
    storage_event,
)
from hookline.adapters.gcp._samples import MODES, sample_event, sample_schedule
from hookline.events import Event, StorageEvent

__all__ = [
    "MODES",
    "EventError",
    "classify",
    "parse_event",
    "parse_http",
    "sample_event",
    "sample_schedule",
]

CLOUD = "gcp"
FINALIZED = "google.cloud.storage.object.v1.finalized"
PUBSUB = "google.cloud.pubsub.topic.v1.messagePublished"
_STORAGE_PREFIX = "google.cloud.storage.object.v1."
SCHEDULE_TIME_HEADER = "x-cloudscheduler-scheduletime"
EXPECTED = (
    f"a CloudEvent of type {FINALIZED} (binary mode: ce-* headers and the object resource "
    "as data; structured mode: specversion/type/data in one JSON document), or a schedule "
    '{"source": "hookline.schedule", "pipeline": NAME}'
)


def _attributes(payload: Any, headers: Mapping[str, Any] | None) -> tuple[dict[str, Any], Any]:
    """``(CloudEvent attributes, data)`` from any of the accepted shapes; ``({}, payload)``
    when the payload is not a CloudEvent."""
    if headers:
        lowered = _lower(headers)
        if "ce-type" in lowered or "ce-specversion" in lowered:
            # HTTP binding: header values are percent-encoded; decode them once
            attrs = {
                k[3:]: unquote(v) if isinstance(v, str) else v
                for k, v in lowered.items()
                if k.startswith("ce-")
            }
            return attrs, payload
    get_attributes = getattr(payload, "get_attributes", None)
    if callable(get_attributes) and not isinstance(payload, Mapping):  # cloudevents' class
        try:
            attrs = dict(get_attributes())
            return attrs, getattr(payload, "data", None)
        except Exception:
            return {}, payload
    if isinstance(payload, Mapping) and "specversion" in payload:
        attrs = {k: v for k, v in payload.items() if k not in ("data", "data_base64")}
        data = payload.get("data")
        if data is None and isinstance(payload.get("data_base64"), str):
            data = _b64(payload["data_base64"], "data_base64")
        return attrs, data
    return {}, payload


def _lower(headers: Any) -> dict[str, Any]:
    if not isinstance(headers, Mapping):
        raise EventError(
            "the HTTP headers are not a mapping",
            where="headers",
            cloud=CLOUD,
            expected="a mapping of header names to values",
        )
    return {str(k).lower(): v for k, v in headers.items()}


def _scheduler_time(headers: Any) -> str | None:
    """Cloud Scheduler's ``X-CloudScheduler-ScheduleTime`` header, if present."""
    if not isinstance(headers, Mapping):
        return None
    for name, value in headers.items():
        if str(name).lower() == SCHEDULE_TIME_HEADER and isinstance(value, str) and value:
            return value
    return None


def _b64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise EventError("not valid base64", where=where, cloud=CLOUD) from None


def _as_data(data: Any, where: str) -> Any:
    if isinstance(data, bytes | bytearray | str):
        return decode_json(data, where, CLOUD, what="a JSON object resource")
    return data


def classify(payload: Any, headers: Mapping[str, Any] | None = None) -> str:
    """``"storage"``, ``"storage-other"`` (deleted/archived/metadataUpdated: nothing to
    run), ``"pubsub"``, ``"schedule"`` or ``"unknown"``. Never raises."""
    try:
        attrs, data = _attributes(payload, headers)
    except EventError:
        return "unknown"
    kind = attrs.get("type")
    if kind == FINALIZED:
        return "storage"
    if isinstance(kind, str) and kind.startswith(_STORAGE_PREFIX):
        return "storage-other"
    if kind == PUBSUB:
        return "pubsub"
    if kind == SCHEDULE_SOURCE or (
        not attrs and isinstance(data, Mapping) and data.get("source") == SCHEDULE_SOURCE
    ):
        return "schedule"
    if kind == RECONCILE_SOURCE or (not attrs and is_reconcile(data)):
        return "reconcile"
    return "unknown"


def parse_event(
    payload: Any, headers: Mapping[str, Any] | None = None, *, schedule_time: str | None = None
) -> list[Event]:
    """The storage and schedule events in one delivery.

    :param payload: the structured-mode JSON document, the binary-mode body (parsed JSON,
        ``bytes`` or ``str``) together with ``headers``, or a functions-framework
        ``CloudEvent``.
    :param headers: the HTTP headers of a binary-mode delivery (``ce-type``, ``ce-id``...).
    :param schedule_time: Cloud Scheduler's ``X-CloudScheduler-ScheduleTime`` header, when
        the caller has it apart from ``headers`` (a functions-framework ``CloudEvent``):
        the identity of a scheduled firing.
    :returns: one :class:`StorageEvent` for a finalized object, a :class:`ScheduleEvent`,
        or ``[]`` for other storage events (deleted, archived, metadata updated).
    :raises EventError: for anything else, or a malformed event; it names what was expected.
    """
    attrs, data = _attributes(payload, headers)
    kind = classify(payload, headers)
    event_id = attrs.get("id") if isinstance(attrs.get("id"), str) else None
    if kind == "storage":
        resource = _as_data(data, "data")
        return [_object_event(resource, "data", attrs, event_id)]
    if kind == "storage-other":
        return []
    if kind == "schedule":
        body = _as_data(data, "data") if attrs else data
        fired = schedule_time or _scheduler_time(headers)
        if fired:  # Cloud Scheduler: the ce-id is fixed per job, the schedule time is not
            event_id = f"{event_id}@{fired}" if event_id else fired
        return [
            schedule_event(
                body,
                "data" if attrs else "",
                CLOUD,
                event_id=event_id,
                event_time=fired or attrs.get("time"),
            )
        ]
    if kind == "pubsub":
        return _pubsub(_as_data(data, "data"), attrs)
    if kind == "reconcile":
        body = data if isinstance(data, Mapping) else {}
        fired = schedule_time or _scheduler_time(headers) or attrs.get("time")
        return [reconcile_event(body, CLOUD, event_id=event_id, event_time=fired)]
    if attrs:
        raise EventError(
            f"CloudEvent type {attrs.get('type')!r} is not handled",
            where="type",
            cloud=CLOUD,
            expected=EXPECTED,
        )
    what = "not a CloudEvent" if isinstance(payload, Mapping) else "not a JSON object"
    raise EventError(
        what,
        cloud=CLOUD,
        expected=EXPECTED,
        hint="binary-mode deliveries need their ce-* headers: parse_event(body, headers)",
    )


def parse_http(headers: Mapping[str, Any], body: bytes | str) -> list[Event]:
    """Parse a raw HTTP delivery: structured mode when the content type is
    ``application/cloudevents+json``, binary mode when ``ce-*`` headers are present,
    else a plain JSON body (Cloud Scheduler's HTTP target)."""
    lowered = _lower(headers)
    content_type = str(lowered.get("content-type", "")).split(";")[0].strip().lower()
    if content_type == "application/cloudevents+json" or "ce-type" not in lowered:
        return parse_event(
            decode_json(body, "body", CLOUD, what="a JSON body"),
            schedule_time=_scheduler_time(lowered),
        )
    return parse_event(body, headers)


def _object_event(
    resource: Any, where: str, attrs: Mapping[str, Any], event_id: str | None
) -> StorageEvent:
    if not isinstance(resource, Mapping):
        raise EventError(
            "the event data is not an object resource",
            where=where,
            cloud=CLOUD,
            expected="data with bucket, name, generation, size",
        )
    bucket = get_str(resource, "bucket", where, CLOUD, required=False)
    if bucket is None:  # fall back to the source: //storage.googleapis.com/projects/_/buckets/B
        source = attrs.get("source")
        if isinstance(source, str) and "/buckets/" in source:
            bucket = source.rsplit("/buckets/", 1)[1].split("/")[0] or None
    if bucket is None:
        raise EventError(
            "no bucket",
            where=f"{where}.bucket",
            cloud=CLOUD,
            expected="the bucket name in data.bucket or the CloudEvent source",
        )
    name = get_str(resource, "name", where, CLOUD)
    generation = resource.get("generation")
    if isinstance(generation, int) and not isinstance(generation, bool):
        generation = str(generation)
    if generation is not None and not (
        isinstance(generation, str) and generation.isascii() and generation.isdigit()
    ):
        raise EventError(
            f"generation {generation!r} is not a number",
            cloud=CLOUD,
            where=f"{where}.generation",
            expected="a generation like '1712345678'",
        )
    created = resource.get("timeCreated") or attrs.get("time")
    etag = get_str(resource, "md5Hash", where, CLOUD, required=False) or get_str(
        resource, "etag", where, CLOUD, required=False
    )
    return storage_event(
        CLOUD,
        "gs",
        bucket,
        name,
        where=f"{where}.bucket",
        key_where=f"{where}.name",
        event_time=created,
        size=get_int(resource, "size", where, CLOUD),
        etag=etag,
        version=generation,
        event_id=event_id,
    )


def _pubsub(data: Any, attrs: Mapping[str, Any]) -> list[Event]:
    message = get_map(data, "message", "data", CLOUD)
    message_id = message.get("messageId") or message.get("message_id") or attrs.get("id")
    raw = get_str(message, "data", "data.message", CLOUD, required=False)
    body = decode_json(_b64(raw, "data.message.data"), "data.message.data", CLOUD) if raw else {}
    attributes = message.get("attributes")
    attributes = attributes if isinstance(attributes, Mapping) else {}
    if isinstance(body, Mapping) and body.get("source") == SCHEDULE_SOURCE:
        return [
            schedule_event(
                body,
                "data.message.data",
                CLOUD,
                event_id=message_id,
                event_time=message.get("publishTime") or attrs.get("time"),
            )
        ]
    if is_reconcile(body):
        return [
            reconcile_event(
                body,
                CLOUD,
                event_id=message_id,
                event_time=message.get("publishTime") or attrs.get("time"),
            )
        ]
    event_type = attributes.get("eventType")
    if event_type == "OBJECT_FINALIZE":  # a GCS Pub/Sub notification (JSON_API_V1)
        return [
            _object_event(
                body,
                "data.message.data",
                attrs,
                message_id if isinstance(message_id, str) else None,
            )
        ]
    if isinstance(event_type, str) and event_type.startswith("OBJECT_"):
        return []
    raise EventError(
        "a Pub/Sub message that is neither a schedule nor a GCS notification",
        where="data.message",
        cloud=CLOUD,
        expected='data {"source": "hookline.schedule", "pipeline": NAME} or '
        "attributes.eventType OBJECT_FINALIZE",
    )
