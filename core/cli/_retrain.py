"""``hookline retrain NAME``: train the model again on its training window plus the new
labelled data monitoring found, and close the retrain requests that monitoring opened.

A retrain is a run of the model's training pipeline on the pipeline's window (without a
``window``: its latest accepted upload) plus every labelled batch the open requests
collected, each read by the object version monitoring recorded. When that is exactly the
data a version was already trained on, nothing is trained (``unchanged``) unless
``--force``: replaying the same bytes would only make the same model again.
"""

from __future__ import annotations

import argparse
import dataclasses

from hookline.cli._output import add_config_flag, add_json_flag, print_json, run_progress
from hookline.errors import UsageError
from hookline.events import ScheduleEvent, utc_now_iso


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "retrain",
        help="retrain a model on its training window plus new labelled data, and close its "
        "open retrain requests",
        description="Train NAME again on its training pipeline's window (else its latest "
        "upload) plus the labelled batches its open retrain requests collected. Exit code: "
        "0 succeeded or unchanged, 3 a gate rejected the model, 1 the run failed.",
    )
    p.add_argument("name", help="the model to retrain")
    p.add_argument("--pipeline", help="the training pipeline (default: the one training NAME)")
    p.add_argument(
        "--force",
        action="store_true",
        help="train even when a version was already trained on exactly this data",
    )
    add_config_flag(p)
    add_json_flag(p)
    p.set_defaults(func=cmd_retrain)


def cmd_retrain(args: argparse.Namespace) -> int:
    from hookline.cli._app import project_from
    from hookline.cli._run import _print_results, exit_code
    from hookline.runner import Hookline
    from hookline.window import Window, WindowEntry

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
    recent = app.runs.page(50, pipeline=pipeline.name).runs
    if not any(s.get("data_ok", s.get("status") in ("succeeded", "rejected")) for s in recent):
        raise UsageError(
            f"pipeline {pipeline.name!r} has no accepted upload to retrain from",
            hint="upload training data first (hookline run FILE)",
        )
    store = app.project.retrain
    requests = store.find(args.name, status="open")
    added = []
    for request in requests:
        for batch in request.doc.get("batches") or []:
            entry = WindowEntry.from_dict(batch) if batch.get("labelled") else None
            if entry is not None and entry not in added:
                added.append(entry)
    if pipeline.window is None:  # the window of a pipeline without one: its latest upload
        pipeline = dataclasses.replace(pipeline, window=Window(uploads=1))
    token = requests[0].id if requests else utc_now_iso()
    event = ScheduleEvent(
        pipeline=pipeline.name, event_id=f"retrain:{token}" + (":force" if args.force else "")
    )
    with run_progress(app.pm, f"retrain {args.name}"):
        run = app.run_pipeline(pipeline, event, force=args.force, added=added)
    # A promotion by the run may already have closed them (the registry plugin does);
    # either way, these are the requests this retrain answered.
    unchanged = bool((run.record or {}).get("unchanged"))
    closed: list[str] = []
    if run.status in ("succeeded", "rejected") and not unchanged:
        store.close_open(args.name, by_run=str(run.run_id), outcome=run.status, requests=requests)
        closed = [r.key for r in requests]
    if args.json:
        print_json(
            {
                "run": run.to_dict(),
                "added": [e.to_dict() for e in added],
                "closed_requests": closed,
            }
        )
        return exit_code([run.status])
    code = _print_results([run], False)
    print(f"new labelled data: {len(added)} batch(es); closed {len(closed)} retrain request(s)")
    if unchanged and requests:
        print(
            f"{len(requests)} retrain request(s) stay open: nothing new to learn from yet "
            "(upload labelled data, or --force)"
        )
    return code
