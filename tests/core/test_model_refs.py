"""Model references (name, name@alias, name/version) and a version's tags and description."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from hookline import VersionMeta, hookimpl, layout
from hookline._manager import make_plugin_manager
from hookline.cli import main
from hookline.errors import NotFound, UsageError
from hookline.project import Project
from hookline.registry import ModelRef, Registry, parse_model_ref
from hookline.storage import LocalStorage

from .conftest import TinyPlugin


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("churn", ModelRef("churn")),
        ("churn@production", ModelRef("churn", alias="production")),
        ("churn/3", ModelRef("churn", version=3)),
        ("churn/v12", ModelRef("churn", version=12)),
        ("models:/churn@staging", ModelRef("churn", alias="staging")),
        ("models:/churn/2", ModelRef("churn", version=2)),
        (" my.model-2 ", ModelRef("my.model-2")),
    ],
)
def test_references_parse(text: str, ref: ModelRef) -> None:
    assert parse_model_ref(text) == ref
    assert parse_model_ref(str(ref)) == ref  # str() is the canonical spelling


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "it is empty"),
        ("churn/0", "the version '0' is not a version number (1 to 999,999,999)"),
        ("churn/three", "the version 'three' is not a version number (1 to 999,999,999)"),
        ("churn/-1", "the version '-1' is not a version number (1 to 999,999,999)"),
        ("churn/٣", "the version '٣' is not a version number (1 to 999,999,999)"),
        ("churn@", "the name and the alias around '@' must not be empty"),
        ("@prod", "the name and the alias around '@' must not be empty"),
        ("churn@prod/3", "name a version or an alias, not both"),
        ("/3", "the model name before '/' is empty"),
        ("../etc/3", "invalid model name '..'"),
        ("churn@../x", "name a version or an alias, not both"),
        ("churn@a b", "invalid alias name 'a b'"),
        ("churn/1234567890", "the version '1234567890' is not a version number (1 to 999,999,999)"),
        ("churn/3/4", "the version '3/4' is not a version number (1 to 999,999,999)"),
    ],
)
def test_bad_references_say_what_is_wrong_and_the_forms(text: str, why: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_model_ref(text)
    assert why in exc.value.message
    assert "NAME@ALIAS or NAME/VERSION" in str(exc.value.hint)


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    reg = Registry(LocalStorage(tmp_path / "store"))
    for n in (1, 2):
        reg.register("m", {"model.bin": f"v{n}".encode()}, {"run_id": f"r{n}"})
    reg.move_alias("m", "production", 1)
    return reg


def test_lookup_resolves_each_form(registry: Registry) -> None:
    assert registry.lookup("m/2").version == 2
    assert registry.lookup("m@production").version == 1
    assert registry.lookup("m", default_alias="production").version == 1
    with pytest.raises(UsageError, match="names a model, not one of its versions"):
        registry.lookup("m")
    with pytest.raises(NotFound, match="alias 'staging' of model 'm' points at no version"):
        registry.lookup("m@staging")
    with pytest.raises(NotFound, match="model 'm' has no version 9"):
        registry.lookup("m/9")


def test_tags_and_description_live_beside_the_manifest(registry: Registry) -> None:
    storage = registry.storage
    manifest_before = storage.read(layout.manifest_key("m", 2))
    meta = registry.update_version(
        "m", 2, tags={"reviewed": "yes", "ticket": "OPS-7"}, description="March", by="ann"
    )
    assert meta == VersionMeta(
        model="m",
        version=2,
        tags={"reviewed": "yes", "ticket": "OPS-7"},
        description="March",
        seq=1,
        by="ann",
        at=meta.at,
        changed=("reviewed", "ticket", "description"),
    )
    assert storage.read(layout.manifest_key("m", 2)) == manifest_before  # never rewritten
    stored = json.loads(storage.read("registry/m/versions/000002/meta.json"))
    assert stored["tags"] == {"reviewed": "yes", "ticket": "OPS-7"}
    assert stored["history"][0]["by"] == "ann"
    meta = registry.update_version("m", 2, tags={"reviewed": "no"}, remove=["ticket"], by="bob")
    assert meta.tags == {"reviewed": "no"} and meta.description == "March"
    assert meta.changed == ("reviewed", "ticket") and meta.seq == 2
    history = json.loads(storage.read("registry/m/versions/000002/meta.json"))["history"]
    assert history[1] == {
        "seq": 2,
        "at": meta.at,
        "by": "bob",
        "set": {"reviewed": "no"},
        "removed": ["ticket"],
    }
    assert registry.version_meta("m", 1) == VersionMeta("m", 1)  # untouched version: empty


def test_a_change_that_changes_nothing_writes_nothing(registry: Registry) -> None:
    first = registry.update_version("m", 1, tags={"a": "1"})
    info = registry.storage.stat("registry/m/versions/000001/meta.json")
    again = registry.update_version("m", 1, tags={"a": "1"}, remove=["absent"])
    assert again.seq == first.seq == 1
    assert registry.storage.stat("registry/m/versions/000001/meta.json").etag == info.etag


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tags": {"bad key": "x"}}, "invalid tag key 'bad key'"),
        ({"tags": {"k": 3}}, "the value must be text, got int"),
        ({"tags": {"description": "x"}}, "'description' is not a tag"),
        ({"tags": {"k": "x" * 5001}}, "at most 5000 characters"),
        ({"tags": {"k": "a\x00b"}}, "without NUL"),
        ({"tags": {"k": "x"}, "remove": ["k"]}, "tag 'k' is both set and removed"),
        ({"description": "x" * 20_001}, "at most 20000 characters"),
        ({"tags": {f"k{i}": "v" for i in range(101)}}, "101 tags, more than 100"),
    ],
)
def test_bad_tags_are_refused_and_nothing_is_written(
    registry: Registry, kwargs: dict, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        registry.update_version("m", 1, **kwargs)
    assert registry.storage.stat("registry/m/versions/000001/meta.json") is None


def test_missing_versions_cannot_be_tagged(registry: Registry) -> None:
    with pytest.raises(NotFound, match="model 'm' has no version 7"):
        registry.update_version("m", 7, tags={"a": "b"})
    with pytest.raises(NotFound):
        registry.update_version("other", 1, tags={"a": "b"})


def test_no_artifact_can_take_the_meta_file_s_name(registry: Registry) -> None:
    with pytest.raises(UsageError, match="invalid artifact name 'meta.json'"):
        registry.register("m", {"meta.json": b"{}"}, {})


def test_concurrent_taggers_both_land(tmp_path: Path, registry: Registry) -> None:
    """Compare-and-swap: eight writers, each with its own registry, none lost."""
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def tag(i: int) -> None:
        mine = Registry(LocalStorage(tmp_path / "store"))
        barrier.wait()
        try:
            mine.update_version("m", 1, tags={f"writer{i}": str(i)}, by=f"w{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=tag, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    meta = registry.version_meta("m", 1)
    assert meta.tags == {f"writer{i}": str(i) for i in range(8)}
    assert meta.seq == 8


class Recorder:
    def __init__(self) -> None:
        self.updates: list[tuple[object, int, dict, str, tuple]] = []

    @hookimpl
    def after_version_updated(self, ctx, version, meta):
        self.updates.append((ctx, version.version, dict(meta.tags), meta.description, meta.changed))


def test_tagging_from_the_cli_fires_the_event_once(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder()
    pm = make_plugin_manager(
        plugins={"tiny": TinyPlugin(), "recorder": recorder}, entry_points_group=None
    )
    monkeypatch.setattr("hookline._manager.make_plugin_manager", lambda **kw: pm)
    proj = Project.open(plugins=pm)
    proj.registry.register("m", {"model.bin": b"x"}, {"run_id": "r1"})
    proj.registry.move_alias("m", "production", 1)
    assert main(["models", "tag", "m@production", "reviewed=yes", "owner=ml team"]) == 0
    assert capsys.readouterr().out == "owner=ml team\nreviewed=yes\n"
    assert main(["models", "tag", "m@production", "reviewed=yes"]) == 0  # no change, no event
    assert main(["models", "describe", "m", "1", "Trained", "on", "March"]) == 0
    assert recorder.updates == [
        (None, 1, {"reviewed": "yes", "owner": "ml team"}, "", ("owner", "reviewed")),
        (None, 1, {"reviewed": "yes", "owner": "ml team"}, "Trained on March", ("description",)),
    ]


def test_the_cli_names_versions_by_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    reg = Registry(LocalStorage(store))
    for n in (1, 2, 3):
        reg.register("churn", {"model.bin": f"v{n}".encode()}, {"metrics": {"f1": n / 10}})
    reg.move_alias("churn", "staging", 3)
    base = ["--storage", str(store)]

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, *base])
        out, err = capsys.readouterr()
        return code, out, err

    assert run("models", "promote", "churn@staging")[0] == 0  # staging's version -> production
    assert reg.alias("churn", "production").version == 3
    assert run("models", "promote", "churn/1", "--alias", "staging")[0] == 0
    assert run("models", "approve", "churn", "2")[0] == 0
    assert reg.alias("churn", "production").version == 2
    code, out, _ = run("models", "rollback", "churn@production")
    assert code == 0 and "production rolled back v2 -> v3" in out
    code, out, _ = run("models", "tag", "churn/3", "reviewed=yes")
    assert code == 0 and out == "reviewed=yes\n"
    code, out, _ = run("models", "describe", "churn/3", "Retrained on the March export")
    assert code == 0 and out == "Retrained on the March export\n"
    code, out, _ = run("models", "show", "churn@production", "--json")
    shown = json.loads(out)
    assert (shown["version"], shown["aliases"], shown["tags"]) == (
        3,
        ["production"],
        {"reviewed": "yes"},
    )
    assert shown["description"] == "Retrained on the March export"
    code, out, _ = run("models", "show", "churn/3")
    assert (
        "description Retrained on the March export" in out and "tag         reviewed = yes" in out
    )
    code, out, _ = run("models", "show", "churn", "--json")
    by_version = {v["version"]: v for v in json.loads(out)["versions"]}
    assert by_version[3]["tags"] == {"reviewed": "yes"} and by_version[1]["tags"] == {}
    code, out, _ = run("models", "describe", "churn/3", "")
    assert (
        code == 0
        and json.loads(reg.storage.read(layout.version_meta_key("churn", 3)))["description"] == ""
    )
    code, out, _ = run("models", "tag", "churn/3", "--remove", "reviewed", "--json")
    assert json.loads(out)["tags"] == {}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["models", "promote", "churn"], 2, "name the version to promote"),
        (["models", "promote", "churn/1", "2"], 2, "'churn/1' already names a version: drop 2"),
        (
            ["models", "promote", "churn@nowhere"],
            1,
            "alias 'nowhere' of model 'churn' points at no version",
        ),
        (["models", "rollback", "churn/1"], 2, "rollback moves an alias back, it takes no version"),
        (["models", "rollback", "churn@staging", "--alias", "production"], 2, "two aliases named"),
        (["models", "tag", "churn", "a=b"], 2, "name a version of 'churn'"),
        (["models", "tag", "churn/1", "novalue"], 2, "expected KEY=VALUE, got 'novalue'"),
        (["models", "tag", "churn/9", "a=b"], 1, "model 'churn' has no version 9"),
        (
            ["models", "show", "churn/x"],
            2,
            "the version 'x' is not a version number (1 to 999,999,999)",
        ),
        (["models", "show", "chrun"], 1, "no model 'chrun' in file://"),
        (["models", "show", "chrun"], 1, "(did you mean 'churn'?)"),
        (["runs", "--model", "churn@"], 2, "invalid model reference 'churn@'"),
    ],
)
def test_bad_references_on_the_command_line(
    tmp_path: Path, args: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    Registry(LocalStorage(store)).register("churn", {"model.bin": b"x"}, {})
    assert main([*args, "--storage", str(store)]) == code
    assert message in capsys.readouterr().err
