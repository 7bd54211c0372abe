"""``hookline events``: the payloads each cloud delivers, for operators and tests.

* ``hookline events sample --cloud aws|gcp|azure --uri URI [--size N] [--kind KIND]``
  prints a realistic event announcing that the object at ``URI`` was created (like
  ``sam local generate-event``); ``--schedule PIPELINE`` prints a scheduled firing instead.
* ``hookline events parse --cloud aws|gcp|azure FILE`` prints, as JSON, the events hookline
  sees in a payload (``-`` reads standard input). A GCP binary-mode sample
  (``{"headers": {...}, "data": {...}}``) is parsed as the headers and body it stands for.
  A payload that is not an event exits with status 2 and says what was expected.

Registered through the ``hookline.commands`` entry point; the adapters are imported when
the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["KINDS", "cmd_parse", "cmd_sample", "register"]

CLOUDS = ("aws", "gcp", "azure")
KINDS: Mapping[str, tuple[str, ...]] = {
    "aws": ("s3", "eventbridge", "sqs", "sns", "sqs-sns"),
    "gcp": ("structured", "binary"),
    "azure": ("eventgrid", "cloudevents"),
}
"""Payload shapes per cloud; the first is the default."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "events",
        help="print sample cloud events, or the events hookline sees in a payload",
        description="Sample and parse the storage and schedule events each cloud delivers.",
    )
    events = p.add_subparsers(dest="events_command", metavar="ACTION")

    sample = events.add_parser(
        "sample",
        help="print a realistic event for an object (or a schedule firing)",
        description="Print the payload a cloud delivers when the object at URI is created. "
        + "; ".join(f"--kind for {c}: {', '.join(k)}" for c, k in KINDS.items()),
    )
    sample.add_argument(
        "--cloud", required=True, choices=CLOUDS, help="the cloud whose payload to write"
    )
    what = sample.add_mutually_exclusive_group(required=True)
    what.add_argument("--uri", help="the object: s3://BUCKET/KEY, gs://BUCKET/NAME, az://C/KEY")
    what.add_argument("--schedule", metavar="PIPELINE", help="a scheduled firing of PIPELINE")
    sample.add_argument("--size", type=int, default=1024, help="object size in bytes")
    sample.add_argument("--kind", help="payload shape (default: the first for the cloud)")
    sample.add_argument("--time", help="event time, ISO 8601 UTC (default: now)")
    sample.add_argument(
        "--event-name",
        default="ObjectCreated:Put",
        help="aws: the S3 event name, e.g. ObjectCreated:CompleteMultipartUpload",
    )
    sample.set_defaults(func=cmd_sample)

    parse = events.add_parser(
        "parse",
        help="print the events hookline sees in a payload, as JSON",
        description="Parse a payload as the cloud's function would and print the events.",
    )
    parse.add_argument(
        "--cloud", required=True, choices=CLOUDS, help="the cloud the payload came from"
    )
    parse.add_argument("file", metavar="FILE", help="a JSON payload ('-': standard input)")
    parse.set_defaults(func=cmd_parse)

    def usage(args: argparse.Namespace) -> int:
        p.print_help(sys.stderr)
        return 2

    p.set_defaults(func=usage)


def _print(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def cmd_sample(args: argparse.Namespace) -> int:
    """Print a sample payload. :raises UsageError: a bad URI, kind or size."""
    from hookline.errors import UsageError

    kinds = KINDS[args.cloud]
    kind = args.kind or kinds[0]
    if kind not in kinds:
        raise UsageError(
            f"unknown --kind {kind!r} for {args.cloud}", hint=f"one of {', '.join(kinds)}"
        )
    if args.size < 0:
        raise UsageError(f"--size must be 0 or more, got {args.size}")
    if args.schedule is not None:
        _print(_schedule_sample(args.cloud, args.schedule, args.time))
        return 0
    if args.cloud == "aws":
        from hookline.adapters.aws.events import sample_event as aws_sample

        payload = aws_sample(
            args.uri, kind=kind, size=args.size, event_name=args.event_name, event_time=args.time
        )
    elif args.cloud == "gcp":
        from hookline.adapters.gcp.events import sample_event as gcp_sample

        payload = gcp_sample(args.uri, mode=kind, size=args.size, event_time=args.time)
    else:
        from hookline.adapters.azure.events import sample_event as azure_sample

        payload = azure_sample(args.uri, schema=kind, size=args.size, event_time=args.time)
    _print(payload)
    return 0


def _schedule_sample(cloud: str, pipeline: str, when: str | None) -> dict[str, Any]:
    if cloud == "aws":
        from hookline.adapters.aws._samples import sample_schedule

        return sample_schedule(pipeline, event_time=when)
    if cloud == "gcp":
        from hookline.adapters.gcp._samples import sample_schedule as gcp_schedule

        return gcp_schedule(pipeline, event_time=when)
    from hookline.adapters._samples import fake_uuid, now_iso

    when = when or now_iso()
    return {  # the Azure timer has no payload; this is the Event Grid form hookline reads
        "id": fake_uuid("schedule", pipeline, when),
        "topic": "hookline",
        "subject": f"schedules/{pipeline}",
        "eventType": "hookline.schedule",
        "eventTime": when,
        "data": {"pipeline": pipeline},
        "dataVersion": "1",
    }


def _read(path: str) -> Any:
    from hookline.errors import UsageError

    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text: {exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(
            f"{path} is not JSON: {exc}", hint="pass the payload as the function receives it"
        ) from None


def parse_payload(cloud: str, payload: Any) -> list[Any]:
    """The events hookline sees in ``payload`` as ``cloud``'s function would.

    :raises EventError: the payload is not an event, naming what was expected.
    """
    if cloud == "aws":
        from hookline.adapters.aws.events import parse_event as aws_parse

        return aws_parse(payload)
    if cloud == "gcp":
        from hookline.adapters.gcp.events import parse_event as gcp_parse

        if isinstance(payload, Mapping) and set(payload) == {"headers", "data"}:
            return gcp_parse(payload["data"], payload["headers"])  # a binary-mode sample
        return gcp_parse(payload)
    from hookline.adapters.azure.events import parse_event as azure_parse

    return azure_parse(payload)


def cmd_parse(args: argparse.Namespace) -> int:
    """Print the parsed events; a payload that is not an event exits with status 2."""
    from hookline.adapters._events import EventError
    from hookline.errors import UsageError

    payload = _read(args.file)
    try:
        events = parse_payload(args.cloud, payload)
    except EventError as exc:
        raise UsageError(f"{args.file}: {exc.message}", hint=exc.hint) from None
    _print([event.to_dict() for event in events])
    return 0
