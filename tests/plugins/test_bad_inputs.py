"""Every file of the bad-input corpus (tests/data/bad/) ends in a clear failed or rejected
run record naming the file and the problem, and nothing is promoted.

Each case starts from the same project, whose production model (v1) was trained through the
real command line on healthy data; the bad file is then uploaded with ``hookline run``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _plugin_helpers import BUILTINS, Project, table, write_csv

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad"
PANDAS_MAX_ROWS = "[pipelines.train.plugins.pandas]\nmax_rows = 200\n"

# file -> (status, what the record must say, extra [limits] lines, extra config)
CASES: dict[str, tuple[str, str, str, str]] = {
    "empty.csv": ("failed", "the file is empty (0 bytes)", "", ""),
    "blank.csv": ("failed", "the file holds only blank lines: no header, no data", "", ""),
    "header_only.csv": ("failed", "the file has a header but no data rows", "", ""),
    "truncated.csv": (
        "failed",
        "the file seems truncated: its last line has 2 of 4 fields and no line ending",
        "",
        "",
    ),
    "unclosed_quote.csv": ("failed", "malformed CSV: EOF inside string", "", ""),
    "binary.csv": ("failed", "the content is a PNG image, not CSV", "", ""),
    "gzipped.csv": ("failed", "the content is a gzip archive, not CSV", "", ""),
    "latin1.csv": (
        "failed",
        "not valid utf-8 text: byte 0xe9 at offset 232 (line 12) cannot be decoded",
        "",
        "",
    ),
    "utf16.csv": ("failed", "the content is UTF-16 text, not CSV", "", ""),
    "semicolons.csv": (
        "failed",
        "found a single column 'x1;x2;color;label': the file seems to "
        "be delimited by semicolons, not commas",
        "",
        "",
    ),
    "wrong_schema.csv": ("failed", "the target column 'label' is missing", "", ""),
    "single_class.csv": ("failed", "the target column 'label' has a single class ('yes')", "", ""),
    "all_null_column.csv": ("failed", "column 'notes' is empty in every row", "", ""),
    "injection.csv": (
        "failed",
        "1 cell(s) look like spreadsheet formulas (CSV injection), e.g. "
        "'=HYPERLINK(\"http://evil.example\",\"x\")' in column 'color' (data row 31)",
        "",
        "",
    ),
    "wide.csv": ("failed", "has 1,500 columns, over the configured limit of 1,000", "", ""),
    "duplicate_columns.csv": ("failed", "duplicate column names: 'x1'", "", ""),
    "type_change.csv": (
        "failed",
        "column 'x1' changed type: the production model's schema (v1) "
        "has it as number, but this file holds text in it, e.g. "
        "'n/a kg' (data rows [31])",
        "",
        "",
    ),
    "few_rows.csv": ("rejected", "min_rows", "", ""),
    "mostly_missing.csv": ("rejected", "null_ratio", "", ""),
    "oversized.csv": (
        "failed",
        "object is 8,018 bytes, over the configured limit of 4,096",
        "max_upload_bytes = 4096",
        "",
    ),
    "too_many_rows.csv": (
        "failed",
        "has more than 200 rows, the configured limit; nothing past the limit was read",
        "",
        PANDAS_MAX_ROWS,
    ),
    "parquet_named.csv": (
        "failed",
        "its name ends in '.csv' (CSV), but the content is Parquet",
        "",
        "",
    ),
    "csv_named.parquet": (
        "failed",
        "its name ends in '.parquet' (Parquet), but the content is "
        "CSV (first line: 'x1,x2,color,label')",
        "",
        "",
    ),
    "truncated.parquet": ("failed", "not a readable Parquet file (truncated or corrupt)", "", ""),
    "malformed.jsonl": ("failed", "malformed JSON Lines on line 3", "", ""),
    # whole-file checks: the offending name or byte lies past the first 64 KB
    "late_duplicate_column.csv": (
        "failed",
        "duplicate column names: 'x1' ('x1' is column 1 and 905)",
        "",
        "",
    ),
    "late_nul_byte.csv": (
        "failed",
        "a NUL character (\\x00) at line 3502, column 11: text data never holds one",
        "",
        "",
    ),
    "late_nul_escape.jsonl": (
        "failed",
        "a NUL character (\\x00) in 'color': text data never holds one (line 1501)",
        "",
        "",
    ),
    "duplicate_keys.jsonl": (
        "failed",
        "the key 'x1' appears twice in one record (line 2)",
        "",
        "",
    ),
    "duplicate_columns.parquet": (
        "failed",
        "duplicate column names: 'x1' ('x1' is column 1 and 5)",
        "",
        "",
    ),
}


@pytest.fixture(scope="module")
def healthy(tmp_path_factory) -> Path:
    """A project folder with production v1, trained once for the whole module."""
    root = tmp_path_factory.mktemp("healthy")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOOKLINE_PLUGINS", BUILTINS)
        mp.setenv("HOOKLINE_LOG_LEVEL", "CRITICAL")
        project = Project(root)
        record = project.run(write_csv(root / "good.csv", table(200)))
        assert record["status"] == "succeeded", record.get("error")
        assert project.state() == {"versions": 1, "aliases": {"production": 1}}
    return root


def test_every_corpus_file_has_an_expectation():
    files = {p.name for p in CORPUS.iterdir() if p.suffix in (".csv", ".parquet", ".jsonl")}
    mine = {name for name in files if not name.startswith("rel_")}  # rel_*: tests/reliability
    assert mine == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file(name, healthy, tmp_path, monkeypatch):
    status, expected, limits, extra = CASES[name]
    limits = limits or "skip_empty_objects = false"
    monkeypatch.setenv("HOOKLINE_PLUGINS", BUILTINS)
    monkeypatch.setenv("HOOKLINE_LOG_LEVEL", "CRITICAL")
    root = tmp_path / "project"
    shutil.copytree(healthy, root)
    project = Project(root)
    project.write(extra, limits=limits)
    before = project.state()

    record = project.run(CORPUS / name)

    assert record["status"] == status, record.get("error") or record.get("rejected_by")
    if status == "failed":
        error = record["error"]
        assert error["type"] == "DataError"
        assert expected in error["message"]
        assert f"landing/train/{name}" in error["message"], "the error names the file"
        assert error["hint"], "every data error says how to fix it"
        assert record["deployments"] == []
    else:
        assert expected in record["rejected_by"]
        assert record["stages"]["deploy"]["status"] == "skipped"
        failed = [c for c in record["checks"] if c["name"] == expected]
        assert failed and not failed[0]["passed"] and failed[0]["blocking"]
    assert project.state() == before == {"versions": 1, "aliases": {"production": 1}}


def test_an_empty_upload_is_ignored_by_default(healthy, tmp_path, monkeypatch):
    monkeypatch.setenv("HOOKLINE_PLUGINS", BUILTINS)
    root = tmp_path / "project"
    shutil.copytree(healthy, root)
    project = Project(root)
    project.write(limits="skip_empty_objects = true")
    result = project.run(CORPUS / "empty.csv")
    assert result["status"] == "ignored" and "is empty (zero bytes): skipped" in result["message"]
    assert project.state() == {"versions": 1, "aliases": {"production": 1}}
