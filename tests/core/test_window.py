"""Training windows in the core: the configuration, which earlier uploads a run reads,
reading them by recorded version and checking their bytes, unchanged data, Ctrl-C."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import pytest
from hookline import hookimpl
from hookline._manager import make_plugin_manager
from hookline.config import load_config, parse_config
from hookline.errors import ConfigError, DataError
from hookline.events import StorageEvent
from hookline.runner import Hookline
from hookline.storage import LocalStorage, fetch_source
from hookline.window import Window, data_digest, parse_window

from .conftest import TOML, TinyPlugin


def make_app(plugin: object | None = None, *, window: str = "") -> Hookline:
    if window:
        text = Path("hookline.toml").read_text()
        Path("hookline.toml").write_text(
            text.replace(
                'stages = ["ingest", "train", "validate", "deploy"]\n',
                f'stages = ["ingest", "train", "validate", "deploy"]\nwindow = {window}\n',
                1,
            )
        )
    pm = make_plugin_manager(plugins={"tiny": plugin or TinyPlugin()}, entry_points_group=None)
    return Hookline(load_config(), pm=pm)


def upload(app: Hookline, key: str, data: bytes, *, at: str | None = None) -> StorageEvent:
    info = app.storage.write(key, data)
    event = StorageEvent(
        uri=app.storage.url(key),
        bucket="",
        key=key,
        size=info.size,
        etag=info.etag,
        version=info.etag,
    )
    return replace(event, event_time=at) if at else event


class WindowPlugin(TinyPlugin):
    """Reads the trigger and its window, so a test sees what the run learnt from."""

    def __init__(self) -> None:
        super().__init__()
        self.read: list[list[str]] = []

    @hookimpl
    def ingest(self, ctx, source):
        self.read.append([Path(s.path).read_text() for s in (*ctx.window, source)])
        return super().ingest(ctx, source)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("all", Window()),
        ({"uploads": 3}, Window(uploads=3)),
        ({"days": 30}, Window(days=30.0)),
        ({"days": 0.5}, Window(days=0.5)),
        (None, None),
    ],
)
def test_window_values(value, expected):
    assert parse_window(value, key="pipelines.train.window", source=None) == expected


@pytest.mark.parametrize(
    "value", ["last 3", {"uploads": 0}, {"uploads": 2.5}, {"weeks": 2}, {"uploads": True}, {}]
)
def test_bad_windows_name_the_key(value):
    with pytest.raises(ConfigError, match=r"pipelines\.train\.window") as exc:
        parse_window(value, key="pipelines.train.window", source="hookline.toml")
    assert "uploads = 5" in str(exc.value)


def test_a_window_needs_a_training_pipeline():
    import tomllib

    raw = tomllib.loads(TOML)
    raw["pipelines"]["score"]["window"] = "all"
    with pytest.raises(ConfigError, match=r"pipelines\.score\.window.*does not train"):
        parse_config(raw, env={})


def test_the_data_digest_is_the_set_of_bytes_under_one_configuration():
    assert data_digest(["b", "a", "a"], "c1") == data_digest(["a", "b"], "c1")
    assert data_digest(["a", "b"], "c1") != data_digest(["a", "b"], "c2")
    assert data_digest(["a"], "c1") != data_digest(["a", "b"], "c1")


def test_the_last_n_uploads(project: Path) -> None:
    plugin = WindowPlugin()
    app = make_app(plugin, window="{ uploads = 2 }")
    for i in range(3):
        [result] = app.handle(upload(app, f"landing/train/{i}.csv", f"x,y\n{i},{i}\n".encode()))
        assert result.status == "succeeded", result.message
    assert plugin.read == [
        ["x,y\n0,0\n"],
        ["x,y\n0,0\n", "x,y\n1,1\n"],
        ["x,y\n1,1\n", "x,y\n2,2\n"],
    ]


def test_the_last_days_count_back_from_the_upload(project: Path) -> None:
    plugin = WindowPlugin()
    app = make_app(plugin, window="{ days = 7 }")
    times = ["2026-01-01T00:00:00.000Z", "2026-01-05T00:00:00.000Z", "2026-01-10T00:00:00.000Z"]
    for i, at in enumerate(times):
        event = upload(app, f"landing/train/{i}.csv", f"x,y\n{i},{i}\n".encode(), at=at)
        assert app.handle(event)[0].status == "succeeded"
    # 10 January reaches back to 3 January: the 5 January upload, not the 1 January one
    assert plugin.read[-1] == ["x,y\n1,1\n", "x,y\n2,2\n"]


def test_unchanged_data_trains_nothing_and_force_trains(project: Path) -> None:
    plugin = TinyPlugin()
    app = make_app(plugin)
    data = b"x,y\n1,2\n"
    first = app.handle(upload(app, "landing/train/a.csv", data))[0]
    again = app.handle(upload(app, "landing/train/b.csv", data))[0]  # other key, same bytes
    assert again.status == "succeeded" and again.record is not None
    digest = data_digest([hashlib.sha256(data).hexdigest()], app.config.digest)
    assert again.record["unchanged"] == {
        "model": "m",
        "version": 1,
        "run_id": first.run_id,
        "aliases": ["production"],
        "data_digest": digest,
    }
    assert plugin.calls.count("train") == 1
    assert [v.version for v in app.registry.versions("m")] == [1]
    forced = app.handle(upload(app, "landing/train/c.csv", data), force=True)[0]
    assert forced.record is not None and "unchanged" not in forced.record
    assert [v.version for v in app.registry.versions("m")] == [1, 2]
    assert json.loads(app.storage.read(f"registry/m/by-data/{digest}.json"))["version"] == 1


class Versioned(LocalStorage):
    """A local root that keeps every object's earlier versions, as a versioned bucket does
    (``open_version``): what the window reads when a key was overwritten."""

    def write(self, key, data):  # type: ignore[override]
        current = self.stat(key)
        if current is not None:
            keep = Path(self.root) / ".versions" / key / current.etag
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(self.root) / key, keep)
        return super().write(key, data)

    def open_version(self, key: str, version: str) -> BinaryIO:
        return io.BytesIO((Path(self.root) / ".versions" / key / version).read_bytes())


def test_fetch_reads_the_recorded_version_and_checks_its_bytes(tmp_path: Path) -> None:
    plain = LocalStorage(tmp_path / "plain")
    old = plain.write("a.csv", b"old")
    plain.write("a.csv", b"new")
    with pytest.raises(DataError, match="overwritten since version .* keeps no earlier"):
        fetch_source(plain, "a.csv", str(tmp_path), limit=100, version=old.etag)
    with pytest.raises(DataError, match="not the ones recorded"):
        fetch_source(plain, "a.csv", str(tmp_path), limit=100, sha256="0" * 64)

    versioned = Versioned(tmp_path / "versioned")
    first = versioned.write("a.csv", b"old")
    versioned.write("a.csv", b"new")
    got = fetch_source(
        versioned,
        "a.csv",
        str(tmp_path),
        limit=100,
        version=first.etag,
        sha256=hashlib.sha256(b"old").hexdigest(),
    )
    assert Path(got.path).read_bytes() == b"old" and got.version == first.etag


def test_ctrl_c_records_the_run_as_interrupted_and_releases_its_claim(project: Path) -> None:
    class Interrupted(TinyPlugin):
        @hookimpl
        def train(self, ctx, dataset):
            raise KeyboardInterrupt

    app = make_app(Interrupted())
    event = upload(app, "landing/train/a.csv", b"x,y\n1,2\n")
    with pytest.raises(KeyboardInterrupt):
        app.handle(event)
    run_id = event.run_id("train")
    record = app.runs.get(run_id)
    assert record is not None and record.status == "interrupted"
    assert record.stages["train"] == {"status": "failed"}
    assert [s["run_id"] for s in app.runs.summaries(status="interrupted")] == [run_id]
    claim = json.loads(app.storage.read(f"runs/{run_id}/claim.json"))
    assert claim["released"] is True
    # the next delivery runs it again at once, instead of waiting for the claim to go stale
    [again] = make_app().handle(event)
    assert again.status == "succeeded" and again.record["attempt"] == 2
    assert [s["status"] for s in app.runs.summaries()] == ["succeeded"]
