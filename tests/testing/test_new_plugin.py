"""``hookline new-plugin``: the scaffold for every hook passes the conformance kit, and a
generated package installs into a fresh environment where its own tests pass."""

from __future__ import annotations

import ast
import importlib
import json
import re
import sys

import pytest
from hookline.cli import main
from hookline.cli._new_plugin import normalise, render, scaffold
from hookline.cli._plugin_templates import HOOK_TEMPLATES
from hookline.errors import UsageError
from hookline.testing import check_plugin
from hookline.testing._static import SPECS


def test_every_hook_has_a_template():
    assert set(HOOK_TEMPLATES) == set(SPECS), "add a template to _plugin_templates.py"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("slack-notify", "slack-notify"), ("Hookline-Slack_Notify", "slack-notify"), ("x2", "x2")],
)
def test_names_are_normalised(given, expected):
    assert normalise(given) == expected


@pytest.mark.parametrize("bad", ["", "2fast", "a b", "a--b", "über", "a/b", "-a"])
def test_bad_names_are_refused(bad):
    with pytest.raises(UsageError, match="invalid plugin name"):
        normalise(bad)


def test_layout_and_entry_point():
    files = render("slack-notify", "after_pipeline_run")
    assert sorted(files) == [
        "README.md",
        "pyproject.toml",
        "src/hookline_slack_notify/__init__.py",
        "tests/test_plugin.py",
    ]
    pyproject = files["pyproject.toml"]
    assert '[project.entry-points.hookline]\nslack-notify = "hookline_slack_notify"' in pyproject
    assert 'name = "hookline-slack-notify"' in pyproject
    assert 'parametrize_plugin_checks(plugin, name="slack-notify")' in files["tests/test_plugin.py"]
    assert "[plugins.slack-notify]" in files["README.md"]


@pytest.mark.parametrize("hook", sorted(SPECS))
def test_signature_is_the_specs(hook):
    source = render("acme", hook)["src/hookline_acme/__init__.py"]
    tree = ast.parse(source)
    (func,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == hook]
    assert [a.arg for a in func.args.args] == list(SPECS[hook])
    assert func.args.defaults == []
    assert any(ast.unparse(d) == "hookimpl" for d in func.decorator_list)


@pytest.mark.parametrize("hook", sorted(SPECS))
def test_each_scaffold_passes_the_kit(hook, tmp_path, monkeypatch):
    root = scaffold(f"kit-{hook}", hook, tmp_path)
    monkeypatch.syspath_prepend(str(root / "src"))
    module_name = f"hookline_kit_{hook}"
    module = importlib.import_module(module_name)
    try:
        ran = check_plugin(module, name=f"kit-{hook.replace('_', '-')}")
    finally:
        sys.modules.pop(module_name, None)
    assert any(r.startswith(f"{hook}[") for r in ran)


def test_cli_creates_the_package_and_says_what_next(tmp_path, capsys):
    assert main(["new-plugin", "acme", "--dir", str(tmp_path), "--hook", "monitor"]) == 0
    out = capsys.readouterr().out
    assert f"created {tmp_path}/hookline-acme/ (plugin 'acme', hook 'monitor')" in out
    assert "pip install -e '.[test]'" in out and "[plugins.acme]" in out
    assert (tmp_path / "hookline-acme" / "src" / "hookline_acme" / "__init__.py").is_file()


def test_cli_errors(tmp_path, capsys):
    assert main(["new-plugin", "acme", "--dir", str(tmp_path), "--hook", "trian"]) == 2
    assert "unknown hook 'trian' (did you mean 'train'?)" in capsys.readouterr().err
    assert main(["new-plugin", "acme", "--dir", str(tmp_path)]) == 0
    assert main(["new-plugin", "acme", "--dir", str(tmp_path)]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert main(["new-plugin", "no way", "--dir", str(tmp_path)]) == 2


@pytest.mark.slow
def test_generated_package_installs_and_its_tests_pass(fresh_venv, tmp_path):
    root = scaffold("row-guard", "validate", tmp_path / "work")
    fresh_venv.pip_install(root)  # a real (non-editable) build: src layout, entry point
    listed = fresh_venv.run("hookline", "plugins", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    plugins = {p["name"]: p for p in json.loads(listed.stdout)}
    assert plugins["row-guard"]["distribution"] == "hookline-row-guard"
    assert plugins["row-guard"]["hooks"] == ["validate"]
    result = fresh_venv.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=root)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) >= 10, result.stdout  # kit checks + behaviour
    assert "failed" not in result.stdout and "error" not in result.stdout
