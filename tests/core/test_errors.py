"""The error model: one table from error class to HTTP status, exit code and retry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hookline import errors
from hookline.errors import (
    AlreadyExists,
    ConfigError,
    DataError,
    HookFailed,
    HooklineError,
    InvalidKey,
    NotFound,
    TransientError,
    TransientStorageError,
    answer,
)


def _documented_table() -> dict[str, tuple[int, int, str]]:
    doc = errors.__doc__ or ""
    rows = {}
    for line in doc.splitlines():
        m = re.match(r"^(\w+)(?: \(any other\))?\s+(\d{3})\s+(\d+)\s+(.+)$", line)
        if m:
            rows[m.group(1)] = (int(m.group(2)), int(m.group(3)), m.group(4).strip())
    return rows


def test_the_documented_table_is_what_the_classes_say():
    table = _documented_table()
    classes = {
        name: obj
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, HooklineError)
    }
    # every class that states its own answer is in the table (the others inherit theirs)
    own = {
        n for n, cls in classes.items() if {"http_status", "exit_code", "retry"} & set(vars(cls))
    }
    assert own - set(table) == set(), own - set(table)
    for name, (status, exit_code, retried) in table.items():
        cls = classes[name]
        assert cls.http_status == status, name
        assert cls.exit_code == exit_code, name
        if name != "HookFailed":
            assert cls.retry is retried.startswith("yes"), name


@pytest.mark.parametrize(
    "exc, status, code, retry",
    [
        (NotFound("no run 'x'", uri="file:///root/runs/x"), 404, 1, False),
        (AlreadyExists("exists"), 409, 1, False),
        (InvalidKey("key escapes the root"), 400, 2, False),
        (DataError("bad file", uri="s3://b/k"), 422, 1, False),
        (ConfigError("bad", key="serving.model"), 503, 2, False),
        (TransientError("throttled"), 503, 75, True),
        (TransientStorageError("throttled"), 503, 75, True),
    ],
)
def test_answer_follows_the_table(exc, status, code, retry):
    got = answer(exc)
    assert (got.status, got.exit_code, got.retry, got.expected) == (status, code, retry, True)
    assert got.detail == str(exc)


def test_a_hook_failure_is_retried_only_when_its_cause_is_transient():
    permanent = HookFailed(plugin="p", hook="train", original=ValueError("boom"))
    transient = HookFailed(plugin="p", hook="train", original=TransientError("slow"))
    assert answer(permanent).retry is False
    assert answer(transient).retry is True
    assert answer(permanent).status == 503


def test_unexpected_exceptions_are_500_without_internals():
    got = answer(KeyError("/secret/storage/root/runs/x"))
    assert (got.status, got.exit_code, got.retry, got.expected) == (500, 1, False, False)
    assert "secret" not in got.detail and got.detail == "internal error"


def test_details_are_bounded():
    got = answer(HooklineError("x" * 10_000))
    assert len(got.detail) <= errors.MAX_DETAIL


# -- docs/errors.md: the page's table is the docstring's, and its sample runs ---------------

PAGE = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def _page_table() -> dict[str, tuple[int, int, str]]:
    rows = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| (`\w+`|any other exception) \| (\d{3}) \| (\d+) \| ([^|]+) \|", line)
        if m:
            name = m.group(1).strip("`")
            rows[name] = (int(m.group(2)), int(m.group(3)), m.group(4).strip())
    return rows


def test_the_error_model_page_has_the_documented_table():
    # (the docstring's last row, "(any other exception)", is not a class name)
    assert _page_table() == {**_documented_table(), "any other exception": (500, 1, "no")}


def test_the_error_model_page_sample_runs():
    [sample] = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    exec(compile(sample, str(PAGE), "exec"), {})


def test_the_suites_the_error_model_page_names_exist():
    root = PAGE.parents[1]
    named = set(re.findall(r"`(tests/[\w/]+\.py)`", PAGE.read_text(encoding="utf-8")))
    assert len(named) >= 4 and all((root / n).is_file() for n in named), named
