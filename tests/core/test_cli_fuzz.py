"""Fuzzing the command line: every command that reads or moves runs and models, fed its own
flags and subcommands mixed with hostile values (traversal-shaped, empty, oversized,
control characters, a lone surrogate, negative or huge numbers, ``nan``).

What must hold, for any argv: the command exits with a code of the table (0 done, 1 failed,
2 usage or configuration, 3 a gate rejected, 75 try again) -- argparse's own refusals
included -- never with a traceback; and nothing is written outside the project folder.

Commands that start servers (``serve``, ``ui``), build bundles (``package``), run
offloaded jobs (``job``), read standard input (``events parse -``) or wait (``watch``
without ``--once``) are left out; their arguments are checked by their own tests.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from pathlib import Path

import pytest
from hookline.cli import build_parser, main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serving._fuzzing import examples, record  # tests/ is on sys.path

pytestmark = pytest.mark.fuzz

EXIT_CODES = {0, 1, 2, 3, 75}
COMMANDS = [
    ["runs"],
    ["runs", "list"],
    ["runs", "show"],
    ["models"],
    ["models", "list"],
    ["models", "show"],
    ["models", "promote"],
    ["models", "approve"],
    ["models", "rollback"],
    ["models", "verify"],
    ["models", "sign"],
    ["models", "tag"],
    ["models", "describe"],
    ["plugins"],
    ["plugins", "show"],
    ["config"],
    ["config", "check"],
    ["config", "schema"],
    ["retrain"],
    ["run"],
    ["events", "parse"],
    ["watch", "--once"],
    ["completion"],
]
HOSTILE = [
    "",
    " ",
    "-",
    "--",
    "..",
    "../..",
    "../../../etc/passwd",
    "/nonexistent/x",
    "%2e%2e",
    "m/0",
    "m/-1",
    "m/v1",
    "m@",
    "@",
    "m@../x",
    "m/" + "9" * 40,
    "-1",
    "0",
    "nan",
    "inf",
    "1e309",
    "9" * 40,
    "a" * 300,
    "b" * 5000,
    "m\n",
    "x\x1b[31mred",
    "\u202emoc.exe",
    "\udcff",
    "m/1",
    "m@production",
    "m",
    "train",
    "production",
    "1",
    "data.csv",
    "landing/train/data.csv",
]


NUMBERS = ["-1", "0", "-0", "nan", "inf", "-inf", "1e309", "9" * 40, "1.5", "0x10", "", "ten"]


def _subparser(parser: argparse.ArgumentParser, path: list[str]) -> argparse.ArgumentParser:
    for word in path:
        if word.startswith("-"):
            continue
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = actions[0].choices[word]
    return parser


def _words(path: list[str]) -> st.SearchStrategy[list[str]]:
    """One unit of argv for the command at ``path``: a hostile value alone (a positional),
    a flag that takes a value followed by one, a bare flag, or a subcommand."""
    sub = _subparser(build_parser(), path)
    valued, numeric, bare = [], [], []
    for action in sub._actions:
        if isinstance(action, argparse._SubParsersAction):
            bare.extend(action.choices)
            continue
        flags = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
        if action.nargs == 0:
            bare.extend(flags)
        else:
            (numeric if action.type not in (None, str) else valued).extend(flags)
    value = st.sampled_from(HOSTILE)
    units = value.map(lambda v: [v])  # (``v`` is also what a numeric positional gets)
    if valued:
        units |= st.tuples(st.sampled_from(sorted(valued)), value).map(list)
    if numeric:
        units |= st.tuples(st.sampled_from(sorted(numeric)), st.sampled_from(NUMBERS)).map(list)
    if bare:
        units |= st.sampled_from(sorted(bare)).map(lambda f: [f])
    return units


def _files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (the fuzzed project's parent), path to bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture
def project(tiny_installed: Path) -> Path:
    """The tiny project with one trained and promoted version, in a folder two levels
    below a private one, so ``../..`` stays inside it."""
    assert main(["run", "data.csv"]) == 0
    return tiny_installed


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_any_arguments_give_an_exit_code_never_a_traceback(
    project: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = st.lists(_words(command), max_size=4).map(lambda units: sum(units, []))
    outside = project.parent
    before = {k: v for k, v in _files(outside).items() if not k.startswith(project.name + "/")}
    seen = [0]

    @settings(
        max_examples=examples(25),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(rest=tokens)
    def run(rest: list[str]) -> None:
        argv = [*command, *rest]
        if "-" in rest and command == ["events", "parse"]:
            return  # standard input
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
                code = exc.code if isinstance(exc.code, int) else 2
        seen[0] += 1
        assert code in EXIT_CODES, (argv, code, err.getvalue()[-2000:])
        assert "Traceback" not in err.getvalue(), (argv, err.getvalue()[-4000:])

    monkeypatch.setenv("HOOKLINE_LOG_LEVEL", "CRITICAL")
    try:
        run()
    finally:
        record("cli", " ".join(command), seen[0], target=" ".join(command))
    after = {k: v for k, v in _files(outside).items() if not k.startswith(project.name + "/")}
    assert after == before, sorted(set(after) ^ set(before))
    assert os.getcwd() == str(project)


def _numeric_arguments() -> list[tuple[list[str], str]]:
    """Every (command, flag) whose value is a number, and every numeric positional (as
    ``(command, "")``), across the whole command line -- servers included: a number is
    refused before any command runs."""
    out: list[tuple[list[str], str]] = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*path, name])
            elif action.type not in (None, str) and callable(action.type) and action.nargs != 0:
                flag = next((o for o in action.option_strings if o.startswith("--")), "")
                out.append((path, flag))

    walk(build_parser(), [])
    return out


NUMERIC = _numeric_arguments()


@pytest.mark.parametrize(
    ("command", "flag"), NUMERIC, ids=[" ".join([*c, f or "POSITIONAL"]) for c, f in NUMERIC]
)
def test_every_numeric_argument_refuses_every_bad_number(
    project: Path, command: list[str], flag: str
) -> None:
    refused = 0
    for bad in ["-1", "-5", "nan", "inf", "1e309", "9" * 40, "ten", ""]:
        argv = [*command, flag, bad] if flag else [*command, "m", bad]
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
        assert "Traceback" not in err.getvalue(), (argv, err.getvalue()[-3000:])
        said = err.getvalue()
        assert code == 2 and "argument" in said and "expected" in said, (argv, code, said[-500:])
        refused += 1
    where = " ".join([*command, flag or "VERSION"])
    record("cli", f"numbers {where}", refused, target=where)
