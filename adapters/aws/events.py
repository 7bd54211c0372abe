"""AWS Lambda payloads -> hookline events. Pure functions: no AWS SDK is imported.

One Lambda handler receives everything, so :func:`classify` tells the payloads apart and
:func:`parse_event` turns the storage and schedule ones into events:

* S3 notifications (``Records[].s3``): every ``ObjectCreated:*`` counts -- large files
  arrive as ``CompleteMultipartUpload``, not ``Put``; keys are URL-encoded form-style
  (space -> ``+``) and are decoded exactly once with ``unquote_plus``; one delivery may
  hold several records; ``s3:TestEvent`` and non-create records are ignored.
* EventBridge ``Object Created`` events from S3 (keys are *not* URL-encoded there).
* Either of them wrapped in SQS (``Records[].body``) or SNS (``Records[].Sns.Message``),
  including SNS delivered through SQS.
* Schedules: an EventBridge Scheduler payload ``{"source": "hookline.schedule",
  "pipeline": NAME}`` or a plain EventBridge ``Scheduled Event`` with ``detail.pipeline``.
* HTTP events (API Gateway v1/v2, Function URLs, ALB) are classified ``"http"`` so the
  handler hands them to the serving app (mangum) -- and only those.
* Run offload: AWS Batch and SageMaker job-state events become
  :class:`~hookline.events.JobEvent` (:mod:`hookline.adapters.aws.compute`), and the
  reconciler's schedule ``{"source": "hookline.reconcile"}`` a ``ReconcileEvent``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from hookline.adapters._jobs import is_reconcile, reconcile_event
from hookline.adapters.aws._samples import KINDS, sample_event, sample_schedule
from hookline.adapters.aws.compute import classify_job_event, job_event
from hookline.adapters.cloud import (
    SCHEDULE_SOURCE,
    EventError,
    Item,
    check_depth,
    decode_json,
    get_int,
    get_map,
    get_str,
    schedule_event,
    storage_event,
)
from hookline.errors import HooklineError
from hookline.events import Event

__all__ = [
    "KINDS",
    "EventError",
    "classify",
    "parse_event",
    "sample_event",
    "sample_schedule",
    "sqs_message_id",
    "sqs_messages",
]

CLOUD = "aws"
EXPECTED = (
    "an S3 notification (Records[].s3), an EventBridge 'Object Created' event from S3, "
    "an SQS or SNS message wrapping one, or a schedule "
    '{"source": "hookline.schedule", "pipeline": NAME}'
)


def classify(payload: Any) -> str:
    """What kind of Lambda payload this is, without parsing it fully.

    :returns: ``"storage"`` (S3 notification), ``"sqs"``, ``"sns"``, ``"eventbridge"``
        (an S3 event via EventBridge), ``"schedule"``, ``"job"`` (a Batch or SageMaker
        job-state event), ``"reconcile"``, ``"http"`` (API Gateway v1/v2,
        Function URL, ALB, CloudFront: for mangum), ``"test"`` (``s3:TestEvent``) or
        ``"unknown"``. Never raises.
    """
    if not isinstance(payload, Mapping):
        return "unknown"
    records = payload.get("Records")
    if isinstance(records, list) and records:
        first = records[0] if isinstance(records[0], Mapping) else {}
        source = first.get("eventSource") or first.get("EventSource")
        if source == "aws:s3" or ("s3" in first and "eventName" in first):
            return "storage"
        if source == "aws:sqs":
            return "sqs"
        if source == "aws:sns" or "Sns" in first:
            return "sns"
        if "cf" in first:
            return "http"  # Lambda@Edge
        return "unknown"
    if payload.get("Event") == "s3:TestEvent":
        return "test"
    if payload.get("source") == SCHEDULE_SOURCE:
        return "schedule"
    if classify_job_event(payload) is not None:
        return "job"
    if is_reconcile(payload):
        return "reconcile"
    detail_type = payload.get("detail-type")
    if detail_type == "Scheduled Event":
        return "schedule"
    if payload.get("source") == "aws.s3" and isinstance(detail_type, str):
        return "eventbridge"
    if payload.get("Type") in ("Notification", "SubscriptionConfirmation"):
        return "sns"  # an SNS envelope (delivered raw, e.g. as an SQS body)
    context = payload.get("requestContext")
    if "httpMethod" in payload or (
        isinstance(context, Mapping) and ("http" in context or "elb" in context)
    ):
        return "http"
    if payload.get("version") == "2.0" and "routeKey" in payload:
        return "http"
    return "unknown"


def parse_event(payload: Any) -> list[Event]:
    """The storage and schedule events in one Lambda payload.

    :returns: one :class:`StorageEvent` per created object (in delivery order), a
        :class:`ScheduleEvent`, or ``[]`` for deliveries that carry nothing to run
        (``s3:TestEvent``, deletions and other non-create notifications).
    :raises EventError: for HTTP events (they belong to the serving app), for payloads
        that are none of the above, and for malformed ones; it names what was expected.
    """
    return _parse(payload, "", 0)


def _parse(payload: Any, where: str, depth: int) -> list[Event]:
    check_depth(depth, where or "payload", CLOUD)
    kind = classify(payload)
    if kind == "storage":
        return [
            e
            for i, r in enumerate(payload["Records"])
            for e in _s3_record(r, f"{where}Records[{i}]")
        ]
    if kind == "sqs":
        events: list[Event] = []
        for i, record in enumerate(payload["Records"]):
            path = f"{where}Records[{i}].body"
            body = get_str(record, "body", f"{where}Records[{i}]", CLOUD)
            events += _parse(decode_json(body, path, CLOUD), f"{path}:", depth + 1)
        return events
    if kind == "sns":
        if "Records" not in payload:
            return _sns_envelope(payload, where, depth)
        events = []
        for i, record in enumerate(payload["Records"]):
            sns = get_map(record, "Sns", f"{where}Records[{i}]", CLOUD)
            events += _sns_envelope(sns, f"{where}Records[{i}].Sns", depth)
        return events
    if kind == "eventbridge":
        return _eventbridge(payload, where)
    if kind == "schedule":
        return [_schedule(payload, where)]
    if kind == "job":
        return [job_event(payload, where)]
    if kind == "reconcile":
        return [reconcile_event(payload, CLOUD)]
    if kind == "test":
        return []
    if kind == "http":
        raise EventError(
            "an HTTP request is not a storage or schedule event",
            where=where or None,
            cloud=CLOUD,
            expected=EXPECTED,
            hint="route HTTP events to the serving app (classify() == 'http')",
        )
    what = "not a JSON object" if not isinstance(payload, Mapping) else "unrecognised payload"
    keys = ", ".join(sorted(map(str, payload))[:8]) if isinstance(payload, Mapping) else ""
    raise EventError(
        f"{what}{f' (keys: {keys})' if keys else ''}",
        where=where or None,
        cloud=CLOUD,
        expected=EXPECTED,
    )


def _sns_envelope(sns: Mapping[str, Any], where: str, depth: int) -> list[Event]:
    if sns.get("Type") == "SubscriptionConfirmation":
        return []  # HTTP(S) subscriptions only; Lambda and SQS subscriptions never see it
    message = get_str(sns, "Message", where, CLOUD)
    return _parse(decode_json(message, f"{where}.Message", CLOUD), f"{where}.Message:", depth + 1)


def _s3_record(record: Any, where: str) -> list[Event]:
    if not isinstance(record, Mapping):
        raise EventError(
            "a record is not an object", where=where, cloud=CLOUD, expected="an S3 event record"
        )
    name = get_str(record, "eventName", where, CLOUD)
    if not name.removeprefix("s3:").startswith("ObjectCreated:"):
        return []  # ObjectRemoved, Restore, Replication...: nothing to run
    s3 = get_map(record, "s3", where, CLOUD)
    bucket = get_str(
        get_map(s3, "bucket", f"{where}.s3", CLOUD), "name", f"{where}.s3.bucket", CLOUD
    )
    obj = get_map(s3, "object", f"{where}.s3", CLOUD)
    raw_key = get_str(obj, "key", f"{where}.s3.object", CLOUD)
    key = unquote_plus(raw_key)  # exactly once: '+' is a space, '%2B' a plus
    return [
        storage_event(
            CLOUD,
            "s3",
            bucket,
            key,
            where=f"{where}.s3.bucket.name",
            key_where=f"{where}.s3.object.key",
            event_time=record.get("eventTime"),
            size=get_int(obj, "size", f"{where}.s3.object", CLOUD),
            etag=get_str(obj, "eTag", f"{where}.s3.object", CLOUD, required=False),
            version=get_str(obj, "versionId", f"{where}.s3.object", CLOUD, required=False),
            event_id=get_str(obj, "sequencer", f"{where}.s3.object", CLOUD, required=False),
        )
    ]


def _eventbridge(payload: Mapping[str, Any], where: str) -> list[Event]:
    if payload.get("detail-type") != "Object Created":
        return []  # Object Deleted, Object Restore ...: nothing to run
    detail = get_map(payload, "detail", where, CLOUD)
    bucket = get_str(
        get_map(detail, "bucket", f"{where}detail", CLOUD), "name", f"{where}detail.bucket", CLOUD
    )
    path = f"{where}detail.object"
    obj = get_map(detail, "object", f"{where}detail", CLOUD)
    key = get_str(obj, "key", path, CLOUD)  # not URL-encoded in EventBridge events
    return [
        storage_event(
            CLOUD,
            "s3",
            bucket,
            key,
            where=f"{where}detail.bucket.name",
            key_where=f"{path}.key",
            event_time=payload.get("time"),
            size=get_int(obj, "size", path, CLOUD),
            etag=get_str(obj, "etag", path, CLOUD, required=False),
            version=get_str(obj, "version-id", path, CLOUD, required=False),
            event_id=(
                get_str(obj, "sequencer", path, CLOUD, required=False)
                or get_str(payload, "id", where, CLOUD, required=False)
            ),
        )
    ]


def _schedule(payload: Mapping[str, Any], where: str) -> Event:
    if payload.get("source") == SCHEDULE_SOURCE:
        return schedule_event(payload, where, CLOUD)
    detail = payload.get("detail")
    if not isinstance(detail, Mapping) or "pipeline" not in detail:
        raise EventError(
            "a scheduled event without a pipeline name",
            where=f"{where}detail.pipeline",
            cloud=CLOUD,
            expected='detail {"pipeline": NAME}',
            hint='give the rule a constant input {"source": "hookline.schedule", '
            '"pipeline": "NAME"}, or use EventBridge Scheduler with that payload',
        )
    return schedule_event(
        detail, f"{where}detail", CLOUD, event_id=payload.get("id"), event_time=payload.get("time")
    )


def sqs_message_id(record: Any, index: int) -> str:
    """The id that names record ``index`` of an SQS batch in ``batchItemFailures``: its
    ``messageId``, else its index."""
    message_id = record.get("messageId") if isinstance(record, Mapping) else None
    return message_id if isinstance(message_id, str) and message_id else str(index)


def sqs_messages(payload: Any) -> list[Item]:
    """Parse an SQS batch message by message, so one bad message does not sink the others.

    :returns: one :class:`~hookline.adapters.cloud.Item` per record: its ``messageId`` (the
        ``itemIdentifier`` of ``batchItemFailures``; the record's index when it has none),
        its events, or why it cannot be run.
    :raises EventError: when ``payload`` is not an SQS batch at all.
    """
    if classify(payload) != "sqs":
        raise EventError("not an SQS batch", cloud=CLOUD, expected="Records[] from aws:sqs")
    out = []
    for i, record in enumerate(payload["Records"]):
        where = f"Records[{i}]"
        message_id = sqs_message_id(record, i)
        try:
            body = get_str(record, "body", where, CLOUD)
            path = f"{where}.body"
            events = _parse(decode_json(body, path, CLOUD), f"{path}:", 1)
            out.append(Item(message_id, where, tuple(events)))
        except HooklineError as exc:
            out.append(Item(message_id, where, error=exc))
    return out
