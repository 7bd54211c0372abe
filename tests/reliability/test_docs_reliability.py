"""docs/reliability.md is exercised: its fault-proxy sample runs against moto and prints
what the page says; its scenarios, tools and figures match the suite."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ._counters import FIGURES

DOC = Path(__file__).parents[2] / "docs" / "reliability.md"
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)


def blocks(lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(DOC.read_text()) if kind == lang]


def test_the_fault_proxy_sample_runs(
    s3_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    [sample] = blocks("python")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.url)  # restored afterwards
    namespace = {"emulator_url": s3_server.url, "bucket": s3_server.new_bucket("doc")}
    exec(compile(sample, str(DOC), "exec"), namespace)
    printed = capsys.readouterr().out.strip()
    shown = [b.strip() for b in blocks("text") if "hookline reliability" not in b]
    assert printed == "2 b'hi'" and printed in shown


def test_scenarios_and_tools_named_by_the_page_exist() -> None:
    text = DOC.read_text()
    here = Path(__file__).parent
    for name in set(re.findall(r"`((?:test|_)[a-z_]+\.py)`", text)):
        assert (here / name).exists(), name
    for path in re.findall(r"`(tests/data/bad/rel_\*)`", text):
        assert list(here.parent.glob("data/bad/rel_*")), path


def test_the_figures_table_lists_every_figure_and_no_loss() -> None:
    text = DOC.read_text().split("## The latest soak run", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| \**([^|*]+?)\** \| \**([^|*]+?)\** \|$", text, re.M)
    labels = [label for label, _ in rows if label not in ("figure", "---")]
    assert labels == [label for _, label in FIGURES]
    assert dict(rows)["models lost or corrupted"] == "0"
