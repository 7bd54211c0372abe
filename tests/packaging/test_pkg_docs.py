"""docs/packaging.md stays true: its command lines parse, and its option table lists
exactly the options ``hookline package`` has."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

from _pkg_helpers import REPO
from hookline.adapters.packaging import BuildOptions
from hookline.cli import build_parser

DOC = REPO / "docs" / "packaging.md"


def _package_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["package"]


def _commands() -> list[list[str]]:
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), flags=re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    out = []
    for line in lines:
        words = shlex.split(line)
        while words and re.fullmatch(r"[A-Z_]+=\S+", words[0]):  # VAR=value prefixes
            words.pop(0)
        if words[:2] == ["hookline", "package"]:
            out.append(words[1:])
    return out


def test_every_command_line_in_the_page_parses_into_valid_options():
    commands = _commands()
    assert len(commands) >= 4
    for argv in commands:
        args = build_parser().parse_args(argv)
        assert args.func.__module__ == "hookline.adapters.packaging._command"
        BuildOptions(  # validates cloud, arch, python and roles as the command does
            cloud=args.cloud,
            config=Path("hookline.toml"),
            out=Path(args.out),
            project=REPO,
            functions=REPO / "functions",
            arch=args.arch,
            python=args.python,
            roles=("pipeline", "serving") if args.role == "all" else (args.role,),
        )


def test_the_option_table_lists_every_option():
    documented = set(re.findall(r"^\| `(--[a-z0-9-]+)", DOC.read_text(), flags=re.M))
    documented |= set(
        re.findall(r"^\| `--[a-z0-9-]+[^|]*/ `(--[a-z0-9-]+)`", DOC.read_text(), flags=re.M)
    )
    actual = {
        s
        for a in _package_parser()._actions
        for s in a.option_strings
        if s.startswith("--") and s != "--help"
    }
    assert documented == actual


def test_the_page_names_the_bundles_terraform_uses():
    from hookline.adapters.packaging import BUNDLE_NAMES

    text = DOC.read_text()
    for name in BUNDLE_NAMES.values():
        assert f"dist/{name}" in text, name


def _limit_rows() -> list[dict[str, str]]:
    text = DOC.read_text()
    section = text.split("## Size limits", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [
        dict(zip(header, [c.strip() for c in line.strip("|").split("|")])) for line in lines[2:]
    ]
    return rows


def test_the_limits_table_is_the_limits_in_the_code():
    """Every limit hookline checks is in the page with its exact bytes, measure and
    severity, and the page lists no check the code does not make."""
    from hookline.adapters.packaging import IMAGE_LIMITS, LIMITS

    in_code = {
        (limit.bytes, "unzipped" if limit.measure == "unzipped" else "zipped", limit.hard)
        for limits in (*LIMITS.values(), *IMAGE_LIMITS.values())
        for limit in limits
    }
    documented = set()
    for row in _limit_rows():
        if row["bytes"] in ("--", ""):
            assert row["hookline's check"] == "--", row
            continue
        measure = {"uncompressed image": "unzipped"}.get(row["measure"], row["measure"])
        assert measure in ("zipped", "unzipped"), row
        hard = row["hookline's check"] == "error"
        assert hard or row["hookline's check"].startswith("note"), row
        documented.add((int(row["bytes"].replace(",", "")), measure, hard))
    assert documented == in_code
    image = next(r for r in _limit_rows() if r["artifact"] == "container image")
    assert image["platform"] == "AWS Lambda" and IMAGE_LIMITS["aws"][0].bytes == 10 * 1024**3
    direct = next(r for r in _limit_rows() if r["artifact"] == "zip, uploaded directly")
    assert direct["hookline's check"].startswith("note"), "over 50 MB a zip goes through S3"
