"""One owner for where the configuration is, and for what a project opens."""

from __future__ import annotations

from pathlib import Path

import pytest
from hookline.cli import main
from hookline.config import find_config
from hookline.errors import ConfigError
from hookline.project import Project


def test_config_search_order(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    assert find_config("x.toml", bundle_dir=bundle, environ={"HOOKLINE_CONFIG": "e"}) == "x.toml"
    assert find_config(None, bundle_dir=bundle, environ={"HOOKLINE_CONFIG": "e"}) == "e"
    assert find_config(None, bundle_dir=bundle, environ={}) == "hookline.toml"
    (bundle / "hookline.toml").write_text("")
    assert find_config(None, bundle_dir=bundle, environ={}) == str(bundle / "hookline.toml")


def test_storage_given_explicitly_wins_over_the_file(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    proj = Project.open(storage=str(other))
    assert proj.config.storage == str(other)
    assert proj.storage.uri == Project.open(storage=str(other)).storage.uri
    assert "train" in proj.config.pipelines  # the file was still read


def test_a_read_only_project_needs_no_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOOKLINE_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="configuration file not found"):
        Project.open()
    proj = Project.open(storage=str(tmp_path / "root"), require_config=False)
    assert proj.config.pipelines == {}
    assert list(proj.runs.summaries()) == []


def test_runs_with_storage_and_no_config_file(
    tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOOKLINE_CONFIG", raising=False)
    assert main(["runs", "--storage", str(tmp_path / "root")]) == 0
    assert main(["models", "--storage", str(tmp_path / "root")]) == 0


def test_adapter_sections_are_validated_with_the_core_s(tmp_path: Path) -> None:
    from hookline.config import parse_config

    base = {"pipelines": {"t": {"model": "m", "stages": ["ingest"], "trigger": {"prefix": "l/"}}}}
    cfg = parse_config({**base, "serving": {"max_batch": 5}}, env={})
    assert cfg.section("serving")["max_batch"] == 5
    assert cfg.section("serving")["alias"] == "production"  # defaults filled in
    assert cfg.section("ui")["page_size"] == 50
    with pytest.raises(ConfigError, match=r"\[serving\.max_bacth\].*did you mean 'max_batch'"):
        parse_config({**base, "serving": {"max_bacth": 5}}, env={})
    with pytest.raises(ConfigError, match=r"unknown section \[servng\].*did you mean \[serving\]"):
        parse_config({**base, "servng": {}}, env={})
