"""What the clouds' compute backends share: the reconciler's payload and the mapping of
platform failures to hookline's errors. No cloud SDK is imported here.

The reconciler's schedule sends the pipeline function ``{"source": "hookline.reconcile"}``
(EventBridge Scheduler's input, Cloud Scheduler's Pub/Sub message or HTTP body, the Azure
timer), which every cloud's parser turns into a :class:`~hookline.events.ReconcileEvent`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hookline.events import ReconcileEvent

__all__ = ["RECONCILE_SOURCE", "is_reconcile", "reconcile_event", "terminal_reason"]

RECONCILE_SOURCE = "hookline.reconcile"
"""The ``source`` of the reconciler's schedule payload."""


def is_reconcile(payload: Any) -> bool:
    return isinstance(payload, Mapping) and payload.get("source") == RECONCILE_SOURCE


def reconcile_event(
    payload: Mapping[str, Any], cloud: str, *, event_id: Any = None, event_time: Any = None
) -> ReconcileEvent:
    """The :class:`ReconcileEvent` of a reconciler payload (its ``id`` and ``time`` when it
    carries them, else those of the envelope)."""
    event_id = payload.get("id") if isinstance(payload.get("id"), str) else event_id
    event_time = payload.get("time") if isinstance(payload.get("time"), str) else event_time
    kwargs: dict[str, Any] = {"source": cloud}
    if isinstance(event_id, str) and event_id:
        kwargs["event_id"] = event_id
    if isinstance(event_time, str) and event_time:
        kwargs["event_time"] = event_time
    return ReconcileEvent(**kwargs)


def terminal_reason(*parts: Any) -> str:
    """The platform's words about a job's end, joined: ``"Essential container in task
    exited; exit code 137"``; empty and repeated parts are left out."""
    seen: list[str] = []
    for part in parts:
        text = str(part).strip() if part is not None else ""
        if text and text not in seen:
            seen.append(text)
    return "; ".join(seen)
