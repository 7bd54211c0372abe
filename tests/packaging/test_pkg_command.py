"""``hookline package`` on the command line: registered, and its errors say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from hookline.cli import main


def test_package_is_a_registered_command(capsys):
    with pytest.raises(SystemExit) as exc:  # argparse exits after printing the help
        main(["package", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--cloud" in out and "dist/aws/{pipeline,serving}.zip" in out


def test_a_missing_config_is_a_configuration_error(tmp_path, capsys):
    code = main(
        [
            "package",
            "--cloud",
            "aws",
            "--config",
            str(tmp_path / "nope.toml"),
            "--out",
            str(tmp_path / "dist"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "nope.toml" in err and "configuration file not found" in err


def test_a_missing_entry_file_names_it_before_installing_anything(
    tmp_path, capsys, project_copy, config_file
):
    functions = tmp_path / "functions"
    (functions / "aws_lambda").mkdir(parents=True)
    code = main(
        [
            "package",
            "--cloud",
            "aws",
            "--config",
            str(config_file),
            "--out",
            str(tmp_path / "dist"),
            "--project",
            str(project_copy),
            "--functions",
            str(functions),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert str(Path(functions / "aws_lambda" / "pipeline.py")) in err and "--functions" in err
    assert not list((tmp_path / "dist" / ".build").glob("*-deps-*")), "nothing was installed"
    assert not (tmp_path / "dist" / "aws").exists()


def test_a_tree_that_is_not_hookline_is_refused(tmp_path, capsys, config_file):
    code = main(
        [
            "package",
            "--cloud",
            "gcp",
            "--config",
            str(config_file),
            "--out",
            str(tmp_path / "dist"),
            "--project",
            str(tmp_path),
        ]
    )
    assert code == 1
    assert "not a hookline source tree" in capsys.readouterr().err
