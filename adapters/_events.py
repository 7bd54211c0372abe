"""What the cloud event parsers share: the error they raise and careful field access.

Parsers are pure functions over JSON-like payloads. Whatever arrives -- a truncated
message, a number where an object was expected, the wrong kind of event -- they answer
with events or with :class:`EventError`, never with a ``KeyError`` or ``TypeError``.
No cloud SDK is imported here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from hookline.errors import HooklineError, InvalidKey
from hookline.events import ScheduleEvent, StorageEvent
from hookline.storage import check_key, object_uri

__all__ = [
    "MAX_ENVELOPE_BYTES",
    "SCHEDULE_SOURCE",
    "EventError",
    "check_depth",
    "checked_bucket",
    "checked_key",
    "decode_json",
    "get_int",
    "get_map",
    "get_str",
    "schedule_event",
    "storage_event",
]

SCHEDULE_SOURCE = "hookline.schedule"
"""The ``source`` (or CloudEvent ``type``) of hookline's own schedule payloads."""

_MAX_NESTING = 4  # SQS(SNS(S3)) is 3 levels; deeper is not a cloud's doing

MAX_ENVELOPE_BYTES = 1024 * 1024
"""The longest JSON text read inside an envelope (an SQS body, an SNS message, a queue
message): 1 MiB, the most an SQS message (or a Storage Queue message) can hold. A storage
event is a few KB; anything longer is refused before it is parsed."""


class EventError(HooklineError):
    """A payload is not an event hookline can run on, or is malformed. Permanent: a
    redelivery fails the same way (``retry`` is false); the command line exits with 2, as
    for any other bad input.

    :param message: what is wrong.
    :param expected: what was expected instead.
    :param where: the path into the payload, e.g. ``Records[0].s3.object.key``.
    :param cloud: ``aws``, ``gcp`` or ``azure``.
    """

    http_status = 400
    exit_code = 2
    retry = False
    title = "not an event"

    def __init__(
        self,
        message: str,
        *,
        expected: str | None = None,
        where: str | None = None,
        cloud: str | None = None,
        hint: str | None = None,
    ) -> None:
        prefix = f"{cloud} event" if cloud else "event"
        text = f"{prefix}: {message}"
        if where:
            text += f" (at {where})"
        if expected:
            text += f"; expected {expected}"
        super().__init__(text, hint=hint)
        self.expected = expected
        self.where = where
        self.cloud = cloud


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def get_map(obj: Any, key: str, where: str, cloud: str, *, required: bool = True) -> Any:
    """``obj[key]`` as a mapping (``None`` when absent and not required)."""
    path = _join(where, key)
    value = obj.get(key) if isinstance(obj, Mapping) else None
    if value is None and not required:
        return None
    if not isinstance(value, Mapping):
        raise EventError(
            f"{_describe(value)} is not an object",
            where=path,
            cloud=cloud,
            expected="a JSON object",
        )
    return value


def get_str(obj: Any, key: str, where: str, cloud: str, *, required: bool = True) -> Any:
    """``obj[key]`` as a non-empty string (``None`` when absent and not required)."""
    path = _join(where, key)
    value = obj.get(key) if isinstance(obj, Mapping) else None
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        what = "missing" if value is None else f"{_describe(value)} is not a non-empty string"
        raise EventError(what, where=path, cloud=cloud, expected="a non-empty string")
    return value


def get_int(obj: Any, key: str, where: str, cloud: str) -> int | None:
    """``obj[key]`` as a non-negative integer; accepts ``"123"`` (GCS sends sizes as
    strings). ``None`` when absent."""
    value = obj.get(key) if isinstance(obj, Mapping) else None
    if value is None:
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and value.strip().isdigit() and value.isascii()
    ):
        number = int(value)
    if number is None or number < 0:
        raise EventError(
            f"{_describe(value)} is not a size",
            where=_join(where, key),
            cloud=cloud,
            expected="a non-negative integer",
        )
    return number


def decode_json(text: Any, where: str, cloud: str, *, what: str = "JSON") -> Any:
    """Parse the JSON text inside an envelope (an SQS body, an SNS message)."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise EventError(
                "bytes are not UTF-8", where=where, cloud=cloud, expected=what
            ) from None
    if not isinstance(text, str):
        raise EventError(f"{_describe(text)} is not text", where=where, cloud=cloud, expected=what)
    if len(text) > MAX_ENVELOPE_BYTES // 4 and len(text.encode("utf-8", "replace")) > (
        MAX_ENVELOPE_BYTES
    ):
        raise EventError(
            f"{len(text.encode('utf-8', 'replace')):,} bytes of text, over the "
            f"{MAX_ENVELOPE_BYTES:,} a message can hold",
            where=where,
            cloud=cloud,
            expected=what,
        )
    if not text.strip():
        raise EventError("empty text", where=where, cloud=cloud, expected=what)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise EventError(
            f"not valid JSON ({exc})", where=where, cloud=cloud, expected=what
        ) from None


def check_depth(depth: int, where: str, cloud: str) -> None:
    if depth > _MAX_NESTING:
        raise EventError(
            "envelopes nested too deeply",
            where=where,
            cloud=cloud,
            expected=f"at most {_MAX_NESTING} levels of SQS/SNS wrapping",
        )


def schedule_event(
    data: Any, where: str, cloud: str, *, event_id: Any = None, event_time: Any = None
) -> ScheduleEvent:
    """A :class:`ScheduleEvent` from ``{"pipeline": NAME, "id"?: ..., "time"?: ...}``."""
    pipeline = get_str(data, "pipeline", where, cloud)
    event_id = event_id if isinstance(event_id, str) and event_id else None
    event_time = event_time if isinstance(event_time, str) and event_time else None
    if isinstance(data, Mapping):
        if event_id is None and isinstance(data.get("id"), str) and data["id"]:
            event_id = data["id"]
        if event_time is None and isinstance(data.get("time"), str) and data["time"]:
            event_time = data["time"]
    kwargs: dict[str, Any] = {"event_id": event_id, "source": cloud}
    if event_time:
        kwargs["event_time"] = event_time
    return ScheduleEvent(pipeline, **kwargs)


def checked_key(key: str, where: str, cloud: str) -> str:
    """``key`` when hookline can store and read it, else :class:`EventError` naming why.

    The same rule as every storage back-end (:func:`hookline.storage.check_key`): no empty,
    absolute or over-long (1,024 bytes) keys, no ``.``/``..``/empty segments, backslashes,
    C0 or C1 control characters or lone surrogates. Refusing them in the parser makes a bad
    key a clear error for that one event (or batch item), before any run is claimed.
    """
    try:
        return check_key(key)
    except InvalidKey as exc:
        shown = repr(key[:120] + ("..." if len(key) > 120 else ""))
        why = exc.message
        if exc.uri and why.endswith(f": {exc.uri}"):
            why = why[: -len(f": {exc.uri}")]
        raise EventError(
            f"object key {shown} cannot be stored: {why}",
            where=where,
            cloud=cloud,
            expected="an object key of at most 1,024 bytes without control characters, "
            "'.', '..' or empty segments",
        ) from None


_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,221}")


def checked_bucket(bucket: str, where: str, cloud: str) -> str:
    """``bucket`` when it can be a bucket or container name, else :class:`EventError`.

    Letters, digits, ``.``, ``-`` and ``_``, starting with a letter or digit, at most 222
    characters: what S3, GCS and Azure allow between them (each is stricter). Anything else
    (``[``, ``/``, ``@``, spaces...) would make the object's URI name another host or path.
    """
    if not _BUCKET.fullmatch(bucket):
        shown = repr(bucket[:80] + ("..." if len(bucket) > 80 else ""))
        raise EventError(
            f"{shown} is not a bucket or container name",
            where=where,
            cloud=cloud,
            expected="letters, digits, '.', '-' and '_' (at most 222)",
        )
    return bucket


def storage_event(
    cloud: str,
    scheme: str,
    bucket: str,
    key: str,
    *,
    where: str,
    key_where: str | None = None,
    event_time: Any = None,
    **fields: Any,
) -> StorageEvent:
    """The :class:`StorageEvent` of one created object -- what every parser returns -- with
    its bucket and key checked (:func:`checked_bucket`, :func:`checked_key`) and its URI
    built by the one rule (:func:`hookline.storage.object_uri`).

    :param where: the path of the object in the payload, for errors.
    :param key_where: the path of the key, when it is not ``where``.
    :param event_time: kept when it is a non-empty string (else the event's default, now).
    :param fields: ``size``, ``etag``, ``version``, ``event_id``.
    """
    checked_bucket(bucket, where, cloud)
    checked_key(key, key_where or where, cloud)
    if isinstance(event_time, str) and event_time:
        fields["event_time"] = event_time
    return StorageEvent(
        uri=object_uri(scheme, bucket, key), bucket=bucket, key=key, source=cloud, **fields
    )
