"""``hookline job``: the job side of run offload, and its operator's view.

* ``hookline job run`` -- what a job image runs: the dispatched run named by
  ``--run-id`` (default ``$HOOKLINE_RUN_ID``), attempt ``--attempt``
  (``$HOOKLINE_ATTEMPT``), from image ``$HOOKLINE_IMAGE_DIGEST``; with neither and
  ``$HOOKLINE_COMPUTE_BACKEND`` naming a queue-started backend (``container-apps-job``),
  the run the next queue message names. Exit 0 when the run is
  recorded (succeeded, rejected, or already done), 1 when it failed, 2 when the job
  refused to run (its configuration or image is not the dispatch's), 75 on a transient
  failure (the platform's job fails and the pipeline dispatches the next attempt).
* ``hookline job reconcile`` -- one pass of the reconciler over the jobs in flight.
* ``hookline job show RUN_ID`` -- the run's dispatch record.

A job ignores any other argument after ``run`` (SageMaker appends ``train``).
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from hookline.cli._app import project_from
from hookline.cli._output import add_config_flag, add_json_flag, print_json, print_table
from hookline.cli._parser import number
from hookline.errors import UsageError

if TYPE_CHECKING:
    from hookline.runner import Hookline


def register(sub: argparse._SubParsersAction) -> None:
    job = sub.add_parser("job", help="run a dispatched run inside its job; reconcile jobs")
    job_sub = job.add_subparsers(dest="job_command", metavar="")
    run = job_sub.add_parser("run", help="run the dispatched run this job was submitted for")
    add_config_flag(run)
    add_json_flag(run)
    run.add_argument("--run-id", default=None, help="default: $HOOKLINE_RUN_ID")
    run.add_argument(
        "--attempt",
        type=number(int, low=1, high=1_000_000, what="an attempt number"),
        default=None,
        help="default: $HOOKLINE_ATTEMPT",
    )
    run.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    run.set_defaults(func=cmd_run)
    rec = job_sub.add_parser("reconcile", help="close jobs that ended, stalled or never started")
    add_config_flag(rec)
    add_json_flag(rec)
    rec.set_defaults(func=cmd_reconcile)
    show = job_sub.add_parser("show", help="print a run's dispatch record")
    add_config_flag(show)
    show.add_argument("run_id", help="the run whose dispatch record to print")
    show.set_defaults(func=cmd_show)

    def usage(args: argparse.Namespace) -> int:
        job.print_help()
        return 2

    job.set_defaults(func=usage)


def _app(args: argparse.Namespace) -> Hookline:
    from hookline.runner import Hookline

    return Hookline(project_from(args))


def cmd_run(args: argparse.Namespace) -> int:
    run_id = args.run_id or os.environ.get("HOOKLINE_RUN_ID")
    backend = os.environ.get("HOOKLINE_COMPUTE_BACKEND")
    if not run_id and not backend:
        raise UsageError(
            "no run to run",
            hint="pass --run-id or set HOOKLINE_RUN_ID (a queue-started job sets "
            "HOOKLINE_COMPUTE_BACKEND instead)",
        )
    attempt = args.attempt
    if attempt is None and os.environ.get("HOOKLINE_ATTEMPT", "").isdigit():
        attempt = int(os.environ["HOOKLINE_ATTEMPT"])
    app = _app(args)
    if run_id:
        result = app.offload.run_job(
            run_id, attempt=attempt, image_digest=os.environ.get("HOOKLINE_IMAGE_DIGEST") or None
        )
    else:
        assert backend is not None
        result = app.offload.run_received(backend, pipeline=os.environ.get("HOOKLINE_PIPELINE"))
        run_id = result.run_id or "-"
    if args.json:
        print_json(result.to_dict())
    else:
        print(f"{result.status:<11} {result.pipeline or '-':<12} {run_id}  {result.message}")
    if result.status != "failed":
        return 0
    error = (result.record or {}).get("error") or {}
    return 2 if error.get("type") == "DispatchMismatch" else 1


def cmd_reconcile(args: argparse.Namespace) -> int:
    results = _app(args).offload.reconcile()
    rows = [r.to_dict() for r in results]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["status", "pipeline", "run_id", "message"])
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from hookline.errors import NotFound

    doc = _app(args).offload.dispatch_record(args.run_id)
    if doc is None:
        raise NotFound(f"run {args.run_id!r} was never dispatched to a job")
    print_json(doc)
    return 0
