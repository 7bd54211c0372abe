"""The install layout: one import root, entry points for every built-in, a light core."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import hookline
import hookline.plugins
import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = (
    "pandas",
    "numpy",
    "sklearn",
    "scipy",
    "skops",
    "boto3",
    "botocore",
    "google.cloud",
    "azure",
    "fastapi",
    "pydantic",
    "mangum",
    "pyarrow",
    "jinja2",
)


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("name", ["core", "plugins", "adapters", "functions"])
def test_source_folders_are_not_top_level_packages(name: str, tmp_path: Path) -> None:
    result = run_python(f"import {name}", cwd=tmp_path)
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stderr


def test_the_three_folders_install_under_one_root() -> None:
    assert Path(hookline.__file__).parent == REPO / "core"
    assert Path(hookline.plugins.__file__).parent == REPO / "plugins"
    adapters = importlib.import_module("hookline.adapters")
    assert Path(adapters.__file__).parent == REPO / "adapters"


LIBRARY_MODULES = {"hookline.plugins.metrics"}
"""Public modules of the plugins package that are shared code, not plugins (the table of
metric directions other plugins and the dashboard use)."""


def test_every_builtin_plugin_module_is_an_entry_point() -> None:
    advertised = {ep.value.split(":")[0] for ep in entry_points(group="hookline")}
    modules = {
        f"hookline.plugins.{m.name}"
        for m in pkgutil.iter_modules(hookline.plugins.__path__)
        if not m.name.startswith("_")
    } - LIBRARY_MODULES
    assert not advertised & LIBRARY_MODULES, "a library module has no hooks to advertise"
    assert modules <= advertised, f"not advertised as entry points: {modules - advertised}"


def test_core_and_plugin_manager_import_nothing_heavy(tmp_path: Path) -> None:
    code = (
        "import sys\nbare = set(sys.modules)\n"
        "import hookline, hookline.runner, hookline.cli, hookline.config\n"
        "from hookline._manager import make_plugin_manager\n"
        "make_plugin_manager()\n"
        "from hookline.cli import build_parser; build_parser()\n"
        f"roots = {[h.split('.')[0] for h in HEAVY]!r}\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in roots"
        " and m not in bare]\n"
        "print(','.join(sorted(heavy)))\n"
    )
    result = run_python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"heavy modules imported at load: {result.stdout}"


def _modules() -> list[str]:
    names = []
    for root, prefix in ((REPO / "core", "hookline"), (REPO / "plugins", "hookline.plugins")):
        for path in root.rglob("*.py"):
            rel = path.relative_to(root).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            if "templates" in parts:
                continue
            names.append(".".join([prefix, *parts]))
    return sorted(set(names))


def test_every_core_and_plugin_module_imports_cleanly_with_warnings_as_errors(
    tmp_path: Path,
) -> None:
    code = f"import importlib\nfor m in {_modules()!r}:\n    importlib.import_module(m)\n"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
