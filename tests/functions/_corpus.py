"""A corpus of Lambda payloads for the pipeline function: the real-shaped fixtures, and SQS
batches that mix good messages with bad ones -- bodies that are not JSON, empty, blank or
over 1 MiB; JSON that is no event; object keys with C0 or C1 control characters, a lone
surrogate, 2,000 bytes or a '..' segment; records that are not objects or have no id --
on standard and FIFO queues. ``hookline events parse`` and the handler must agree on all
of it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from hookline.adapters.aws.events import sample_event

FIXTURES = Path(__file__).parents[1] / "fixtures" / "events" / "aws"
STANDARD = "arn:aws:sqs:us-east-1:123456789012:landing"
FIFO = "arn:aws:sqs:us-east-1:123456789012:landing.fifo"


def s3_body(key: str, *, encode: bool = True) -> str:
    """The body S3 writes to SQS for ``key`` (form-encoded, as S3 does, or raw JSON)."""
    notification = sample_event("s3://bkt/landing/train/x.csv", event_time="2024-05-14T09:21:37Z")
    obj = notification["Records"][0]["s3"]["object"]
    obj["key"] = quote_plus(key, safe="/") if encode else key
    return json.dumps(notification)


def eventbridge_body(key: str) -> str:
    event = sample_event(
        "s3://bkt/landing/train/x.csv", kind="eventbridge", event_time="2024-05-14T09:21:37Z"
    )
    event["detail"]["object"]["key"] = key  # EventBridge keys are not encoded
    return json.dumps(event)


GOOD = s3_body("landing/train/good.csv")
BAD_BODIES: dict[str, Any] = {
    "not-json": "{not json",
    "empty": "",
    "blank": "  \n ",
    "oversized": json.dumps({"Records": [], "padding": "x" * (1024 * 1024 + 16)}),
    "number": 42,
    "missing": None,
    "json-not-an-event": json.dumps({"hello": "world"}),
    "c0-key": s3_body("landing/train/a\x00b.csv"),
    "c1-key": s3_body("landing/train/a\x85b.csv"),
    "lone-surrogate-key": s3_body("landing/train/a\ud800b.csv", encode=False),
    "lone-surrogate-eventbridge": eventbridge_body("landing/train/\udfffx.csv"),
    "2000-byte-key": s3_body("landing/train/" + "k" * 2000 + ".csv"),
    "dot-dot-key": s3_body("landing/../../etc/passwd"),
    "empty-key": s3_body(""),
    "bracketed-bucket": s3_body("landing/train/x.csv").replace('"name": "bkt"', '"name": "[::1]"'),
}
FINE_BODIES: dict[str, str] = {
    "good": GOOD,
    "test-event": json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
    "eventbridge": eventbridge_body("landing/train/eb é+1.csv"),
    "odd-key": s3_body("landing/train/a b+c 100% é.csv"),
    "schedule": json.dumps({"source": "hookline.schedule", "pipeline": "monitor"}),
}


def record(body: Any, message_id: str | None, arn: str = STANDARD) -> Any:
    out: dict[str, Any] = {
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "us-east-1",
    }
    if message_id is not None:
        out["messageId"] = message_id
    if body is not None:
        out["body"] = body
    return out


def batch(*bodies: Any, arn: str = STANDARD) -> dict[str, Any]:
    return {"Records": [record(b, f"m-{i}", arn) for i, b in enumerate(bodies)]}


def corpus() -> dict[str, Any]:
    """Every payload, by name."""
    out: dict[str, Any] = {
        f"fixture:{p.stem}": json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))
    }
    for name, bad in BAD_BODIES.items():
        out[f"sqs:{name}"] = batch(GOOD, bad, FINE_BODIES["odd-key"])
        out[f"fifo:{name}"] = batch(GOOD, bad, GOOD, arn=FIFO)
    out["sqs:all-fine"] = batch(*FINE_BODIES.values())
    out["sqs:all-bad"] = batch(*BAD_BODIES.values())
    out["sqs:mixed"] = batch(
        *[v for pair in zip(BAD_BODIES.values(), FINE_BODIES.values()) for v in pair]
    )
    odd = batch(GOOD, "{", GOOD)
    odd["Records"].insert(1, "not a record")  # a record that is not an object
    del odd["Records"][3]["messageId"]  # and one without an id (named by its index)
    out["sqs:odd-records"] = odd
    sqs = json.loads((FIXTURES / "sqs_s3.json").read_text())
    broken = copy.deepcopy(sqs)
    broken["Records"][0]["body"] = broken["Records"][0]["body"][:-7]  # cut short
    out["sqs:fixture-cut-short"] = broken
    return out
