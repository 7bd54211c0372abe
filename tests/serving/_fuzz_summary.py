"""A pytest plugin (loaded from tests/conftest.py) that prints the fuzz figures at the end
of the session: per suite, the targets fuzzed (HTTP routes, commands), the cases (a route
in one mode: open, with keys, as a viewer...; a command), the examples sent and the 5xx
answers seen (a command's traceback fails its test outright).

The figures are the lines :func:`tests.serving._fuzzing.record` appends to
``test-artifacts/fuzz/<suite>.jsonl``; the controller empties that folder when the session
starts, so what is printed is this session's (xdist workers all append to it).
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from ._fuzzing import ARTIFACTS

_OWNER = "HOOKLINE_FUZZ_FIGURES_OWNER"
_OWNS = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or os.environ.get(_OWNER):
        return  # an xdist worker, or a nested session: the outer controller reports
    os.environ[_OWNER] = str(os.getpid())
    config.stash[_OWNS] = True
    shutil.rmtree(ARTIFACTS, ignore_errors=True)


def figures() -> dict[str, dict[str, int]]:
    """``{suite: {"targets", "cases", "examples", "5xx"}}`` from the recorded lines."""
    out: dict[str, dict[str, int]] = {}
    for path in sorted(ARTIFACTS.glob("*.jsonl")) if ARTIFACTS.is_dir() else ():
        targets: set[str] = set()
        suite = out.setdefault(path.stem, {"targets": 0, "cases": 0, "examples": 0, "5xx": 0})
        for line in path.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            targets.add(case["target"])
            suite["cases"] += 1
            suite["examples"] += case["examples"]
            suite["5xx"] += case["5xx"]
        suite["targets"] = len(targets)
    return out


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    if not config.stash.get(_OWNS, False):
        return
    found = figures()
    if not found:
        return
    terminalreporter.section("hookline fuzz figures")
    terminalreporter.write_line(
        f"{'suite':<24}{'targets':>8}{'cases':>8}{'examples':>10}{'5xx':>6}"
    )
    for suite, f in found.items():
        terminalreporter.write_line(
            f"{suite:<24}{f['targets']:>8}{f['cases']:>8}{f['examples']:>10,}{f['5xx']:>6}"
        )
    terminalreporter.write_line(f"(one line per case in {ARTIFACTS})")


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_OWNS, False):
        os.environ.pop(_OWNER, None)
