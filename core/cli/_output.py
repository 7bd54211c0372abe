"""Printing for the CLI: JSON for machines, aligned tables for people, progress on a TTY."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from hookline._markers import hookimpl
from hookline.jsonio import jsonable

if TYPE_CHECKING:
    import pluggy


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_config_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        help="hookline.toml (default: $HOOKLINE_CONFIG or ./hookline.toml)",
    )


def add_storage_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--storage",
        metavar="URI",
        help="storage root URI (default: from the config; works without a hookline.toml)",
    )


def print_json(data: Any) -> None:
    json.dump(jsonable(data), sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value).split("\n", 1)[0]  # a table row stays one line
    return text if len(text) <= 120 else text[:117] + "..."


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Print ``rows`` as an aligned plain-text table (no colour, so logs stay clean)."""
    if not rows:
        print("(none)")
        return
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


@contextmanager
def progress(description: str) -> Iterator[None]:
    """Show a spinner while a long step runs, only on a terminal and only with rich."""
    if not sys.stderr.isatty():
        yield
        return
    try:
        from rich.console import Console
    except ImportError:
        print(f"{description}...", file=sys.stderr)
        yield
        return
    with Console(stderr=True).status(description):
        yield


class _StageProgress:
    """An observer of one run's stages for a person at a terminal: the stage in flight
    with the elapsed time (a spinner with rich), and one line per finished stage."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: int | None = None
        self._bar: Any = None
        self._task: Any = None

    def start(self) -> None:
        try:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        except ImportError:
            print(f"{self.title}...", file=sys.stderr)
            return
        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(self.title, total=None)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _say(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(text, highlight=False, markup=False)
        else:
            print(text, file=sys.stderr, flush=True)

    def _describe(self, stage: str) -> str:
        rows = f", {self.rows:,} rows" if self.rows is not None else ""
        return f"{self.title}: {stage}{rows}"

    @hookimpl
    def before_stage_run(self, ctx: Any, stage: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=self._describe(stage))

    @hookimpl
    def after_stage_run(self, ctx: Any, stage: str, result: Any, seconds: float) -> None:
        if stage == "ingest":
            profile = getattr(result, "profile", None) or {}
            if isinstance(profile.get("rows"), int):
                self.rows = profile["rows"]
        rows = f"  ({self.rows:,} rows)" if stage == "ingest" and self.rows is not None else ""
        self._say(f"  {stage:<9} {seconds:8.1f} s{rows}")


@contextmanager
def run_progress(pm: pluggy.PluginManager, title: str) -> Iterator[None]:
    """On a terminal, show each stage of the runs inside the block as they go: the stage,
    the rows read, the elapsed time. Elsewhere (a pipe, a log file) nothing: ``-v`` logs
    every stage instead."""
    if not sys.stderr.isatty():
        yield
        return
    observer = _StageProgress(title)
    name = f"hookline-cli-progress-{id(observer)}"
    pm.register(observer, name=name)
    observer.start()
    try:
        yield
    finally:
        observer.stop()
        pm.unregister(name=name)
