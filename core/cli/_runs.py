"""``hookline runs``: list runs and show one run record."""

from __future__ import annotations

import argparse
import itertools
import json

from hookline.cli._app import project_from
from hookline.cli._output import (
    add_config_flag,
    add_json_flag,
    add_storage_flag,
    print_json,
    print_table,
)
from hookline.registry import parse_model_ref


def _listing_flags(p: argparse.ArgumentParser) -> None:
    add_config_flag(p)
    add_json_flag(p)
    add_storage_flag(p)
    p.add_argument("--pipeline", help="only this pipeline")
    p.add_argument(
        "--status", choices=("succeeded", "rejected", "failed"), help="only runs that ended so"
    )
    p.add_argument(
        "--model",
        help="only runs of this model (NAME; NAME/VERSION or NAME@ALIAS: the run that "
        "registered that version)",
    )
    p.add_argument("--limit", type=int, default=50, help="at most this many (default: 50)")
    p.set_defaults(func=cmd_runs)


def register(sub: argparse._SubParsersAction) -> None:
    runs = sub.add_parser("runs", help="list runs, newest first; `runs show RUN_ID` for one")
    _listing_flags(runs)
    runs_sub = runs.add_subparsers(dest="runs_command", metavar="SUBCOMMAND")
    _listing_flags(runs_sub.add_parser("list", help="list runs, newest first (the default)"))
    show = runs_sub.add_parser("show", help="print one run record")
    show.add_argument("run_id", metavar="RUN_ID", help="the run's id (see `hookline runs`)")
    add_config_flag(show)
    add_json_flag(show)
    add_storage_flag(show)
    show.set_defaults(func=cmd_show)


def cmd_runs(args: argparse.Namespace) -> int:
    project = project_from(args, require_config=False)
    ref = parse_model_ref(args.model) if args.model else None
    version = None if ref is None or ref.bare else project.registry.lookup(ref).version
    found = project.runs.summaries(
        pipeline=args.pipeline, status=args.status, model=ref.name if ref else None
    )
    if version is not None:
        found = (r for r in found if r.get("version") == version)
    rows = list(itertools.islice(found, args.limit))
    if args.json:
        print_json(rows)
    else:
        print_table(
            rows, ["run_id", "pipeline", "status", "started_at", "seconds", "version", "error"]
        )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    record = project_from(args, require_config=False).runs.get(args.run_id)
    assert record is not None
    if args.json:
        print_json(record)
        return 0
    trigger = record.get("trigger") or {}
    print(f"run        {record['run_id']}  ({record['pipeline']}, model {record.get('model')})")
    print(
        f"status     {record['status']}  attempt {record.get('attempt')}  {record.get('seconds')} s"
    )
    print(f"trigger    {trigger.get('uri') or trigger.get('pipeline')}")
    print(
        f"           version {trigger.get('read_version') or trigger.get('version')}  "
        f"sha256 {trigger.get('sha256')}"
    )
    for stage, info in record.get("stages", {}).items():
        print(f"stage      {stage:<9} {info.get('status'):<8} {info.get('seconds', '')}")
    for name, value in record.get("metrics", {}).items():
        print(f"metric     {name} = {value}")
    for check in record.get("checks", []):
        mark = "pass" if check["passed"] else ("FAIL" if check.get("blocking") else "warn")
        print(
            f"check      {mark}  {check['name']}: observed {check['observed']} "
            f"threshold {check['threshold']}"
        )
    for dep in record.get("deployments", []):
        print(
            f"deployed   {dep['model']} v{dep.get('version')} {dep['status']} "
            f"{dep.get('alias') or ''}"
        )
    from hookline.runner import monitor_verdict

    for rep in record.get("reports", []):
        decayed = ((rep.get("details") or {}).get("decay") or {}).get("decayed")
        print(
            f"monitor    {rep['name']}: {monitor_verdict(rep)}  drifted={rep.get('drifted')} "
            f"decayed={bool(decayed)} retrain_requested={rep.get('retrain_requested')}"
        )
    if record.get("error"):
        err = record["error"]
        print(f"error      {err['message']}")
        if err.get("hint") and err["hint"] not in err["message"]:
            print(f"hint       {err['hint']}")
    if not args.json and record.get("notes"):
        print(f"notes      {json.dumps(record['notes'])}")
    return 1 if record["status"] == "failed" else 0
