"""docs/cli.md lists every command, argument, flag and exit code the parser has."""

from __future__ import annotations

import argparse
import re

import pytest
from hookline import errors

from ._markdown import DOCS
from .test_reference import gen

PAGE = (DOCS / "cli.md").read_text(encoding="utf-8")
COMMANDS = gen.cli_commands()


def section(path: str) -> str:
    """The page's text from the command's heading to the next heading of any command."""
    anchor = "hookline" if path == "hookline" else path.removeprefix("hookline ").replace(" ", "-")
    heading = re.search(rf"^#+ `{re.escape(path)}` {{ #{re.escape(anchor)} }}$", PAGE, re.M)
    assert heading, f"docs/cli.md has no heading for `{path}`"
    rest = PAGE[heading.end() :]
    following = re.search(r"^#+ `hookline", rest, re.M)
    return rest[: following.start()] if following else rest


def test_the_page_covers_every_command() -> None:
    paths = [path for path, _ in COMMANDS]
    headings = re.findall(r"^#+ `(hookline[^`]*)` \{ #", PAGE, re.M)
    assert headings == paths
    for expected in ("hookline runs list", "hookline models tag", "hookline completion"):
        assert expected in paths  # the commands this page is most often read for


@pytest.mark.parametrize(("path", "parser"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_flag_and_argument_is_listed_under_its_command(
    path: str, parser: argparse.ArgumentParser
) -> None:
    text = section(path)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
            continue
        if action.option_strings:
            for option in action.option_strings:
                assert re.search(rf"`{re.escape(option)}[` ]", text), f"{path}: {option}"
        else:
            assert f"| `{action.metavar or action.dest}` |" in text, f"{path}: {action.dest}"
        if action.choices and not isinstance(action.choices, dict):
            for choice in action.choices:
                assert f"`{choice}`" in text, f"{path}: {action.dest} choice {choice}"


def test_every_exit_code_of_the_error_table_is_listed() -> None:
    rows = dict(re.findall(r"^\| `(\d+)` \| [^|]+ \| ([^|]+) \|$", PAGE, re.M))
    assert {"0", "1", "2", "75", "130"} <= set(rows)
    for name in errors.__all__:
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, errors.HooklineError):
            assert f"`{name}`" in rows[str(cls.exit_code)], name


def test_the_exit_codes_are_those_the_cli_returns(capsys: pytest.CaptureFixture[str]) -> None:
    """The page's table is what `hookline.errors.answer` says, and what `main` returns."""
    from hookline.cli import main

    codes = {code for code, _, _ in gen.exit_codes()}
    assert main(["models", "show", "NOSUCH", "--storage", "/nonexistent-root"]) == 1  # NotFound
    assert main(["models", "show", "bad/x", "--storage", "/nonexistent-root"]) == 2  # UsageError
    with pytest.raises(SystemExit) as usage:
        main(["rnus"])
    assert usage.value.code == 2 and {1, 2} <= codes
    assert errors.answer(errors.TransientError("throttled")).exit_code == 75 in codes
    assert errors.answer(KeyboardInterrupt()).exit_code == 130 in codes
    capsys.readouterr()


def test_documented_command_lines_lose_redirections_and_split_on_separators() -> None:
    import shlex

    from ._run_samples import pipeline

    line = "mkdir -p d && hookline completion bash > d/hookline ; X=1 hookline runs 2> err | head"
    assert pipeline(shlex.split(line)) == [
        ["mkdir", "-p", "d"],
        ["hookline", "completion", "bash"],
        ["hookline", "runs"],
        ["head"],
    ]
