"""``hookline runs``: list runs and show one run record."""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Mapping
from typing import Any

from hookline.cli._app import project_from
from hookline.cli._output import (
    add_config_flag,
    add_json_flag,
    add_storage_flag,
    print_json,
    print_table,
)
from hookline.cli._parser import number
from hookline.registry import parse_model_ref


def _listing_flags(p: argparse.ArgumentParser) -> None:
    add_config_flag(p)
    add_json_flag(p)
    add_storage_flag(p)
    p.add_argument("--pipeline", help="only this pipeline")
    p.add_argument(
        "--status",
        choices=("succeeded", "rejected", "failed", "interrupted"),
        help="only runs that ended so",
    )
    p.add_argument(
        "--model",
        help="only runs of this model (NAME; NAME/VERSION or NAME@ALIAS: the run that "
        "registered that version)",
    )
    p.add_argument(
        "--limit",
        type=number(int, low=0, what="a count"),
        default=50,
        help="at most this many (default: 50)",
    )
    p.set_defaults(func=cmd_runs)


def register(sub: argparse._SubParsersAction) -> None:
    runs = sub.add_parser("runs", help="list runs, newest first; `runs show RUN_ID` for one")
    _listing_flags(runs)
    runs_sub = runs.add_subparsers(dest="runs_command", metavar="SUBCOMMAND")
    _listing_flags(runs_sub.add_parser("list", help="list runs, newest first (the default)"))
    show = runs_sub.add_parser(
        "show",
        help="print one run record",
        description="Print one run record: what it read, every check with its message, "
        "metrics, deployments, drift, warnings and the error. Exit code 0 whenever the "
        "record is shown, whatever the run's status (1 when there is no such run).",
    )
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
    for line in describe(record):
        print(line)
    return 0  # the record was shown; the run's own outcome is its status


def describe(record: Mapping[str, Any]) -> list[str]:
    """A run record as lines for a person: the outcome first, then why."""
    out = []
    trigger = record.get("trigger") or {}
    out.append(
        f"run        {record['run_id']}  ({record['pipeline']}, model {record.get('model')})"
    )
    out.append(
        f"status     {record['status']}  attempt {record.get('attempt')}  {record.get('seconds')} s"
    )
    out.append(f"trigger    {trigger.get('uri') or trigger.get('pipeline')}")
    out.append(
        f"           version {trigger.get('read_version') or trigger.get('version')}  "
        f"sha256 {trigger.get('sha256')}"
    )
    unchanged = record.get("unchanged")
    if unchanged:
        out.append(
            f"unchanged  {unchanged['model']} v{unchanged['version']} was trained on exactly "
            "this data under this configuration: nothing trained (--force trains again)"
        )
    for source in record.get("sources") or []:
        if source.get("role") == "trigger":
            continue
        if source.get("role") == "left_out":
            out.append(f"left out   {source['uri']}: {source.get('reason')}")
            continue
        out.append(
            f"{source.get('role', 'read'):<10} {source['uri']}  version {source.get('version')}  "
            f"sha256 {str(source.get('sha256'))[:12]}"
        )
    profile = (record.get("data") or {}).get("profile") or {}
    if profile.get("rows") is not None:
        out.append(f"data       {profile['rows']:,} rows x {profile.get('column_count')} columns")
    for stage, info in record.get("stages", {}).items():
        reason = f"  {info['reason']}" if info.get("reason") else ""
        out.append(
            f"stage      {stage:<9} {info.get('status'):<8} {info.get('seconds', '')}{reason}"
        )
    for name, value in record.get("metrics", {}).items():
        spread = ((record.get("card") or {}).get("metrics") or {}).get(name) or {}
        cv = (
            f"  (cv {spread['cv_mean']:.4g} +/- {spread['cv_std']:.2g})"
            if spread.get("cv_mean") is not None
            else ""
        )
        out.append(f"metric     {name} = {value}{cv}")
    for check in record.get("checks", []):
        mark = "pass" if check["passed"] else ("FAIL" if check.get("blocking") else "warn")
        out.append(
            f"check      {mark}  {check['name']}: observed {_short(check['observed'])} "
            f"threshold {_short(check['threshold'])}"
        )
        if check.get("message"):
            out.append(f"             {check['message']}")
    for dep in record.get("deployments", []):
        out.append(
            f"deployed   {dep['model']} v{dep.get('version')} {dep['status']} "
            f"{dep.get('alias') or ''}".rstrip()
        )
    from hookline.runner import monitor_verdict

    for rep in record.get("reports", []):
        details = rep.get("details") or {}
        decayed = (details.get("decay") or {}).get("decayed")
        out.append(
            f"monitor    {rep['name']}: {monitor_verdict(rep)}  drifted={rep.get('drifted')} "
            f"decayed={bool(decayed)} retrain_requested={rep.get('retrain_requested')}"
        )
        drifted = details.get("drifted_features") or [
            f for f, r in (rep.get("features") or {}).items() if r.get("drifted")
        ]
        if drifted:
            out.append(f"drifted    {', '.join(drifted)}")
        for name in drifted:
            r = (rep.get("features") or {}).get(name) or {}
            out.append(
                f"             {name}: psi {_short(r.get('psi'))}, ks p "
                f"{_short(r.get('ks_pvalue_adjusted', r.get('ks_pvalue')))}"
            )
        if details.get("not_enough_rows"):
            out.append(f"untested   {', '.join(details['not_enough_rows'])}: not enough rows")
        for reason in details.get("reasons") or []:
            out.append(f"reason     {reason}")
    notes = dict(record.get("notes") or {})
    for plugin, noted in list(notes.items()):
        if isinstance(noted, Mapping) and isinstance(noted.get("warnings"), list):
            for warning in noted["warnings"]:
                out.append(f"warning    {warning}")
            rest = {k: v for k, v in noted.items() if k != "warnings"}
            if rest:
                notes[plugin] = rest
            else:
                notes.pop(plugin)
    if record.get("error"):
        err = record["error"]
        out.append(f"error      {err['message']}")
        if err.get("hint") and err["hint"] not in err["message"]:
            out.append(f"hint       {err['hint']}")
    if notes:
        out.append(f"notes      {json.dumps(notes)}")
    return out


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."
