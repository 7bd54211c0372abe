"""``hookline run`` and ``hookline watch``: the local twins of a storage trigger."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from hookline.cli._app import event_for, project_from
from hookline.cli._output import add_config_flag, add_json_flag, print_json, progress
from hookline.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser(
        "run",
        help="upload data files to a pipeline's landing prefix and "
        "run the pipeline on them, as a storage trigger would",
    )
    add_config_flag(run)
    add_json_flag(run)
    run.add_argument(
        "--pipeline",
        "-p",
        help="pipeline to land the files for (default: the first pipeline with a trigger)",
    )
    run.add_argument(
        "files", nargs="+", metavar="DATA_FILE", help="the files to land (CSV, Parquet, JSON lines)"
    )
    run.set_defaults(func=cmd_run)

    watch = sub.add_parser(
        "watch",
        help="watch the landing prefixes and run the pipeline on every new object (Ctrl-C stops)",
    )
    add_config_flag(watch)
    watch.add_argument("--interval", type=float, default=1.0, help="seconds between scans")
    watch.add_argument("--once", action="store_true", help="process what is there now, then exit")
    watch.set_defaults(func=cmd_watch)


def _print_results(results: Sequence[object], as_json: bool) -> int:
    from hookline.runner import RunResult

    failed = False
    rows = []
    for r in results:
        assert isinstance(r, RunResult)
        failed |= r.status == "failed"
        rows.append(r.to_dict())
        if not as_json:
            print(f"{r.status:<11} {r.pipeline or '-':<12} {r.run_id or '-'}  {r.message}")
    if as_json:
        print_json(rows)
    return 1 if failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    from hookline.runner import Hookline

    project = project_from(args)
    config = project.config
    missing = [f for f in args.files if not os.path.isfile(f)]
    if missing:
        raise UsageError(f"data file not found: {', '.join(missing)}")
    triggered = [p for p in config.pipelines.values() if p.trigger is not None]
    if args.pipeline:
        pipeline = config.pipelines.get(args.pipeline)
        if pipeline is None or pipeline.trigger is None:
            raise UsageError(
                f"no pipeline {args.pipeline!r} with a trigger",
                hint=f"pipelines: {', '.join(p.name for p in triggered)}",
            )
    elif triggered:
        pipeline = triggered[0]
    else:
        raise UsageError("no pipeline has a trigger to land files for")
    trigger = pipeline.trigger
    assert trigger is not None
    app = Hookline(project)
    landing = project.landing(pipeline.name)
    results = []
    for path in args.files:
        name = os.path.basename(path)
        key = trigger.prefix + name
        if not trigger.matches_key(key):
            raise UsageError(
                f"{path}: pipeline {pipeline.name!r} only takes keys ending in "
                f"{', '.join(trigger.suffixes)}"
            )
        with open(path, "rb") as fh:
            info = landing.upload(key, fh)
        with progress(f"running {pipeline.name} on {name}"):
            results.extend(app.handle(event_for(landing, info)))
    return _print_results(results, args.json)


def cmd_watch(args: argparse.Namespace) -> int:
    from hookline.runner import Hookline

    project = project_from(args)
    app = Hookline(project)
    watched = [
        (project.landing(p.name), p.trigger.prefix)
        for p in app.config.pipelines.values()
        if p.trigger is not None
    ]
    print(f"watching {', '.join(s.url(prefix) for s, prefix in watched)}", file=sys.stderr)
    seen: dict[str, str] = {}
    sizes: dict[str, int] = {}
    try:
        while True:
            for storage, prefix in watched:
                for info in storage.list(prefix):
                    uri = storage.url(info.key)
                    if seen.get(uri) == info.etag:
                        continue
                    if sizes.get(uri) != info.size and not args.once:
                        sizes[uri] = info.size  # still being written? look again next scan
                        continue
                    seen[uri] = info.etag
                    for r in app.handle(event_for(storage, info)):
                        if r.status != "duplicate":
                            print(
                                f"{r.status:<11} {r.pipeline or '-':<12} {r.run_id or '-'}  "
                                f"{r.message}",
                                flush=True,
                            )
            if args.once:
                return 0
            time.sleep(args.interval)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 0
