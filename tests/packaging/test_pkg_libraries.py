"""Bundles carry the library versions that trained the production model (defect 4): the
registry is a real one, written by ``hookline run`` on the quickstart in this environment.

The refusal case is Lambda python3.11 (Amazon Linux 2, glibc 2.26): the numpy and
scikit-learn this environment trains with publish no wheels that old a glibc accepts, so the
bundle could only carry older releases -- exactly the 1.7.2-vs-1.9.1 defect. The other cases
use the GCP source archive, whose dependencies are resolved, not installed (fast).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from _pkg_helpers import QUICKSTART, require_entry_files
from hookline.cli import main

MODEL_LIBS = ("numpy", "pandas", "scikit-learn", "scipy", "skops")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the quickstart with version 1 of `penguins` in production."""
    project = tmp_path_factory.mktemp("quickstart")
    for name in ("hookline.toml", "batch1.csv"):
        shutil.copy2(QUICKSTART.parent / name, project / name)
    code = main(["run", "--config", str(project / "hookline.toml"), str(project / "batch1.csv")])
    assert code == 0
    manifest = project / ".hookline/registry/penguins/versions/000001/manifest.json"
    libraries = json.loads(manifest.read_text())["libraries"]
    aliases = project / ".hookline/registry/penguins/aliases/production.json"
    assert json.loads(aliases.read_text())["version"] == 1
    return {"project": project, "libraries": {k: libraries[k] for k in MODEL_LIBS}}


def _package(trained, project_copy, tmp_path, *args: str) -> int:
    return main(
        [
            "package",
            "--config",
            str(trained["project"] / "hookline.toml"),
            "--out",
            str(tmp_path / "dist"),
            "--project",
            str(project_copy),
            "--functions",
            str(require_entry_files("gcp_functions/main.py")),
            *args,
        ]
    )


def test_the_bundle_defaults_to_the_versions_that_trained_the_production_model(
    trained, project_copy, tmp_path, capsys
):
    assert _package(trained, project_copy, tmp_path, "--cloud", "gcp") == 0
    manifest = json.loads((tmp_path / "dist/gcp/source.manifest.json").read_text())
    assert {k: manifest["libraries"][k] for k in MODEL_LIBS} == trained["libraries"]
    assert manifest["runtime"] == "python312", "the default runtime"
    report = json.loads((tmp_path / "dist/gcp/build-report.json").read_text())
    assert report["libraries_from"].startswith("library versions of model 'penguins' version 1")


def test_packaging_refuses_versions_the_model_was_not_trained_with(
    trained, project_copy, tmp_path, capsys
):
    code = _package(trained, project_copy, tmp_path, "--cloud", "aws", "--python", "3.11")
    err = capsys.readouterr().err
    assert code == 2, err
    libs = trained["libraries"]
    assert "model 'penguins' version 1 (production) was trained with" in err
    assert f"scikit-learn {libs['scikit-learn']}" in err and f"numpy {libs['numpy']}" in err
    carried = err.split("would carry", 1)[1].split("\n", 1)[0]
    other = carried.split("scikit-learn ", 1)[1].split(",")[0].strip()
    assert other != libs["scikit-learn"], "the message names the version the bundle would carry"
    assert "--force" in err
    assert not (tmp_path / "dist/aws/pipeline.zip").exists()
    assert not list((tmp_path / "dist").glob("aws/*.manifest.json"))


def test_a_requirement_that_pins_another_release_is_refused_unless_forced(
    trained, project_copy, tmp_path, capsys
):
    args = ("--cloud", "gcp", "--with", "scikit-learn==1.7.2")
    assert _package(trained, project_copy, tmp_path, *args) == 2
    err = capsys.readouterr().err
    assert f"scikit-learn {trained['libraries']['scikit-learn']}" in err
    assert "would carry" in err and "scikit-learn 1.7.2" in err

    assert _package(trained, project_copy, tmp_path, *args, "--force") == 0
    captured = capsys.readouterr()
    assert "warning: --force: model 'penguins' version 1 (production)" in captured.err
    assert "note: --force" in captured.out, "the warning is in the report too"
    manifest = json.loads((tmp_path / "dist/gcp/source.manifest.json").read_text())
    assert manifest["libraries"]["scikit-learn"] == "1.7.2"


def test_registry_none_bundles_this_environments_versions(trained, project_copy, tmp_path):
    from importlib.metadata import version

    assert _package(trained, project_copy, tmp_path, "--cloud", "gcp", "--registry", "none") == 0
    manifest = json.loads((tmp_path / "dist/gcp/source.manifest.json").read_text())
    assert {k: manifest["libraries"][k] for k in MODEL_LIBS} == {k: version(k) for k in MODEL_LIBS}


def test_an_unreadable_registry_says_how_to_go_on(trained, project_copy, tmp_path, capsys):
    code = _package(trained, project_copy, tmp_path, "--cloud", "gcp", "--registry", "zz://x")
    assert code != 0
    err = capsys.readouterr().err
    assert "zz://x" in err and "--registry none" in err
    assert not Path(tmp_path / "dist/gcp/source.zip").exists()
