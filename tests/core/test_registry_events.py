"""Registry events reach the plugins however the change is made: a run, the CLI, code."""

from __future__ import annotations

from pathlib import Path

import pytest
from hookline import hookimpl
from hookline._manager import make_plugin_manager
from hookline.cli import main
from hookline.project import Project
from hookline.runner import Hookline

from .conftest import TinyPlugin
from .test_runner import upload


class Recorder:
    def __init__(self) -> None:
        self.versions: list[tuple[str | None, str, int]] = []
        self.moves: list[tuple[str | None, str, str, int | None, int | None]] = []

    @hookimpl
    def after_version_registered(self, ctx, version):
        self.versions.append((ctx.run_id if ctx else None, version.model, version.version))

    @hookimpl
    def after_alias_moved(self, ctx, move):
        self.moves.append(
            (ctx.run_id if ctx else None, move.action, move.alias, move.version, move.previous)
        )


def _project(recorder: Recorder) -> Project:
    pm = make_plugin_manager(
        plugins={"tiny": TinyPlugin(), "recorder": recorder}, entry_points_group=None
    )
    return Project.open(plugins=pm)


def test_a_run_fires_both_events_once_with_its_context(project: Path) -> None:
    recorder = Recorder()
    app = Hookline(_project(recorder))
    event = upload(app, "landing/train/data.csv", (project / "data.csv").read_bytes())
    [result] = app.handle(event)
    assert recorder.versions == [(result.run_id, "m", 1)]
    assert recorder.moves == [(result.run_id, "promote", "production", 1, None)]
    # a redelivery changes nothing and fires nothing
    app.handle(event)
    assert len(recorder.versions) == 1 and len(recorder.moves) == 1


def test_a_person_s_moves_fire_with_no_context(project: Path) -> None:
    recorder = Recorder()
    proj = _project(recorder)
    app = Hookline(proj)
    for text in ("x,y\n1,2\n2,4\n", "x,y\n1,3\n2,5\n"):
        app.handle(upload(app, f"landing/train/{len(text)}-{text[5]}.csv", text.encode()))
    assert [m[3] for m in recorder.moves] == [1, 2]
    proj.registry.rollback("m", "production", by="ops")
    assert recorder.moves[-1] == (None, "rollback", "production", 1, 2)
    proj.registry.move_alias("m", "staging", 2, action="promote", by="ops")
    assert recorder.moves[-1] == (None, "promote", "staging", 2, None)


def test_an_observer_that_fails_never_undoes_the_move(project: Path) -> None:
    class Broken:
        @hookimpl
        def after_alias_moved(self, ctx, move):
            raise RuntimeError("notifier down")

    pm = make_plugin_manager(
        plugins={"tiny": TinyPlugin(), "broken": Broken()}, entry_points_group=None
    )
    app = Hookline(Project.open(plugins=pm))
    [result] = app.handle(upload(app, "landing/train/a.csv", b"x,y\n1,2\n2,4\n"))
    assert result.status == "succeeded"
    assert app.registry.alias("m", "production").version == 1


def test_the_cli_rollback_reaches_installed_plugins(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder()
    app = Hookline(_project(recorder))
    for name, text in (("a.csv", "x,y\n1,2\n2,4\n"), ("b.csv", "x,y\n1,3\n2,5\n")):
        app.handle(upload(app, f"landing/train/{name}", text.encode()))
    seen: list[object] = []

    def fake_manager(**kwargs: object) -> object:
        pm = make_plugin_manager(plugins={"recorder": recorder}, entry_points_group=None)
        seen.append(pm)
        return pm

    # The CLI builds its plugin manager from entry points; stand in a recording one.
    monkeypatch.setattr("hookline._manager.make_plugin_manager", fake_manager)
    assert main(["models", "rollback", "m", "--alias", "production"]) == 0
    assert seen, "the CLI built no plugin manager for the registry event"
    assert recorder.moves[-1][:3] == (None, "rollback", "production")
    assert recorder.moves[-1][3:] == (1, 2)
