"""`make demo`: the quickstart script, run as `make demo` runs it, on a copy of the example."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"


def test_demo_shows_the_four_outcomes(tmp_path):
    copy = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, copy, ignore=shutil.ignore_patterns(".hookline", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env["OMP_NUM_THREADS"] = "1"
    done = subprocess.run(
        [sys.executable, str(copy / "demo.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "v1 promoted to production" in out
    assert ("v2 promoted:" in out) != ("v2 rejected, v1 stays in production:" in out)
    assert "drift in " in out and "retrain requested: file://" in out
    assert "the file seems to be delimited by semicolons, not commas" in out
    assert "All four outcomes are as expected" in out
    # the outcomes are in storage, where `hookline runs --json` and `models --json` read them
    runs = sorted((copy / ".hookline" / "runs").glob("*/record.json"))
    statuses = sorted(json.loads(p.read_text())["status"] for p in runs)
    assert statuses in (
        ["failed", "succeeded", "succeeded", "succeeded"],
        ["failed", "rejected", "succeeded", "succeeded"],
    )
    requests = list((copy / ".hookline" / "monitoring" / "penguins" / "retrain").glob("*.json"))
    assert len(requests) == 1 and json.loads(requests[0].read_text())["status"] == "open"


def test_demo_fails_loudly_when_an_outcome_is_wrong(tmp_path):
    copy = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, copy, ignore=shutil.ignore_patterns(".hookline", "__pycache__"))
    # a "broken" file that is in fact fine: the demo must notice that outcome 4 is wrong
    shutil.copy(copy / "batch1.csv", copy / "broken.csv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env["OMP_NUM_THREADS"] = "1"
    done = subprocess.run(
        [sys.executable, str(copy / "demo.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert "DEMO FAILED: the broken file should fail the run" in done.stderr
