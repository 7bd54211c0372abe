"""Realistic AWS payloads for one object, shaped like what S3, EventBridge, SQS and SNS
deliver (``hookline events sample --cloud aws``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus

from hookline.adapters._samples import digest, fake_uuid, now_iso, split_uri
from hookline.errors import UsageError

__all__ = ["KINDS", "sample_event", "sample_schedule"]

KINDS = ("s3", "eventbridge", "sqs", "sns", "sqs-sns")
ACCOUNT = "123456789012"


def _s3_notification(
    bucket: str,
    key: str,
    size: int,
    etag: str,
    version_id: str | None,
    event_name: str,
    event_time: str,
    region: str,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        # Form-style URL encoding, as S3 does: space -> '+', '+' -> '%2B'; '/' kept.
        "key": quote_plus(key, safe="/"),
        "size": size,
        "eTag": etag,
        "sequencer": digest(bucket, key, event_time, length=18).upper(),
    }
    if version_id:
        obj["versionId"] = version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": event_time,
                "eventName": event_name,
                "userIdentity": {"principalId": "AWS:AIDAEXAMPLEUSERID"},
                "requestParameters": {"sourceIPAddress": "203.0.113.10"},
                "responseElements": {
                    "x-amz-request-id": digest("req", bucket, key, event_time, length=16).upper(),
                    "x-amz-id-2": digest("id2", bucket, key, event_time, length=64),
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "hookline-landing",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3EXAMPLEOWNER"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": obj,
                },
            }
        ]
    }


def _eventbridge(
    bucket: str,
    key: str,
    size: int,
    etag: str,
    version_id: str | None,
    event_name: str,
    event_time: str,
    region: str,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "key": key,
        "size": size,
        "etag": etag,
        "sequencer": digest(bucket, key, event_time, length=18).upper(),
    }
    if version_id:
        obj["version-id"] = version_id
    reason = event_name.split(":", 1)[1] if ":" in event_name else "PutObject"
    return {
        "version": "0",
        "id": fake_uuid("eb", bucket, key, event_time),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT,
        "time": event_time.replace(".000Z", "Z"),
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": obj,
            "request-id": digest("req", bucket, key, event_time, length=16).upper(),
            "requester": ACCOUNT,
            "source-ip-address": "203.0.113.15",
            "reason": "PutObject" if reason == "Put" else reason,
        },
    }


def _sns_envelope(message: dict[str, Any], event_time: str, region: str) -> dict[str, Any]:
    topic = f"arn:aws:sns:{region}:{ACCOUNT}:hookline-landing"
    return {
        "Type": "Notification",
        "MessageId": fake_uuid("sns", json.dumps(message, sort_keys=True)),
        "TopicArn": topic,
        "Subject": "Amazon S3 Notification",
        "Message": json.dumps(message),
        "Timestamp": event_time,
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQ"
        "vi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GW"
        "B6jI9b5+gLPoBc1Q=",
        "SigningCertURL": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-"
        "0000000000000000000000.pem",
        "UnsubscribeURL": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&"
        f"SubscriptionArn={topic}:{fake_uuid('sub', topic)}",
    }


def _sqs(body: str, event_time: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": fake_uuid("sqs", body),
                "receiptHandle": "AQEB" + digest("rh", body, length=60),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1700000000000",
                    "SenderId": "AIDAEXAMPLESENDER",
                    "ApproximateFirstReceiveTimestamp": "1700000000010",
                },
                "messageAttributes": {},
                "md5OfBody": _md5(body),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{region}:{ACCOUNT}:hookline-landing",
                "awsRegion": region,
            }
        ]
    }


def _md5(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode()).hexdigest()


def sample_event(
    uri: str,
    *,
    kind: str = "s3",
    size: int = 1024,
    etag: str | None = None,
    version_id: str | None = None,
    event_name: str = "ObjectCreated:Put",
    event_time: str | None = None,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """A realistic Lambda payload announcing that the object at ``uri`` was created.

    :param uri: ``s3://bucket/key`` (the key as it is, e.g. ``landing/a b.csv``).
    :param kind: ``s3`` (a direct S3 notification), ``eventbridge``, ``sqs`` (S3 -> SQS),
        ``sns`` (S3 -> SNS -> Lambda) or ``sqs-sns`` (S3 -> SNS -> SQS).
    :param event_name: e.g. ``ObjectCreated:CompleteMultipartUpload``.
    :raises UsageError: for a URI that is not ``s3://bucket/key`` or an unknown kind.
    """
    bucket, key = split_uri(uri, "s3")
    if kind not in KINDS:
        raise UsageError(f"unknown AWS sample kind {kind!r}; choose one of {', '.join(KINDS)}")
    event_time = event_time or now_iso()
    etag = etag or digest("etag", uri, size)
    args = (bucket, key, size, etag, version_id, event_name, event_time, region)
    if kind == "eventbridge":
        return _eventbridge(*args)
    notification = _s3_notification(*args)
    if kind == "s3":
        return notification
    if kind == "sqs":
        return _sqs(json.dumps(notification), event_time, region)
    envelope = _sns_envelope(notification, event_time, region)
    if kind == "sqs-sns":
        return _sqs(json.dumps(envelope), event_time, region)
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{envelope['TopicArn']}:{fake_uuid('sub', bucket)}",
                # Lambda spells these two keys differently from the SQS-delivered envelope
                "Sns": {
                    **{
                        k.replace("CertURL", "CertUrl").replace(
                            "UnsubscribeURL", "UnsubscribeUrl"
                        ): v
                        for k, v in envelope.items()
                    },
                    "MessageAttributes": {},
                },
            }
        ]
    }


def sample_schedule(pipeline: str, *, event_time: str | None = None) -> dict[str, Any]:
    """The EventBridge Scheduler payload hookline's Terraform module configures."""
    event_time = event_time or now_iso()
    return {
        "source": "hookline.schedule",
        "pipeline": pipeline,
        "id": fake_uuid("schedule", pipeline, event_time),
        "time": event_time,
    }
