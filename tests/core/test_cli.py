"""The command line: exit codes and messages for good and bad input."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from hookline.cli import main


def test_run_then_list_runs_and_models(
    tiny_installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "data.csv"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("succeeded   train")
    assert main(["runs", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in runs] == ["succeeded"]
    assert main(["runs", "show", runs[0]["run_id"]]) == 0
    shown = capsys.readouterr().out
    assert "sha256" in shown and "check      pass  min_rows" in shown
    assert main(["models", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"name": "m", "versions": 1, "latest": 1, "aliases": {"production": 1}}
    ]
    assert (tiny_installed / "store" / "landing" / "train" / "data.csv").read_bytes() == (
        tiny_installed / "data.csv"
    ).read_bytes()


def test_run_exits_1_when_a_plugin_raises(
    tiny_installed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TINY_FAIL_IN", "train")
    assert main(["run", "data.csv"]) == 1
    assert "plugin 'tiny' failed in hook 'train'" in capsys.readouterr().out


def test_promote_and_rollback_are_one_command(
    tiny_installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tiny_installed / "data2.csv").write_text("x,y\n1,1\n")
    assert main(["run", "data.csv", "data2.csv"]) == 0
    assert main(["models", "rollback", "m", "--alias", "production"]) == 0
    assert "rolled back v2 -> v1" in capsys.readouterr().out
    assert main(["models", "promote", "m", "2", "--alias", "challenger"]) == 0
    assert main(["models", "show", "m", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert shown["aliases"]["production"]["version"] == 1
    assert shown["aliases"]["challenger"]["version"] == 2
    assert main(["models", "approve", "m", "2"]) == 0


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (lambda p: (p / "hookline.toml").unlink(), ["runs"], "configuration file not found"),
        (lambda p: (p / "hookline.toml").write_text("[project\n"), ["runs"], "malformed TOML"),
        (
            lambda p: (p / "hookline.toml").write_text(
                (p / "hookline.toml").read_text() + "\n[plugins.nosuch]\nx = 1\n"
            ),
            ["run", "data.csv"],
            "unknown plugin 'nosuch'",
        ),
        (
            lambda p: (p / "hookline.toml").write_text(
                (p / "hookline.toml").read_text().replace('"deploy"]', '"deplyo"]')
            ),
            ["runs"],
            "unknown stage 'deplyo' (did you mean 'deploy'?)",
        ),
        (lambda p: None, ["run", "missing.csv"], "data file not found: missing.csv"),
        (
            lambda p: None,
            ["runs", "-c", "a" * 300],
            "cannot read configuration: File name too long",
        ),
        (
            lambda p: None,
            ["runs", "--storage", "data.csv"],
            "cannot use 'data.csv' as a storage root",
        ),
        (lambda p: None, ["run", "--pipeline", "nope", "data.csv"], "no pipeline 'nope'"),
        (lambda p: None, ["models", "promote", "m", "7"], "model 'm' has no version 7"),
        (lambda p: None, ["models", "promote", "../m", "1"], "invalid model name"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    tiny_installed: Path, setup, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    setup(tiny_installed)
    code = main(args)
    err = capsys.readouterr().err
    assert message in err
    assert code in (1, 2)
    if "not found" in message or "TOML" in message or "unknown" in message or "file" in message:
        assert code == 2


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["runs", "list", "--limit", "-1"], "argument --limit: '-1': expected a count from 0"),
        (["runs", "list", "--limit", "ten"], "argument --limit: 'ten': expected a count from 0"),
        (["models", "promote", "m", "0"], "'0': expected a version number from 1 to 999,999,999"),
        (["models", "promote", "m", "-5"], "'-5': expected a version number from 1"),
        (["models", "promote", "m", "9" * 40], "'" + "9" * 27 + "...': expected a version number"),
        (["watch", "--interval", "nan"], "'nan': expected seconds from 0.01 to 86,400"),
        (["watch", "--interval", "inf"], "'inf': expected seconds"),
        (["watch", "--settle", "-1"], "'-1': expected seconds from 0 to 86,400"),
        (["job", "run", "--attempt", "0", "x"], "'0': expected an attempt number from 1"),
        (["serve", "--port", "70000"], "'70000': expected a port from 0 to 65,535"),
        (["ui", "--port", "-1"], "'-1': expected a port from 0 to 65,535"),
    ],
)
def test_numbers_out_of_range_exit_2_naming_the_range(
    args: list[str], why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and why in err, err
    assert "Traceback" not in err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["models", "promote"])
    assert exc.value.code == 2


def test_watch_once_processes_new_uploads(
    tiny_installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = tiny_installed / "store" / "landing" / "train"
    landing.mkdir(parents=True)
    (landing / "a.csv").write_text("x,y\n1,2\n")
    (landing / "skip.txt").write_text("not for the pipeline")
    assert main(["watch", "--once"]) == 0
    out = capsys.readouterr().out
    assert out.count("succeeded") == 1
    assert main(["watch", "--once"]) == 0  # second pass: already done, prints nothing new
    assert "succeeded" not in capsys.readouterr().out
    _ = textwrap


def test_retrain_without_new_data_trains_nothing_unless_forced(
    tiny_installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once: retrain replayed the latest upload and registered a duplicate version."""
    from hookline.storage import LocalStorage

    assert main(["run", "data.csv"]) == 0
    storage = LocalStorage(tiny_installed / "store")
    storage.write(
        "monitoring/m/retrain/r1.json",
        json.dumps({"model": "m", "status": "open", "reason": "drift"}).encode(),
    )
    capsys.readouterr()
    assert main(["retrain", "m"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("unchanged") and "m v1 (production) was trained on exactly" in out
    assert "1 retrain request(s) stay open" in out
    assert json.loads(storage.read("monitoring/m/retrain/r1.json"))["status"] == "open"
    assert main(["models", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["versions"] == 1

    assert main(["retrain", "m", "--force"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("succeeded") and "closed 1 retrain request(s)" in out
    request = json.loads(storage.read("monitoring/m/retrain/r1.json"))
    assert request["status"] == "done" and request["outcome"] == "succeeded"
    assert main(["models", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["versions"] == 2
    assert main(["retrain", "nosuch"]) == 2
    assert "no training pipeline for model 'nosuch'" in capsys.readouterr().err


def test_plugins_lists_hooks_with_their_implementers(
    tiny_installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plugins", "--hooks", "--json"]) == 0
    hooks = {h["hook"]: h for h in json.loads(capsys.readouterr().out)}
    assert (
        hooks["train"]["signature"]
        == "train(ctx: RunContext, dataset: Dataset) -> TrainedModel | None"
    )
    assert hooks["train"]["firstresult"] is True and hooks["validate"]["firstresult"] is False
    assert hooks["train"]["implemented_by"] == ["tiny"]


SIGNING_KEY = "s" * 40


def test_models_verify_show_and_sign(
    tiny_installed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tiny_installed / "data2.csv").write_text("x,y\n1,1\n")
    assert main(["run", "data.csv", "data2.csv"]) == 0  # v1, v2, unsigned (no key yet)
    capsys.readouterr()
    assert main(["models", "verify", "m"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "m v1 ok: 1 artifact(s) match, signature none",
        "m v2 ok: 1 artifact(s) match, signature none",
    ]
    monkeypatch.setenv("HOOKLINE_SIGNING_KEY", SIGNING_KEY)
    assert main(["models", "verify", "m", "2"]) == 1  # signing on: unsigned fails
    assert capsys.readouterr().out.startswith("m v2 FAILED: signature: it is unsigned")
    assert main(["models", "promote", "m", "1"]) == 1
    assert "model 'm' version 1 refused for promote to alias 'production': it is unsigned" in (
        capsys.readouterr().err
    )
    assert main(["models", "sign", "m"]) == 0
    assert capsys.readouterr().out.count("signed with key k-") == 2
    assert main(["models", "verify", "m"]) == 0
    assert capsys.readouterr().out.count("signature valid") == 2

    store = tiny_installed / "store" / "registry" / "m" / "versions"
    (store / "000001" / "model.skops").write_bytes((store / "000002" / "model.skops").read_bytes())
    assert main(["models", "verify", "m"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[0] == "m v1 FAILED: model.skops checksum mismatch (modified after it was registered)"
    )
    assert lines[1].startswith("m v2 ok")
    assert main(["models", "show", "m"]) == 0
    shown = capsys.readouterr().out
    assert "FAILED" in shown and "v1 does not verify: model.skops checksum mismatch" in shown
    assert main(["models", "show", "m", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [v["verified"] for v in info["versions"]] == [False, True]
    assert main(["models", "verify", "m", "9"]) == 1
    assert "has no version 9" in capsys.readouterr().err
