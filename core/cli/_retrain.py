"""``hookline retrain NAME``: run the training pipeline again on its latest upload and close
the retrain requests that monitoring opened.

Retrain requests are objects at ``monitoring/<model>/retrain/<id>.json`` with
``"status": "open"``, written by a monitor plugin when drift crosses its threshold.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any

from hookline.cli._output import add_config_flag, add_json_flag, print_json
from hookline.errors import NotFound, PreconditionFailed, UsageError
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


def open_requests(storage: Any, model: str) -> list[tuple[str, dict[str, Any], str]]:
    """``(key, request, etag)`` of every open retrain request of ``model``, oldest first."""
    found = []
    for info in storage.list(f"monitoring/{model}/retrain/"):
        try:
            raw, meta = storage.read_with_info(info.key)
        except NotFound:
            continue
        request = json.loads(raw)
        if request.get("status") == "open":
            found.append((info.key, request, meta.etag))
    return found


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
    requests = open_requests(app.storage, args.name)
    token = requests[0][0].rsplit("/", 1)[-1].removesuffix(".json") if requests else utc_now_iso()
    run = app.run_pipeline(pipeline, replace(event, replay=f"retrain:{token}"))
    for key, request, etag in requests:
        request.update(
            status="done", fulfilled_by=run.run_id, fulfilled_at=utc_now_iso(), outcome=run.status
        )
        try:
            app.storage.replace(key, json.dumps(request, indent=2).encode(), etag)
        except PreconditionFailed:
            pass  # someone else closed it meanwhile
    if args.json:
        print_json({"run": run.to_dict(), "closed_requests": [k for k, _, _ in requests]})
        return 1 if run.status == "failed" else 0
    code = _print_results([run], False)
    print(f"closed {len(requests)} retrain request(s)")
    return code
