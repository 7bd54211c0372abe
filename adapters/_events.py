"""What the cloud event parsers share: the error they raise and careful field access.

Parsers are pure functions over JSON-like payloads. Whatever arrives -- a truncated
message, a number where an object was expected, the wrong kind of event -- they answer
with events or with :class:`EventError`, never with a ``KeyError`` or ``TypeError``.
No cloud SDK is imported here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hookline.adapters._storage import object_uri
from hookline.errors import HooklineError
from hookline.events import ScheduleEvent, StorageEvent

__all__ = [
    "SCHEDULE_SOURCE",
    "EventError",
    "check_depth",
    "decode_json",
    "get_int",
    "get_map",
    "get_str",
    "object_uri",
    "schedule_event",
    "skip_reason",
]

SCHEDULE_SOURCE = "hookline.schedule"
"""The ``source`` (or CloudEvent ``type``) of hookline's own schedule payloads."""

_MAX_NESTING = 4  # SQS(SNS(S3)) is 3 levels; deeper is not a cloud's doing


class EventError(HooklineError):
    """A payload is not an event hookline can run on, or is malformed (permanent: the
    delivery is acknowledged, not retried).

    :param message: what is wrong.
    :param expected: what was expected instead.
    :param where: the path into the payload, e.g. ``Records[0].s3.object.key``.
    :param cloud: ``aws``, ``gcp`` or ``azure``.
    """

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


def skip_reason(event: StorageEvent | ScheduleEvent) -> str | None:
    """Why a runner would skip this event by default, or ``None`` to run it.

    Zero-byte objects (gcsfuse-style writers and ADLS ``CreateFile`` produce an empty
    object before the real one) and folder placeholders (keys ending in ``/``).
    """
    if not isinstance(event, StorageEvent):
        return None
    if event.key.endswith("/"):
        return f"{event.uri} is a folder placeholder"
    if event.size == 0:
        return f"{event.uri} is empty (zero bytes)"
    return None
