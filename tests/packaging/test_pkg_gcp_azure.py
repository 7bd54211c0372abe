"""The GCP source archive (built through the ``hookline package`` command) and the Azure
run-from-package zip: what is in them, where, and that requirements are pinned."""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from _pkg_helpers import REPO, check_manifest, require_entry_files
from hookline.adapters.packaging import BuildOptions, build
from hookline.cli import main

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+$")
SITE = ".python_packages/lib/site-packages/"


def _requirements(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@pytest.fixture(scope="session")
def gcp_zip(
    tmp_path_factory: pytest.TempPathFactory, project_copy: Path, config_file: Path
) -> dict[str, Any]:
    functions = require_entry_files("gcp_functions/main.py")
    out = tmp_path_factory.mktemp("dist-gcp")
    code = main(
        [
            "package",
            "--cloud",
            "gcp",
            "--config",
            str(config_file),
            "--out",
            str(out),
            "--project",
            str(project_copy),
            "--functions",
            str(functions),
            "--python",
            PY,
            "--registry",
            "none",
        ]
    )
    assert code == 0
    report = json.loads((out / "gcp" / "build-report.json").read_text())
    return {"zip": out / "gcp" / "source.zip", "report": report, "out": out}


def test_gcp_source_archive_layout(gcp_zip, config_file):
    with zipfile.ZipFile(gcp_zip["zip"]) as zf:
        names = set(zf.namelist())
        assert zf.read("main.py") == (REPO / "functions/gcp_functions/main.py").read_bytes()
        assert zf.read("hookline.toml") == config_file.read_bytes()
        requirements = zf.read("requirements.txt").decode()
        [ep] = [n for n in names if n.startswith("hookline-") and n.endswith("entry_points.txt")]
        assert "[hookline.storage]" in zf.read(ep).decode()
    assert "hookline/__init__.py" in names, "hookline is vendored as a local package"
    assert not any(n.startswith(("numpy/", "pandas/", "sklearn/")) for n in names), (
        "third-party dependencies are installed by Cloud Build, not shipped"
    )
    lines = _requirements(requirements)
    assert lines and all(PIN.match(line) for line in lines), lines
    pinned = {line.split("==")[0].lower() for line in lines}
    assert {
        "functions-framework",
        "google-cloud-storage",
        "pandas",
        "scikit-learn",
        "skops",
        "pluggy",
        "fastapi",
    } <= pinned
    assert "hookline" not in pinned and "pyarrow" not in pinned
    [bundle] = gcp_zip["report"]["bundles"]
    assert bundle["zipped_bytes"] < 100 * 1024 * 1024
    assert bundle["smoke"].startswith("skipped"), "Cloud Build installs the dependencies"


@pytest.fixture(scope="session")
def azure_zip(
    tmp_path_factory: pytest.TempPathFactory, project_copy: Path, config_file: Path
) -> dict[str, Any]:
    functions = require_entry_files("azure_functions/function_app.py", "azure_functions/host.json")
    out = tmp_path_factory.mktemp("dist-azure")
    options = BuildOptions(
        cloud="azure",
        config=config_file,
        out=out,
        project=project_copy,
        functions=functions,
        roles=("pipeline",),
        python=PY,
        registry="none",
    )
    [result] = build(options)
    return {"zip": result.path, "result": result, "out": out}


def test_azure_run_from_package_layout(azure_zip, config_file):
    assert azure_zip["zip"].name == "pipeline.zip" and azure_zip["zip"].parent.name == "azure"
    with zipfile.ZipFile(azure_zip["zip"]) as zf:
        names = zf.namelist()
        root = {n for n in names if "/" not in n}
        assert root == {"function_app.py", "host.json", "hookline.toml", "requirements.txt"}
        host = json.loads(zf.read("host.json"))
        assert host["version"] == "2.0"
        assert zf.read("hookline.toml") == config_file.read_bytes()
        requirements = _requirements(zf.read("requirements.txt").decode())
    others = {n.split("/", 1)[0] for n in names if "/" in n} - {"__pycache__"}
    assert others == {".python_packages"}, others
    for package in (
        "hookline",
        "numpy",
        "sklearn",
        "pandas",
        "azure/functions",
        "azure/storage/blob",
    ):
        assert f"{SITE}{package}/__init__.py" in names, package
    assert all(PIN.match(line) for line in requirements), requirements
    installed = {
        n[len(SITE) :].split("-")[0].lower().replace("_", "-")
        for n in names
        if n.startswith(SITE) and n.endswith(".dist-info/METADATA")
    }
    pinned = {line.split("==")[0].lower().replace("_", "-") for line in requirements}
    assert pinned == installed - {"hookline"}, "requirements.txt pins exactly what is shipped"
    assert not any("/tests/test_" in n or n.endswith(".pyx") for n in names)
    tag = sys.implementation.cache_tag
    assert f"{SITE}numpy/__pycache__/__init__.{tag}.pyc" in names
    assert azure_zip["result"].smoke.startswith("ok"), azure_zip["result"].smoke


def test_gcp_manifest_describes_the_source_archive(gcp_zip):
    manifest = check_manifest(gcp_zip["out"], "gcp", "source", PY)
    assert manifest["handler"] == "main.py" and manifest["artifact"] == "source.zip"
    assert manifest["entry_points"] == {"pipeline": "pipeline", "serving": "serving"}
    assert {"hookline", "scikit-learn", "numpy", "pandas", "skops"} <= set(manifest["libraries"])


def test_azure_manifest_describes_the_zip(azure_zip):
    manifest = check_manifest(azure_zip["out"], "azure", "pipeline", PY)
    assert manifest["handler"] == "function_app.py" and manifest["runtime"] == PY
