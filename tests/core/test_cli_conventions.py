"""Command-line conventions: shared flags, `list` subcommands, exit codes, did-you-mean."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from hookline.cli import build_parser, main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's own exits (usage errors, --version)
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_shared_flags_before_the_subcommand_count(
    tiny_installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "data.csv"]) == 0
    capsys.readouterr()
    assert main(["runs", "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out)[0]["run_id"]
    for args in (
        ["runs", "--json", "show", run_id],
        ["runs", "show", run_id, "--json"],
        ["runs", "--storage", str(tiny_installed / "store"), "--json", "show", run_id],
    ):
        code, out, _ = _run(capsys, *args)
        assert code == 0 and json.loads(out)["run_id"] == run_id, args
    # a flag given to the parent is not reset by the subcommand's default
    code, out, _ = _run(capsys, "models", "--json", "show", "m")
    assert code == 0 and json.loads(out)["name"] == "m"


def test_list_is_a_subcommand_of_runs_models_and_plugins(
    tiny_installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "data.csv"]) == 0
    capsys.readouterr()
    code, out, _ = _run(capsys, "runs", "list", "--json", "--status", "succeeded")
    assert code == 0 and [r["status"] for r in json.loads(out)] == ["succeeded"]
    code, out, _ = _run(capsys, "runs", "--json", "list", "--status", "failed")
    assert code == 0 and json.loads(out) == []
    code, out, _ = _run(capsys, "models", "list", "--json")
    assert code == 0 and [m["name"] for m in json.loads(out)] == ["m"]
    code, out, _ = _run(capsys, "runs", "list", "--model", "m/1", "--json")
    assert code == 0 and [r["version"] for r in json.loads(out)] == [1]
    code, out, _ = _run(capsys, "runs", "list", "--model", "m@production", "--json")
    assert code == 0 and len(json.loads(out)) == 1
    code, out, _ = _run(capsys, "plugins", "list", "--json")
    assert code == 0 and [p["name"] for p in json.loads(out)] == ["tiny"]


def test_models_show_of_an_unknown_model_fails(
    tiny_installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "models", "show", "NOSUCH")
    assert code == 1
    assert "no model 'NOSUCH'" in err and "no model is registered yet" in err
    assert main(["run", "data.csv"]) == 0
    code, _, err = _run(capsys, "models", "show", "n")
    assert code == 1 and "(did you mean 'm'?)" not in err  # one letter: too far to guess
    assert "hint: models: m" in err


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    from hookline import __version__

    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out == f"hookline {__version__}\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["rnus"],
            "hookline: error: argument COMMAND: unknown command 'rnus' (did you mean 'runs'?)",
        ),
        (["modles", "list"], "unknown command 'modles' (did you mean 'models'?)"),
        (
            ["models", "shwo", "m"],
            "hookline models: error: argument SUBCOMMAND: unknown command 'shwo' "
            "(did you mean 'show'?)",
        ),
        (
            ["runs", "--jsn"],
            "hookline runs: error: unknown option '--jsn' (did you mean '--json'?)",
        ),
        (
            ["runs", "--limt", "5"],
            "hookline runs: error: unknown option '--limt' (did you mean '--limit'?)",
        ),
        (
            ["runs", "show", "x", "--stroage", "y"],
            "hookline runs show: error: unknown option '--stroage' (did you mean '--storage'?)",
        ),
        (
            ["models", "promote", "m", "1", "--alais=staging"],
            "unknown option '--alais' (did you mean '--alias'?)",
        ),
        (["runs", "--status", "faild"], "unknown choice 'faild' (did you mean 'failed'?)"),
        (
            ["--verbsoe"],
            "hookline: error: unrecognized arguments: --verbsoe (did you mean '--verbose'?)",
        ),
        (["completion", "fish"], "unknown choice 'fish'; choose from bash, zsh"),
    ],
)
def test_typos_get_a_did_you_mean_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, *args)
    assert code == 2
    assert message in err
    assert err.startswith("usage: ")  # the usage of the command the typo was made in
    assert out == ""


def test_the_usage_shown_is_the_subcommand_s(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = _run(capsys, "runs", "show", "x", "--jsno")
    assert err.startswith("usage: hookline runs show ")


def test_a_typo_in_a_plugin_name(
    tiny_installed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "plugins", "show", "tiyn")
    assert code == 1
    assert "no plugin 'tiyn' is installed (did you mean 'tiny'?)" in err
    monkeypatch.setenv("HOOKLINE_PLUGINS", "tiyn")
    code, _, err = _run(capsys, "run", "data.csv")
    assert code == 2
    assert (
        "plugin 'tiyn': pinned in HOOKLINE_PLUGINS but not installed (did you mean 'tiny'?)" in err
    )
    monkeypatch.setenv("HOOKLINE_PLUGINS", "tiny")
    toml = tiny_installed / "hookline.toml"
    toml.write_text(toml.read_text() + "\n[plugins.tinny]\nx = 1\n")
    code, _, err = _run(capsys, "run", "data.csv")
    assert code == 2 and "unknown plugin 'tinny' (did you mean 'tiny'?)" in err


def test_plugins_show_and_names(tiny_installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "plugins", "show", "tiny", "--json")
    shown = json.loads(out)
    assert code == 0
    assert (shown["name"], shown["distribution"], shown["version"]) == ("tiny", "tinyplug", "0.1")
    assert shown["hooks"] == ["deploy", "ingest", "train", "validate"]
    code, out, _ = _run(capsys, "plugins", "show", "registry")
    assert code == 0
    assert "[plugins.registry]" in out and "onnx" in out  # its CONFIG keys, as a table
    code, out, _ = _run(capsys, "plugins", "--names")
    names = out.split()
    assert {"tiny", "pandas", "sklearn", "registry"} <= set(names) and names == sorted(names)


def test_every_command_documents_its_arguments() -> None:
    """Every flag and argument has help text (the reference page and completions show it)."""
    from hookline.cli._parser import subcommands

    missing = []

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction) or action.dest == "help":
                continue
            if not action.help:
                missing.append(f"{path} {(action.option_strings or [action.dest])[0]}")
        for name, child in subcommands(parser).items():
            walk(child, f"{path} {name}")

    walk(build_parser(), "hookline")
    assert missing == []
