"""A pytest plugin (loaded from tests/conftest.py) that prints the reliability figures at
the end of the session and keeps them in ``.cache/reliability/figures.json``.

It runs in the pytest controller: under pytest-xdist the workers (and the child processes
the tests start) inherit ``$HOOKLINE_RELIABILITY`` and write their counters there.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from ._counters import ENV, FIGURES, totals

_FOLDER = pytest.StashKey[str]()
FIGURES_FILE = Path(__file__).resolve().parents[2] / ".cache" / "reliability" / "figures.json"


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or os.environ.get(ENV):
        return  # an xdist worker, or a nested session: the owner of the folder reports
    folder = tempfile.mkdtemp(prefix="hookline-reliability-")
    os.environ[ENV] = folder
    config.stash[_FOLDER] = folder


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    folder = config.stash.get(_FOLDER, None)
    if folder is None:
        return
    figures = totals(folder)
    if not figures:
        return
    figures.setdefault("models_lost_or_corrupted", 0)
    terminalreporter.section("hookline reliability figures")
    for name, label in FIGURES:
        if name in figures:
            terminalreporter.write_line(f"{label:<58} {figures[name]:>9,}")
    try:
        FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
        marks = config.option.markexpr or "all"
        FIGURES_FILE.write_text(json.dumps({"selection": marks, **figures}, indent=2) + "\n")
        terminalreporter.write_line(f"(kept in {FIGURES_FILE})")
    except OSError:
        pass


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_FOLDER, None)
    if folder is not None:
        os.environ.pop(ENV, None)
        shutil.rmtree(folder, ignore_errors=True)
