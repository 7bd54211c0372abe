"""``hookline run`` and ``hookline watch``: the local twins of a storage trigger.

Exit codes of both (and of ``hookline retrain``): 0 every run succeeded (or had nothing
to do: a duplicate delivery, unchanged data, an object no pipeline wants); 3 a gate
rejected a model and no run failed (nothing was promoted; the run record says why); 1 a
run failed; 130 interrupted (the run in flight is recorded as ``interrupted`` and its
claim released, so the next ``run`` or ``watch`` runs it again at once).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from hookline.cli._app import event_for, project_from
from hookline.cli._output import add_config_flag, add_json_flag, print_json, run_progress
from hookline.cli._parser import number
from hookline.errors import UsageError

if TYPE_CHECKING:
    from hookline.project import Project
    from hookline.runner import Hookline
    from hookline.storage import ObjectInfo, Storage

EXIT_REJECTED = 3
"""A gate rejected a model (and no run failed): nothing was promoted."""


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser(
        "run",
        help="upload data files to a pipeline's landing prefix and "
        "run the pipeline on them, as a storage trigger would",
        description="Upload each file to the pipeline's landing prefix and run the pipeline "
        "on it. Exit code: 0 succeeded, 3 a gate rejected the model, 1 a run failed.",
    )
    add_config_flag(run)
    add_json_flag(run)
    run.add_argument(
        "--pipeline",
        "-p",
        help="pipeline to land the files for (default: the first pipeline with a trigger)",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="train even when a version was already trained on exactly this data",
    )
    run.add_argument(
        "files", nargs="+", metavar="DATA_FILE", help="the files to land (CSV, Parquet, JSON lines)"
    )
    run.set_defaults(func=cmd_run)

    watch = sub.add_parser(
        "watch",
        help="watch the landing prefixes and run the pipeline on every new object (Ctrl-C stops)",
        description="Run the pipelines on every complete new object under their landing "
        "prefixes. An object is taken once its size and time have not changed for --settle "
        "seconds (a file still being copied waits). Ctrl-C stops; the run in flight is "
        "released, so the next watch runs it again.",
    )
    add_config_flag(watch)
    watch.add_argument(
        "folders",
        nargs="*",
        metavar="FOLDER",
        help="watch only the landing prefixes under these folders (e.g. ./landing); "
        "default: every pipeline's trigger prefix",
    )
    watch.add_argument(
        "--interval",
        type=number(float, low=0.01, high=86_400, what="seconds"),
        default=1.0,
        help="seconds between scans",
    )
    watch.add_argument(
        "--settle",
        type=number(float, low=0, high=86_400, what="seconds"),
        default=2.0,
        help="seconds an object's size and modification time must stay the same before it "
        "is taken (0: take it at once, for writers that move complete files into place)",
    )
    watch.add_argument("--once", action="store_true", help="process what is there now, then exit")
    watch.set_defaults(func=cmd_watch)


def exit_code(statuses: Iterable[str]) -> int:
    """1 when a run failed, 3 when a gate rejected one (and none failed), else 0."""
    seen = set(statuses)
    if "failed" in seen:
        return 1
    if "rejected" in seen:
        return EXIT_REJECTED
    return 0


def _print_results(results: Sequence[object], as_json: bool) -> int:
    from hookline.runner import RunResult

    rows = []
    for r in results:
        assert isinstance(r, RunResult)
        rows.append(r.to_dict())
        if not as_json:
            print(_line(r))
    if as_json:
        print_json(rows)
    return exit_code(getattr(r, "status", "") for r in results)


def _line(result: object) -> str:
    from hookline.runner import RunResult

    assert isinstance(result, RunResult)
    status = "unchanged" if (result.record or {}).get("unchanged") else result.status
    return f"{status:<11} {result.pipeline or '-':<12} {result.run_id or '-'}  {result.message}"


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
        with run_progress(app.pm, f"{pipeline.name} on {name}"):
            results.extend(app.handle(event_for(landing, info), force=args.force))
    return _print_results(results, args.json)


def _watched(project: Project, app: Hookline, folders: Sequence[str]) -> list[tuple[Storage, str]]:
    """``(storage, prefix)`` pairs to scan: every trigger prefix, or those under the
    folders named (a landing prefix's own folder, or one above it: ``./landing`` covers
    ``landing/train/`` and ``landing/score/``)."""
    pairs = [
        (project.landing(p.name), p.trigger.prefix)
        for p in app.config.pipelines.values()
        if p.trigger is not None
    ]
    if not folders:
        return pairs
    chosen: list[tuple[Storage, str]] = []
    for folder in folders:
        wanted = os.path.realpath(folder).rstrip("/")
        hits = [
            (storage, prefix)
            for storage, prefix in pairs
            if (_local_path(storage.url(prefix)) + "/").startswith(wanted + "/")
        ]
        if not hits:
            shown = ", ".join(storage.url(prefix) for storage, prefix in pairs)
            raise UsageError(
                f"{folder}: no pipeline's landing prefix is in this folder",
                hint=f"the trigger prefixes are: {shown}; name one of them, or a folder "
                "above them (run watch where the project's storage root is)",
            )
        chosen += [h for h in hits if h not in chosen]
    return chosen


def _local_path(uri: str) -> str:
    from urllib.parse import unquote, urlsplit

    if not uri.startswith("file://"):
        return uri
    return os.path.realpath(unquote(urlsplit(uri).path)).rstrip("/")


class _Settling:
    """When an object is complete: its size and modification time held for ``settle``
    seconds. A file still being copied keeps changing; one moved into place whole (or a
    cloud object, which only ever appears whole) waits ``settle`` seconds once."""

    def __init__(self, settle: float) -> None:
        self.settle = settle
        self._first: dict[str, tuple[int, float, float]] = {}

    def ready(self, uri: str, info: ObjectInfo) -> bool:
        if self.settle <= 0:
            return True
        now = time.time()
        shape = (info.size, info.modified)
        first = self._first.get(uri)
        if first is None or first[:2] != shape:
            self._first[uri] = (*shape, now)
            return now - info.modified >= self.settle  # quiet for long enough already
        return now - first[2] >= self.settle or now - info.modified >= self.settle


def cmd_watch(args: argparse.Namespace) -> int:
    from hookline.runner import Hookline

    project = project_from(args)
    app = Hookline(project)
    watched = _watched(project, app, args.folders)
    names = ", ".join(s.url(prefix) for s, prefix in watched)
    print(f"watching {names} (settle {args.settle:g} s)", file=sys.stderr)
    seen: dict[str, str] = {}
    settling = _Settling(args.settle)
    statuses: list[str] = []
    running = False
    try:
        while True:
            waiting = False
            for storage, prefix in watched:
                for info in storage.list(prefix):
                    uri = storage.url(info.key)
                    if seen.get(uri) == info.etag:
                        continue
                    if not settling.ready(uri, info):
                        waiting = True  # still being written? look again next scan
                        continue
                    seen[uri] = info.etag
                    running = True
                    with run_progress(app.pm, uri.rsplit("/", 1)[-1]):
                        results = app.handle(event_for(storage, info))
                    running = False
                    for r in results:
                        statuses.append(r.status)
                        if r.status != "duplicate":
                            print(_line(r), flush=True)
            if args.once and not waiting:
                return exit_code(statuses)
            time.sleep(min(args.interval, max(args.settle / 4, 0.05)) if waiting else args.interval)
    except KeyboardInterrupt:
        print(
            "interrupted: the run in flight is released and runs again next time"
            if running
            else "stopped",
            file=sys.stderr,
        )
        return 130 if running else 0
