"""The storage layout has one owner, and its drawing is what the code builds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hookline import layout
from hookline.errors import NotFound, UsageError

REPO = Path(__file__).resolve().parents[2]


def _drawing(text: str) -> list[str]:
    """The tree drawing as full paths (``runs/<run_id>/record.json``)."""
    paths, stack = [], []
    for line in text.splitlines():
        m = re.match(r"^([│ ]*)(?:├── |└── )(\S+)", line)
        if not m:
            continue
        depth = len(m.group(1)) // 4
        stack[depth:] = [m.group(2)]
        paths.append("".join(stack))
    return paths


def _docstring_drawing() -> str:
    block = (layout.__doc__ or "").split("::\n\n", 1)[1].split("\n\n", 1)[0]
    return "\n".join(line[4:] for line in block.splitlines())


def test_the_architecture_page_shows_the_layout_module_s_drawing():
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    shown = page.split("<!-- layout: begin", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    assert shown.rstrip() == _docstring_drawing().rstrip()


def test_every_key_the_layout_builds_is_in_the_drawing():
    paths = set(_drawing(_docstring_drawing()))
    names = {
        "RUN1": "<run_id>",
        "MODEL": "<model>",
        "ALIAS": "<alias>",
        "000007": "<000007>",
        "model.skops": "<artifact>",
        "out.csv": "<output>",
        "REQ1": "<request-id>",
        "JOB1": "<job-name>",
    }

    def shape(key: str) -> str:
        for value, placeholder in names.items():
            key = key.replace(value, placeholder)
        key = re.sub(r"index/\d{13}-<run_id>\.json", "index/<inverted-ms>-<run_id>.json", key)
        key = re.sub(r"by-data/[0-9a-f]{64}\.json", "by-data/<data-digest>.json", key)
        return re.sub(r"by-run/[0-9a-f]{32}\.json", "by-run/<run-digest>.json", key)

    built = [
        layout.run_claim_key("RUN1"),
        layout.run_record_key("RUN1"),
        layout.run_completed_key("RUN1"),
        layout.run_dispatch_key("RUN1"),
        layout.job_key("JOB1"),
        layout.run_output_key("RUN1", "report.html"),
        layout.run_output_key("RUN1", "out.csv"),
        layout.index_key(1_700_000_000_000, "RUN1"),
        layout.version_claim_key("MODEL", 7),
        layout.version_key("MODEL", 7, "model.skops"),
        layout.manifest_key("MODEL", 7),
        layout.alias_key("MODEL", "ALIAS"),
        layout.by_run_key("MODEL", "RUN1"),
        layout.by_data_key("MODEL", "ab" * 32),
        layout.model_index_key("MODEL"),
        layout.monitoring_report_key("MODEL", "RUN1"),
        layout.retrain_key("MODEL", "REQ1"),
    ]
    missing = [key for key in built if shape(key) not in paths]
    assert missing == [], f"keys the drawing does not show: {missing}"
    assert all(key.startswith(layout.OUTPUT_PREFIXES) for key in built)


@pytest.mark.parametrize(
    "run_id", ["..", "%2e%2e", "a/b", "a\x00b", "x" * 5000, "", "index", "jobs", "-lead"]
)
def test_a_run_id_that_cannot_name_a_run_is_not_found_and_builds_no_key(run_id):
    with pytest.raises(NotFound) as info:
        layout.run_record_key(run_id)
    assert len(str(info.value)) < 300  # an oversized id is not echoed whole


@pytest.mark.parametrize("name", ["..", "a/b", "a b", "", "x" * 129, "\x85"])
def test_model_and_alias_names_are_one_safe_segment(name):
    with pytest.raises(UsageError):
        layout.model_prefix(name)
    with pytest.raises(UsageError):
        layout.alias_key("m", name)
