"""Figures the reliability suite reports at the end of a run (events delivered, faults
injected, models lost...), counted across pytest-xdist workers and child processes.

Each process adds to its own JSON file in the directory named by ``$HOOKLINE_RELIABILITY``
(set by the pytest controller before workers start, inherited by every child), so no
process ever writes another's file; :func:`totals` sums them.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

__all__ = ["ENV", "FIGURES", "record", "totals"]

ENV = "HOOKLINE_RELIABILITY"

FIGURES = (
    ("events_delivered", "events delivered"),
    ("duplicates_injected", "duplicate deliveries injected"),
    ("concurrent_runs", "concurrent trainings and promotions"),
    ("alias_reads", "alias reads by concurrent readers"),
    ("crashes_injected", "crashes injected (process killed)"),
    ("faults_injected", "storage faults injected (throttling, 5xx, cut streams)"),
    ("transient_raised", "transient failures surfaced to the platform"),
    ("bad_files_tried", "bad input files tried"),
    ("bad_keys_tried", "hostile object keys tried"),
    ("fuzz_examples", "fuzzed inputs (event parsers, config loader)"),
    ("security_checks", "security checks"),
    ("models_checked", "model versions verified (manifest + sha256)"),
    ("models_lost_or_corrupted", "models lost or corrupted"),
)
"""Counter name and the label printed for it, in print order."""

_lock = threading.Lock()


def record(name: str, count: int = 1) -> None:
    """Add ``count`` to the counter ``name`` (no-op outside a pytest session)."""
    folder = os.environ.get(ENV)
    if not folder:
        return
    path = Path(folder) / f"{os.getpid()}.json"
    with _lock:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = {}
        data[name] = int(data.get(name, 0)) + count
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)


def totals(folder: str | os.PathLike[str]) -> dict[str, int]:
    """The sum of every process's counters in ``folder``."""
    out: dict[str, int] = {}
    for path in Path(folder).glob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for name, value in data.items():
            out[name] = out.get(name, 0) + int(value)
    return out
