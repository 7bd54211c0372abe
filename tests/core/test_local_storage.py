"""LocalStorage specifics (the shared contract suite lives in tests/storage/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hookline.errors import InvalidKey
from hookline.storage import LocalStorage, check_key, open_storage


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "a/../../b", "/abs", "a\x00b", "a\\b", "a//b", "./a", "", "a/\nb"]
)
def test_keys_that_could_escape_the_root_are_refused(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(InvalidKey):
        storage.write(key, b"x")
    with pytest.raises(InvalidKey):
        check_key(key)
    assert list(tmp_path.parent.glob("passwd")) == []


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "link")
    storage = LocalStorage(root)
    with pytest.raises(InvalidKey, match="outside the storage root"):
        storage.write("link/x", b"secret")
    assert list(outside.iterdir()) == []


def test_writes_leave_no_temporary_files_and_listing_hides_internals(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    info = storage.write("a/b.txt", b"one")
    storage.replace("a/b.txt", b"two", info.etag)
    storage.create("a/c.txt", b"three")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b.txt", "c.txt"]
    assert [i.key for i in storage.list()] == ["a/b.txt", "a/c.txt"]
    assert storage.read("a/b.txt") == b"two"


def test_file_uris_and_plain_paths_open_the_same_root(tmp_path: Path) -> None:
    a = open_storage(str(tmp_path / "r"))
    b = open_storage(f"file://{tmp_path}/r")
    assert a.uri == b.uri
    a.write("k", b"v")
    assert b.read("k") == b"v"
    assert a.url("dir/a b.csv").endswith("/r/dir/a%20b.csv")


@pytest.mark.parametrize(
    ("root", "why"),
    [
        ("a" * 300, "File name too long"),
        ("data.txt", "File exists"),
        ("data.txt/inner", "Not a directory"),
        ("caf\udcff-\ud800", "not valid UTF-8 text"),
    ],
)
def test_a_root_that_cannot_be_a_folder_is_refused_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root: str, why: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.txt").write_bytes(b"kept")
    with pytest.raises(InvalidKey, match=why) as refused:
        LocalStorage(root)
    assert "storage root" in str(refused.value) and len(str(refused.value)) < 400
    assert (tmp_path / "data.txt").read_bytes() == b"kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.txt"]


def test_unknown_scheme_says_what_to_install() -> None:
    from hookline.errors import ConfigError

    with pytest.raises(ConfigError, match="no storage back-end for ftp://"):
        open_storage("ftp://host/x")


def test_over_long_keys_are_refused_before_the_file_system_sees_them(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(InvalidKey, match="longer than 255 bytes"):
        storage.write("a/" + "x" * 300, b"x")
    with pytest.raises(InvalidKey, match="longer than 1024 bytes"):
        check_key("/".join(["y" * 200] * 6))


@pytest.mark.parametrize("operation", ["write", "upload", "create", "replace"])
def test_a_write_returns_its_own_info_when_another_writer_follows_at_once(
    tmp_path: Path, operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer replaces the name between this write's rename (or link) and its
    return: the info returned must still be this write's, not the follower's."""
    import io

    from hookline.storage import _local

    storage = LocalStorage(tmp_path)
    if operation == "replace":
        storage.write("landing/data.csv", b"old")
    etag = storage.stat("landing/data.csv").etag if operation == "replace" else ""
    ops = {
        "write": lambda: storage.write("landing/data.csv", b"mine"),
        "upload": lambda: storage.upload("landing/data.csv", io.BytesIO(b"mine")),
        "create": lambda: storage.create("landing/data.csv", b"mine"),
        "replace": lambda: storage.replace("landing/data.csv", b"mine", etag),
    }
    followed: list[object] = []
    real_replace, real_link = os.replace, os.link

    def then_follow(publish):  # type: ignore[no-untyped-def]
        def wrapped(src, dst):  # type: ignore[no-untyped-def]
            publish(src, dst)
            if not followed and str(dst).endswith("data.csv"):
                followed.append(None)
                followed[0] = storage.write("landing/data.csv", b"the follower's bytes")

        return wrapped

    monkeypatch.setattr(_local.os, "replace", then_follow(real_replace))
    monkeypatch.setattr(_local.os, "link", then_follow(real_link))
    mine = ops[operation]()
    monkeypatch.undo()
    follower = followed[0]
    assert mine.size == len(b"mine"), (mine, follower)
    assert mine.etag != follower.etag  # type: ignore[attr-defined]
    assert storage.stat("landing/data.csv") == follower
