"""Shared constants and helpers of the packaging tests (a module name unique in tests/)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart" / "hookline.toml"
MINIMAL_CONFIG = """\
[project]
name = "packaging-test"

[pipelines.train]
model = "m"
stages = ["ingest", "train", "validate", "deploy"]
trigger = { prefix = "landing/train/", suffix = ".csv" }
"""


def require_entry_files(*relative: str) -> Path:
    """The real ``functions/`` folder; fail (not skip) naming any entry file still missing."""
    functions = REPO / "functions"
    missing = [r for r in relative if not (functions / r).is_file()]
    if missing:
        pytest.fail(
            "entry file(s) missing from the repository: "
            + ", ".join(f"functions/{m}" for m in missing)
            + " -- the bundle is built from the real entry files (issue 4 writes them)",
            pytrace=False,
        )
    return functions
