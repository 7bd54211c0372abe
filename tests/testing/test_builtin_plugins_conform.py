"""The built-in plugins are registered exactly like third-party ones, so they pass the same
conformance kit: each rule and each hook scenario is its own test."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest
from hookline.testing import TARGETS, parametrize_plugin_checks

ROOT = Path(__file__).resolve().parents[2]

# The tables a project would write for these plugins (the rest run on their defaults).
CONFIGS = {"pandas": lambda scenario: {"target": TARGETS[scenario.task]}}


def builtin_plugins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    group = project.get("entry-points", {}).get("hookline", {})
    return {name: value for name, value in group.items() if value.startswith("hookline.plugins")}


def params() -> list:
    out = []
    for name, value in sorted(builtin_plugins().items()):
        module = importlib.import_module(value.partition(":")[0])
        plugin = getattr(module, value.partition(":")[2]) if ":" in value else module
        for param in parametrize_plugin_checks(plugin, name=name, config=CONFIGS.get(name)):
            out.append(pytest.param(*param.values, id=f"{name}-{param.id}"))
    return out


def test_there_are_builtin_plugins():
    assert {"pandas", "sklearn", "gates", "registry", "drift"} <= set(builtin_plugins())


@pytest.mark.parametrize("check", params())
def test_builtin_plugin_conforms(check):
    check()
