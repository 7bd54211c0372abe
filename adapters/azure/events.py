"""Azure payloads -> hookline events. Pure functions: no Azure SDK is imported.

* Event Grid ``Microsoft.Storage.BlobCreated``, in the **Event Grid schema** (``eventType``,
  ``eventTime``, ``data``...) and the **CloudEvents schema** (``specversion``, ``type``,
  ``time``, ``data``...), one event or a delivered array, or the ``func.EventGridEvent``
  an Event Grid trigger receives. ``data.url`` gives ``az://container/key``; the key is
  URL-decoded once from the URL path (``+`` stays a plus); ``data.contentLength`` is the
  size, ``data.eTag`` the etag; the subject ``/blobServices/default/containers/C/blobs/K``
  names the container. This is the default trigger source: the polling blob trigger can
  lag by minutes.
* The Event Grid subscription handshake (``Microsoft.EventGrid.SubscriptionValidationEvent``)
  is recognised (:func:`validation_response`) and yields no event.
* The Python v2 blob trigger: :func:`from_input_stream` reads ``.name``, ``.uri`` and
  ``.length`` of a ``func.InputStream`` without reading the blob (blob bindings load the
  whole blob into memory: bind the name or a client and stream with the SDK instead), and
  :func:`from_blob_client` does the same for an SDK-typed ``BlobClient`` binding.
* Storage Queue messages (``pipeline_queue``): Event Grid writes each event, in either
  schema, as one message; :func:`from_queue_message` reads a ``func.QueueMessage`` (or the
  message text; a base64 body is decoded, whatever ``host.json``'s ``messageEncoding``).
* Timers: :func:`from_timer` turns a timer trigger into a :class:`ScheduleEvent`.

**One blob version, one identity.** Azure's ETag changes on every write of a blob, so it
is the blob's version: every parser here sets ``StorageEvent.version`` to the ETag,
normalised once (:func:`normalize_etag`: no quotes), so the same upload delivered by Event
Grid (either schema), through the queue or by the blob trigger has the same run id. ETags
arrive quoted from the SDK and the blob trigger's properties and bare in Event Grid events.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from hookline.adapters.azure._samples import SCHEMAS, sample_event, sample_schedule
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
from hookline.events import Event, ScheduleEvent, StorageEvent, utc_now_iso

__all__ = [
    "SCHEMAS",
    "EventError",
    "classify",
    "from_blob_client",
    "from_eventgrid_event",
    "from_input_stream",
    "from_queue_message",
    "from_timer",
    "normalize_etag",
    "parse_event",
    "parse_queue_body",
    "sample_event",
    "sample_schedule",
    "validation_response",
]

CLOUD = "azure"
BLOB_CREATED = "Microsoft.Storage.BlobCreated"
VALIDATION = "Microsoft.EventGrid.SubscriptionValidationEvent"
EXPECTED = (
    f"an Event Grid {BLOB_CREATED} event (Event Grid or CloudEvents schema, alone or in "
    'an array), or a schedule {"pipeline": NAME} event of type hookline.schedule'
)
_SUBJECT_PREFIX = "/blobServices/default/containers/"


def normalize_etag(etag: Any) -> str | None:
    """An ETag in one form, bare: ``"0x8DC..."`` (quoted, as the SDK and the blob trigger
    give it) and ``0x8DC...`` (as Event Grid does) are both ``0x8DC...``; ``None`` for
    anything that is not a non-empty string."""
    if not isinstance(etag, str):
        return None
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    if len(etag) >= 2 and etag[0] == etag[-1] == '"':
        etag = etag[1:-1].strip()
    return etag or None


def _type(event: Any) -> Any:
    if not isinstance(event, Mapping):
        return None
    return event.get("eventType") or event.get("type")


def classify(payload: Any) -> str:
    """``"storage"``, ``"storage-other"`` (deleted, tier changed...: nothing to run),
    ``"validation"`` (subscription handshake), ``"schedule"`` or ``"unknown"``; for an
    array, the kind of its first event. Never raises."""
    event = payload[0] if isinstance(payload, list) and payload else payload
    kind = _type(event)
    if kind == BLOB_CREATED:
        return "storage"
    if kind == VALIDATION:
        return "validation"
    if kind == SCHEDULE_SOURCE:
        return "schedule"
    if isinstance(kind, str) and kind.startswith(("Microsoft.Storage.", "Microsoft.EventGrid.")):
        return "storage-other"
    return "unknown"


def parse_event(payload: Any) -> list[Event]:
    """The events in one Event Grid delivery (one event, or an array of them).

    :returns: one :class:`StorageEvent` per created blob, a :class:`ScheduleEvent` for a
        ``hookline.schedule`` event, ``[]`` for the subscription handshake and other
        storage events.
    :raises EventError: for anything else or a malformed event, naming what was expected.
    """
    if hasattr(payload, "get_json") and hasattr(payload, "event_type"):
        payload = from_eventgrid_event(payload)
    events = payload if isinstance(payload, list) else [payload]
    if not events:
        raise EventError("an empty array", cloud=CLOUD, expected=EXPECTED)
    out: list[Event] = []
    for i, event in enumerate(events):
        where = f"[{i}]" if isinstance(payload, list) else ""
        kind = classify(event)
        if kind == "storage":
            out.append(_blob_created(event, where))
        elif kind == "schedule":
            data = get_map(event, "data", where, CLOUD)
            out.append(
                schedule_event(
                    data,
                    f"{where}.data" if where else "data",
                    CLOUD,
                    event_id=event.get("id"),
                    event_time=event.get("eventTime") or event.get("time"),
                )
            )
        elif kind not in ("validation", "storage-other"):
            got = _type(event)
            what = (
                f"event type {got!r} is not handled"
                if got
                else (
                    "not an Event Grid event" if isinstance(event, Mapping) else "not a JSON object"
                )
            )
            raise EventError(what, where=where or None, cloud=CLOUD, expected=EXPECTED)
    return out


def validation_response(payload: Any) -> dict[str, str] | None:
    """``{"validationResponse": CODE}`` for an Event Grid subscription handshake (answer it
    with HTTP 200 and this body), else ``None``. Never raises."""
    events = payload if isinstance(payload, list) else [payload]
    for event in events:
        if _type(event) == VALIDATION:
            data = event.get("data")
            code = data.get("validationCode") if isinstance(data, Mapping) else None
            if isinstance(code, str) and code:
                return {"validationResponse": code}
    return None


def _blob_created(event: Any, where: str) -> StorageEvent:
    data_where = f"{where}.data" if where else "data"
    data = get_map(event, "data", where, CLOUD)
    subject = event.get("subject")
    container_from_subject, key_from_subject = _split_subject(subject)
    url = get_str(data, "url", data_where, CLOUD, required=False)
    key_where = f"{data_where}.url"
    if url is not None:
        container, key = _split_url(url, container_from_subject, key_where)
    elif container_from_subject and key_from_subject:
        container, key = container_from_subject, key_from_subject
        key_where = f"{where}.subject" if where else "subject"
    else:
        raise EventError(
            "no blob URL and no usable subject",
            where=data_where,
            cloud=CLOUD,
            expected=f"data.url or a subject '{_SUBJECT_PREFIX}C/blobs/K'",
        )
    etag = normalize_etag(get_str(data, "eTag", data_where, CLOUD, required=False))
    return storage_event(
        CLOUD,
        "az",
        container,
        key,
        where=key_where,
        event_time=event.get("eventTime") or event.get("time"),
        size=get_int(data, "contentLength", data_where, CLOUD),
        etag=etag,
        version=etag,
        event_id=event.get("id") if isinstance(event.get("id"), str) else None,
    )


def _split_subject(subject: Any) -> tuple[str | None, str | None]:
    if not isinstance(subject, str) or not subject.startswith(_SUBJECT_PREFIX):
        return None, None
    container, sep, key = subject[len(_SUBJECT_PREFIX) :].partition("/blobs/")
    return (container or None), (key if sep and key else None)


def _path_style(host: str) -> bool:
    """Azurite and other emulators put the account in the path: /ACCOUNT/CONTAINER/KEY."""
    if host in ("localhost", "host.docker.internal", "azurite"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _split_url(url: str, container_hint: str | None, where: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise EventError(
            "not a URL",
            where=where,
            cloud=CLOUD,
            expected="https://ACCOUNT.blob.core.windows.net/CONTAINER/KEY",
        ) from None
    segments = parts.path.lstrip("/").split("/")
    if (
        container_hint
        and len(segments) > 1
        and segments[0] != container_hint
        and (segments[1] == container_hint)
    ):
        segments = segments[1:]  # account in the path
    elif not container_hint and _path_style(parts.hostname or "") and len(segments) > 2:
        segments = segments[1:]
    container, key = segments[0], unquote("/".join(segments[1:]))  # decoded exactly once
    if not container or not key:
        raise EventError(
            f"URL {url!r} names no blob",
            where=where,
            cloud=CLOUD,
            expected="https://ACCOUNT.blob.core.windows.net/CONTAINER/KEY",
        )
    return container, key


def from_eventgrid_event(event: Any) -> dict[str, Any]:
    """The Event Grid schema dict of a ``func.EventGridEvent`` (duck-typed)."""
    try:
        data = event.get_json()
    except Exception as exc:
        raise EventError(
            f"the Event Grid event's data is unreadable: {exc}", cloud=CLOUD, expected="JSON data"
        ) from None
    when = getattr(event, "event_time", None)
    return {
        "id": getattr(event, "id", None),
        "topic": getattr(event, "topic", None),
        "subject": getattr(event, "subject", None),
        "eventType": getattr(event, "event_type", None),
        "eventTime": when.isoformat() if isinstance(when, datetime) else when,
        "data": data,
        "dataVersion": getattr(event, "data_version", None),
    }


def from_input_stream(stream: Any) -> StorageEvent:
    """A :class:`StorageEvent` from the v2 blob trigger's ``func.InputStream``, *without*
    reading it: ``.name`` is ``container/path/key`` (not encoded), ``.uri`` the blob URL,
    ``.length`` the size.

    :raises EventError: when neither ``.name`` nor ``.uri`` names a blob.
    """
    name = getattr(stream, "name", None)
    uri = getattr(stream, "uri", None)
    if isinstance(name, str) and "/" in name.strip("/"):
        container, _, key = name.strip("/").partition("/")
    elif isinstance(uri, str) and uri:
        container, key = _split_url(uri, None, "uri")
    else:
        raise EventError(
            "the blob trigger input names no blob",
            cloud=CLOUD,
            expected="an InputStream with .name 'container/key' or .uri",
        )
    length = getattr(stream, "length", None)
    props = getattr(stream, "blob_properties", None)
    etag = normalize_etag(
        props.get("ETag") or props.get("Etag") if isinstance(props, Mapping) else None
    )
    return storage_event(
        CLOUD,
        "az",
        container,
        key,
        where="name",
        size=length if isinstance(length, int) and not isinstance(length, bool) else None,
        etag=etag,
        version=etag,
    )


def from_blob_client(client: Any, properties: Any = None) -> StorageEvent:
    """A :class:`StorageEvent` from an SDK-typed blob binding (``BlobClient``: its
    ``container_name`` and ``blob_name``); size and etag from ``properties`` when given
    (``client.get_blob_properties()``, one request, no download)."""
    container = getattr(client, "container_name", None)
    key = getattr(client, "blob_name", None)
    if not (isinstance(container, str) and container and isinstance(key, str) and key):
        raise EventError(
            "the blob client names no blob",
            cloud=CLOUD,
            expected="a BlobClient with container_name and blob_name",
        )
    size = getattr(properties, "size", None)
    etag = normalize_etag(getattr(properties, "etag", None))
    modified = getattr(properties, "last_modified", None)
    when = modified.isoformat().replace("+00:00", "Z") if isinstance(modified, datetime) else None
    return storage_event(
        CLOUD,
        "az",
        container,
        key,
        where="blob_name",
        event_time=when,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        etag=etag,
        version=etag,
    )


def parse_queue_body(body: Any, where: str = "message") -> list[Event]:
    """The events in one Storage Queue message that Event Grid wrote: the JSON text of one
    event (Event Grid or CloudEvents schema). Text that is not JSON is read as base64
    (what Event Grid writes, when ``host.json`` did not already decode it).

    :raises EventError: the message is not a storage or schedule event.
    """
    if isinstance(body, bytes | bytearray):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise EventError(
                "the message is not UTF-8 text", where=where, cloud=CLOUD, expected=EXPECTED
            ) from None
    if isinstance(body, str) and body.strip() and body.strip()[0] not in "{[":
        import base64
        import binascii

        try:
            body = base64.b64decode(body.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            pass  # not base64 either: let the JSON parser say what is wrong
    return parse_event(decode_json(body, where, CLOUD, what="the JSON of an Event Grid event"))


def from_queue_message(message: Any) -> list[Event]:
    """The events of a queue trigger's ``func.QueueMessage`` (duck-typed: ``get_body()``),
    or of its text."""
    get_body = getattr(message, "get_body", None)
    body = get_body() if callable(get_body) else message
    message_id = getattr(message, "id", None)
    where = f"message {message_id}" if isinstance(message_id, str) and message_id else "message"
    return parse_queue_body(body, where)


def from_timer(timer: Any, pipeline: str) -> ScheduleEvent:
    """A :class:`ScheduleEvent` for ``pipeline`` from a timer trigger's ``func.TimerRequest``
    (the pipeline is named by the function, not by the timer)."""
    if not isinstance(pipeline, str) or not pipeline:
        raise EventError(
            "no pipeline name for the timer",
            cloud=CLOUD,
            expected="from_timer(timer, 'pipeline-name')",
        )
    del timer  # past_due and schedule_status carry nothing a run needs
    return ScheduleEvent(pipeline, event_time=utc_now_iso(), source=CLOUD)
