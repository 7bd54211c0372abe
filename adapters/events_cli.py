"""``hookline events``: the payloads each cloud delivers, for operators and tests.

* ``hookline events sample --cloud CLOUD --uri URI [--size N] [--kind KIND]`` prints a
  realistic event announcing that the object at ``URI`` was created (like ``sam local
  generate-event``); ``--schedule PIPELINE`` prints a scheduled firing instead.
* ``hookline events parse [--cloud CLOUD] FILE`` prints what the cloud's pipeline function
  sees in a payload (``-`` reads standard input; without ``--cloud`` the installed cloud
  whose delivery the payload looks like). For a delivery the function answers as a whole,
  the events, as JSON; a payload that is not an event exits with status 2 and says what
  was expected. For a batch the function answers item by item (an SQS batch), one result
  per message -- its events, or its error with where it is and whether a retry can help --
  and the function's answer to the platform (``batchItemFailures``) had every event run;
  the command exits with status 2 when any message failed.

The clouds are the installed cloud descriptors (entry-point group ``hookline.clouds``):
this module never switches on a cloud's name. Registered through the ``hookline.commands``
entry point; the descriptors are loaded when the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hookline.cli import number

__all__ = ["cmd_parse", "cmd_sample", "parse_payload", "register"]


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
        description="Print the payload a cloud delivers when the object at URI is created "
        "(--kind: the payload's shape; `hookline events sample --cloud CLOUD --kind list` "
        "lists a cloud's).",
    )
    sample.add_argument("--cloud", required=True, help="aws, gcp, azure (an installed cloud)")
    what = sample.add_mutually_exclusive_group(required=True)
    what.add_argument("--uri", help="the object: s3://BUCKET/KEY, gs://BUCKET/NAME, az://C/KEY")
    what.add_argument("--schedule", metavar="PIPELINE", help="a scheduled firing of PIPELINE")
    sample.add_argument(
        "--size",
        type=number(int, low=0, high=5 * 2**40, what="a size in bytes"),
        default=1024,
        help="object size in bytes",
    )
    sample.add_argument("--kind", help="payload shape (default: the first for the cloud)")
    sample.add_argument("--time", help="event time, ISO 8601 UTC (default: now)")
    sample.add_argument(
        "--event-name",
        help="aws: the S3 event name, e.g. ObjectCreated:CompleteMultipartUpload",
    )
    sample.set_defaults(func=cmd_sample)

    parse = events.add_parser(
        "parse",
        help="print what the cloud's pipeline function sees in a payload, as JSON",
        description="Parse a payload as the cloud's function would: its events, or for a "
        "batch one result per message and the function's answer.",
    )
    parse.add_argument("--cloud", help="the cloud that delivered it (default: inferred)")
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
    """Print a sample payload. :raises UsageError: a bad cloud, URI, kind or size."""
    from hookline.adapters.cloud import get_cloud
    from hookline.errors import UsageError

    cloud = get_cloud(args.cloud)
    if args.kind == "list":
        print("\n".join(cloud.kinds))
        return 0
    kind = args.kind or cloud.kinds[0]
    if kind not in cloud.kinds:
        raise UsageError(
            f"unknown --kind {kind!r} for {cloud.name}", hint=f"one of {', '.join(cloud.kinds)}"
        )
    if args.size < 0:
        raise UsageError(f"--size must be 0 or more, got {args.size}")
    if args.schedule is not None:
        _print(cloud.sample_schedule(args.schedule, event_time=args.time))
        return 0
    options = {"event_name": args.event_name} if args.event_name else {}
    _print(cloud.sample(args.uri, kind=kind, size=args.size, event_time=args.time, **options))
    return 0


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
    except (ValueError, RecursionError) as exc:
        raise UsageError(
            f"{path} is not JSON: {exc}", hint="pass the payload as the function receives it"
        ) from None


def parse_payload(cloud: str, payload: Any) -> list[Any]:
    """The events hookline sees in ``payload`` as ``cloud``'s function would.

    :raises EventError: the payload is not an event, naming what was expected.
    """
    from hookline.adapters.cloud import get_cloud

    return get_cloud(cloud).parse(payload)


def parse_report(cloud_name: str | None, payload: Any) -> tuple[Any, int]:
    """What ``hookline events parse`` prints for ``payload``, and its exit status.

    :raises HooklineError: a delivery answered as a whole is not an event (or no cloud, or
        several, claim the payload).
    """
    from hookline.adapters.cloud import get_cloud, infer_cloud
    from hookline.errors import answer

    cloud = get_cloud(cloud_name) if cloud_name else infer_cloud(payload)
    items = cloud.items(payload)
    if len(items) == 1 and items[0].id is None:  # the delivery is answered as a whole
        [item] = items
        if item.error is not None:
            raise item.error
        return [event.to_dict() for event in item.events], 0
    failed = {str(item.id) for item in items if item.error is not None}
    status = max((answer(item.error).exit_code for item in items if item.error), default=0)
    report = {
        "cloud": cloud.name,
        "items": [item.to_dict() for item in items],
        "answer": cloud.batch_answer(payload, failed),
    }
    return report, status


def cmd_parse(args: argparse.Namespace) -> int:
    """Print the parsed events (or the batch's items); a payload that is not an event, or
    a batch with a message that is not, exits with status 2."""
    from hookline.errors import HooklineError, UsageError

    payload = _read(args.file)
    try:
        report, status = parse_report(args.cloud, payload)
    except UsageError:
        raise
    except HooklineError as exc:  # an EventError: bad input, exit status 2
        raise UsageError(f"{args.file}: {exc.message}", hint=exc.hint) from None
    _print(report)
    return status
