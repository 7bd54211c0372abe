"""``hookline retrain NAME``: run the training pipeline again on its latest upload and close
the retrain requests that monitoring opened.

Retrain requests (:mod:`hookline.retrain`) are written by a monitor plugin when drift
crosses its threshold.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from hookline.cli._output import add_config_flag, add_json_flag, print_json
from hookline.errors import UsageError
from hookline.events import StorageEvent, event_from_dict, utc_now_iso


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "retrain",
        help="retrain a model on its latest training upload and close its open retrain requests",
    )
    p.add_argument("name", help="the model to retrain")
    p.add_argument("--pipeline", help="the training pipeline (default: the one training NAME)")
    add_config_flag(p)
    add_json_flag(p)
    p.set_defaults(func=cmd_retrain)


def cmd_retrain(args: argparse.Namespace) -> int:
    from hookline.cli._app import project_from
    from hookline.cli._run import _print_results
    from hookline.runner import Hookline

    app = Hookline(project_from(args))
    trainers = [
        p
        for p in app.config.pipelines.values()
        if p.model == args.name and p.trains and (not args.pipeline or p.name == args.pipeline)
    ]
    if not trainers:
        raise UsageError(
            f"no training pipeline for model {args.name!r}",
            hint="pipelines training it need 'train' in their stages",
        )
    pipeline = trainers[0]
    latest = next(
        (
            s
            for s in app.runs.summaries(pipeline=pipeline.name)
            if s.get("status") in ("succeeded", "rejected")
        ),
        None,
    )
    if latest is None:
        raise UsageError(
            f"pipeline {pipeline.name!r} has no completed run to retrain from",
            hint="upload training data first (hookline run FILE)",
        )
    record = app.runs.get(str(latest["run_id"]))
    assert record is not None
    trigger = record["trigger"]
    if trigger.get("type") != "storage":
        raise UsageError(f"the latest run of {pipeline.name!r} was not triggered by an upload")
    event = event_from_dict(
        {k: v for k, v in trigger.items() if k == "type" or k in StorageEvent.__dataclass_fields__}
    )
    assert isinstance(event, StorageEvent)
    store = app.project.retrain
    requests = store.find(args.name, status="open")
    token = requests[0].id if requests else utc_now_iso()
    run = app.run_pipeline(pipeline, replace(event, replay=f"retrain:{token}"))
    # A promotion by the run may already have closed them (the registry plugin does);
    # either way, these are the requests this retrain answered.
    store.close_open(args.name, by_run=str(run.run_id), outcome=run.status, requests=requests)
    closed = [r.key for r in requests]
    if args.json:
        print_json({"run": run.to_dict(), "closed_requests": closed})
        return 1 if run.status == "failed" else 0
    code = _print_results([run], False)
    print(f"closed {len(closed)} retrain request(s)")
    return code
