"""The code samples of the docs run (conventions: docs/writing-docs.md).

Every page's ```python blocks and its ```console blocks that start with ``$ hookline`` run in
order in a fresh temporary directory; ```toml blocks parse, and validate as a hookline.toml
when they have pipelines; every ``$ hookline`` command line on any page parses with the real
command-line parser, so a renamed option cannot linger in the docs.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hookline.config import parse_config

from ._markdown import Block, blocks, dedicated_test, pages
from ._run_samples import pipeline

RUNNER = Path(__file__).with_name("_run_samples.py")


def runnable(page: str) -> list[Block]:
    return [
        b
        for b in blocks(page)
        if not b.skip and (b.lang == "python" or (b.lang == "console" and b.runs_hookline))
    ]


def generic_pages() -> list[str]:
    return [p for p in pages() if runnable(p) and dedicated_test(p) is None]


def test_there_are_samples_to_run():
    assert {
        "index.md",
        "concepts.md",
        "writing-plugins.md",
        "testing-plugins.md",
        "hooks.md",
    } <= set(generic_pages())


@pytest.mark.parametrize("page", generic_pages())
def test_page_samples_run(page, tmp_path):
    samples = [{"where": b.where, "lang": b.lang, "code": b.code} for b in runnable(page)]
    spec = tmp_path / "samples.json"
    spec.write_text(json.dumps(samples))
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(spec)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (
        f"a code sample of docs/{page} failed (mark blocks that must not run with "
        f"<!-- skip-test -->, see docs/writing-docs.md):\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-5000:]}"
    )


def toml_blocks() -> list[Block]:
    return [b for p in pages() for b in blocks(p) if b.lang == "toml" and not b.skip]


@pytest.mark.parametrize("block", toml_blocks(), ids=lambda b: b.where)
def test_toml_samples_are_valid(block):
    data = tomllib.loads(block.code)
    if "pipelines" in data:  # a whole hookline.toml: validate it, plugin tables included
        from hookline._manager import make_plugin_manager

        config = parse_config(data, source=block.where, env={})
        pm = make_plugin_manager(disabled=())
        config.check_plugins({name: pm.get_plugin(name) for name in pm.infos})


def hookline_commands() -> list[tuple[str, list[str]]]:
    found = []
    for page in pages():
        for block in blocks(page):
            if block.lang != "console":
                continue
            for command in block.commands:
                for words in pipeline(shlex.split(command, comments=True)):
                    if words and words[0] == "hookline":
                        found.append((block.where, words[1:]))
    return found


@pytest.mark.parametrize(
    ("where", "argv"), hookline_commands(), ids=[w for w, _ in hookline_commands()]
)
def test_every_documented_command_parses(where, argv):
    from hookline.cli import build_parser

    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{where}: `hookline {' '.join(argv)}` does not parse (exit {exc.code})")


def test_the_runner_reports_the_failing_line(tmp_path):
    page = "example.md"
    text = "# x\n\n```python\nx = 1\n```\n\n```console\n$ hookline runs --bogus\n```\n"
    samples = [{"where": b.where, "lang": b.lang, "code": b.code} for b in blocks(page, text)]
    spec = tmp_path / "samples.json"
    spec.write_text(json.dumps(samples))
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(spec)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert "FAILED docs/example.md:8" in result.stderr
    assert "exited 2, expected 0" in result.stderr


def test_fences_markers_and_nesting():
    text = (
        "<!-- skip-test -->\n```python\nraise SystemExit(1)\n```\n\n"
        "````markdown\n```python\nnot code\n```\n````\n\n```console\n$ hookline runs\n```\n"
    )
    found = blocks("x.md", text)
    assert [(b.lang, b.skip, b.line) for b in found] == [
        ("python", True, 3),
        ("markdown", False, 7),
        ("console", False, 13),
    ]
    assert found[2].runs_hookline and found[2].commands == ["hookline runs"]
