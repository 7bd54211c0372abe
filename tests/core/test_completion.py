"""Shell completion: the scripts `hookline completion bash|zsh` prints, loaded by a real
bash and a real zsh the way their docs install them, answering a real TAB."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hookline.cli import main
from hookline.cli._completion import script

HERE = Path(__file__).parent
needs_zsh = pytest.mark.skipif(
    shutil.which("zsh") is None, reason="zsh is not installed (bash tests/core/install_shells.sh)"
)


def _env() -> dict[str, str]:
    # `hookline plugins --names` (plugin-name completion) must be the hookline under test
    bindir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bash") / "hookline"
    path.write_text(script("bash"))
    return path


@pytest.fixture(scope="module")
def zsh_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zsh") / "_hookline"
    path.write_text(script("zsh"))
    return path


def bash_complete(path: Path, line: str) -> list[str]:
    words = line.split(" ")
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", str(HERE / "_complete.bash"), str(path), *words],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [w for w in done.stdout.splitlines() if w]


def zsh_complete(path: Path, line: str) -> list[str]:
    done = subprocess.run(
        ["zsh", "-f", str(HERE / "_complete.zsh"), str(path), line],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [w for w in done.stdout.splitlines() if w]


CASES = [
    ("hookline ru", {"run", "runs"}),
    ("hookline mod", {"models"}),
    (
        "hookline models ",
        {"list", "show", "promote", "approve", "rollback", "tag", "describe", "verify", "sign"},
    ),
    ("hookline runs --js", {"--json"}),
    ("hookline runs show x --st", {"--storage"}),
    ("hookline runs --status ", {"succeeded", "rejected", "failed", "interrupted"}),
    ("hookline --ver", {"--version", "--verbose"}),
    ("hookline completion ", {"bash", "zsh"}),
    ("hookline plugins show sk", {"sklearn"}),  # names from `hookline plugins --names`
]


@pytest.mark.parametrize(("line", "expected"), CASES)
def test_bash_completes(bash_script: Path, line: str, expected: set[str]) -> None:
    assert set(bash_complete(bash_script, line)) == expected


@needs_zsh
@pytest.mark.parametrize(("line", "expected"), CASES)
def test_zsh_completes(zsh_script: Path, line: str, expected: set[str]) -> None:
    assert set(zsh_complete(zsh_script, line)) == expected


def test_plugin_names_complete_from_what_is_installed(bash_script: Path) -> None:
    names = subprocess.run(
        ["hookline", "plugins", "--names"], capture_output=True, text=True, env=_env(), check=True
    ).stdout.split()
    assert set(bash_complete(bash_script, "hookline plugins show ")) == set(names)
    assert {"pandas", "sklearn", "gates", "registry", "drift", "reports"} <= set(names)


def test_config_completes_file_names(bash_script: Path, tmp_path: Path) -> None:
    (tmp_path / "hookline.toml").write_text("")
    got = bash_complete(bash_script, f"hookline runs --config {tmp_path}/hook")
    assert got == [f"{tmp_path}/hookline.toml"]


def test_the_scripts_parse(bash_script: Path, zsh_script: Path) -> None:
    subprocess.run(["bash", "-n", str(bash_script)], check=True)
    if shutil.which("zsh"):
        subprocess.run(["zsh", "-n", str(zsh_script)], check=True)


def test_completion_prints_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "bash"]) == 0
    out = capsys.readouterr().out
    assert "complete -o bashdefault -F _shtab_hookline hookline" in out
    assert main(["completion", "zsh"]) == 0
    assert capsys.readouterr().out.startswith("#compdef hookline")


def test_without_shtab_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "shtab", None)
    assert main(["completion", "bash"]) == 2
    err = capsys.readouterr().err
    assert "shell completion needs shtab" in err and "pip install 'hookline[cli]'" in err
