"""The storage contract: one suite, run against local, S3 (moto), GCS (fake-gcs-server) and
Azure (Azurite) through ``open_storage`` and the real emulators over the network.

Everything concurrent in hookline rests on ``create`` (only if absent) and ``replace`` (only
if unchanged), so those are tested under real races: threads here, processes for local.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hookline.errors import AlreadyExists, InvalidKey, NotFound, PreconditionFailed
from hookline.storage import ObjectInfo, Storage, open_storage, parse_uri

ODD_KEYS = [
    "with space.csv",
    "plus+sign.csv",
    "100%.csv",
    "pre%2Fencoded%20.csv",
    "hash#and?query.csv",
    "ünïcødé/ファイル 名.csv",
    "emoji 🚀/a+b c%d.csv",
    "semi;colon,comma=eq&amp@at.csv",
]
INVALID_KEYS = [
    "",
    "../escape",
    "a/../../b",
    "/absolute",
    "nul\x00byte",
    "back\\slash",
    "a//b",
    "./here",
    "line\nbreak",
    "del\x7fchar",
    "c1\x85next-line.csv",  # C1 controls: U+0080..U+009F
    "c1\x9fend",
    "lone\ud800surrogate",
    "k" * 2000,  # over the clouds' 1,024-byte limit
    "é" * 600,  # 1,200 bytes in UTF-8
]
THREADS = 8


def _parent(storage: Storage) -> Storage:
    """The storage one level above ``storage`` (its bucket, or the temp folder)."""
    return open_storage(storage.uri.rsplit("/", 1)[0])


# -- basic reads and writes ---------------------------------------------------------------


def test_backend_is_a_storage(storage_root: Storage) -> None:
    assert isinstance(storage_root, Storage)
    assert storage_root.uri.endswith("/root")


def test_write_read_stat(storage_root: Storage) -> None:
    info = storage_root.write("data/train.csv", b"a,b\n1,2\n")
    assert isinstance(info, ObjectInfo)
    assert (info.key, info.size) == ("data/train.csv", 8)
    assert info.etag
    assert storage_root.read("data/train.csv") == b"a,b\n1,2\n"
    data, read_info = storage_root.read_with_info("data/train.csv")
    assert data == b"a,b\n1,2\n"
    stat = storage_root.stat("data/train.csv")
    assert stat is not None
    assert stat.etag == info.etag == read_info.etag
    assert stat.size == read_info.size == 8
    assert stat.modified > 0
    assert storage_root.stat("data/missing.csv") is None
    assert storage_root.stat("data") is None  # a "folder" is not an object


def test_overwrite_changes_etag(storage_root: Storage) -> None:
    first = storage_root.write("k", b"one")
    second = storage_root.write("k", b"two!")
    assert second.etag != first.etag
    assert storage_root.read("k") == b"two!"
    stat = storage_root.stat("k")
    assert stat is not None and (stat.etag, stat.size) == (second.etag, 4)


def test_empty_object(storage_root: Storage) -> None:
    info = storage_root.write("empty.csv", b"")
    assert info.size == 0
    assert storage_root.read("empty.csv") == b""
    stat = storage_root.stat("empty.csv")
    assert stat is not None and stat.size == 0


@pytest.mark.parametrize("op", ["read", "read_with_info", "open"])
def test_missing_object_raises_not_found(storage_root: Storage, op: str) -> None:
    with pytest.raises(NotFound) as err:
        getattr(storage_root, op)("no/such/object.csv")
    assert "no/such/object.csv" in str(err.value)


def test_url_names_the_object(storage_root: Storage) -> None:
    url = storage_root.url("runs/r 1/record.json")
    assert url.startswith(storage_root.uri + "/")
    assert parse_uri(url).path.endswith("root/runs/r 1/record.json")


# -- listing -------------------------------------------------------------------------------


def test_list_in_key_order_with_prefixes(storage_root: Storage) -> None:
    keys = ["b.csv", "a/x.csv", "a/y/z.csv", "ab.csv", "a b.csv", "é.csv", "Z.csv", "a+b.csv"]
    for i, key in enumerate(keys):
        storage_root.write(key, b"x" * i)
    listed = list(storage_root.list())
    assert [o.key for o in listed] == sorted(keys)
    assert {o.key: o.size for o in listed} == {k: i for i, k in enumerate(keys)}
    assert all(o.etag == storage_root.stat(o.key).etag for o in listed)  # type: ignore[union-attr]
    assert [o.key for o in storage_root.list("a/")] == ["a/x.csv", "a/y/z.csv"]
    assert [o.key for o in storage_root.list("a")] == sorted(k for k in keys if k.startswith("a"))
    assert [o.key for o in storage_root.list("a/y/")] == ["a/y/z.csv"]
    assert list(storage_root.list("nothing/")) == []


def test_list_stays_inside_the_root(storage_root: Storage) -> None:
    parent = _parent(storage_root)
    parent.write("rootless.csv", b"outside")
    parent.write("root2/x.csv", b"outside")
    parent.write("rootx", b"outside")
    storage_root.write("inside.csv", b"in")
    assert [o.key for o in storage_root.list()] == ["inside.csv"]
    assert parent.read("root/inside.csv") == b"in"  # the prefix really is a prefix


# -- delete --------------------------------------------------------------------------------


def test_delete(storage_root: Storage) -> None:
    storage_root.write("gone.csv", b"x")
    storage_root.write("kept.csv", b"y")
    storage_root.delete("gone.csv")
    assert storage_root.stat("gone.csv") is None
    with pytest.raises(NotFound):
        storage_root.read("gone.csv")
    storage_root.delete("gone.csv")  # deleting a missing object is not an error
    assert [o.key for o in storage_root.list()] == ["kept.csv"]


# -- conditional writes --------------------------------------------------------------------


def test_create_only_once(storage_root: Storage) -> None:
    info = storage_root.create("claims/run-1", b"first")
    assert info.size == 5
    with pytest.raises(AlreadyExists) as err:
        storage_root.create("claims/run-1", b"second")
    assert "claims/run-1" in str(err.value)
    assert storage_root.read("claims/run-1") == b"first"
    stat = storage_root.stat("claims/run-1")
    assert stat is not None and stat.etag == info.etag


def test_already_exists_is_a_precondition_failure(storage_root: Storage) -> None:
    storage_root.write("k", b"x")
    with pytest.raises(PreconditionFailed):
        storage_root.create("k", b"y")


def test_replace_only_if_unchanged(storage_root: Storage) -> None:
    first = storage_root.create("alias/production", b"v1")
    second = storage_root.replace("alias/production", b"v2", first.etag)
    assert second.etag != first.etag
    assert storage_root.read("alias/production") == b"v2"
    with pytest.raises(PreconditionFailed) as err:
        storage_root.replace("alias/production", b"v3", first.etag)  # stale etag
    assert "alias/production" in str(err.value)
    assert storage_root.read("alias/production") == b"v2"
    third = storage_root.replace("alias/production", b"v3", second.etag)
    _, info = storage_root.read_with_info("alias/production")
    assert info.etag == third.etag


def test_replace_of_a_deleted_object_fails(storage_root: Storage) -> None:
    info = storage_root.write("alias/staging", b"v1")
    storage_root.delete("alias/staging")
    with pytest.raises(PreconditionFailed):
        storage_root.replace("alias/staging", b"v2", info.etag)
    assert storage_root.stat("alias/staging") is None


def test_replace_of_an_object_that_never_existed_fails(storage_root: Storage) -> None:
    other = storage_root.write("other", b"x")
    with pytest.raises(PreconditionFailed):
        storage_root.replace("never", b"v2", other.etag)
    assert storage_root.stat("never") is None


def test_create_after_delete(storage_root: Storage) -> None:
    storage_root.create("k", b"1")
    storage_root.delete("k")
    storage_root.create("k", b"2")
    assert storage_root.read("k") == b"2"


# -- keys ----------------------------------------------------------------------------------


def test_odd_keys_round_trip(storage_root: Storage) -> None:
    for i, key in enumerate(ODD_KEYS):
        info = storage_root.write(key, f"content {i}".encode())
        assert info.key == key
    for i, key in enumerate(ODD_KEYS):
        assert storage_root.read(key) == f"content {i}".encode()
        stat = storage_root.stat(key)
        assert stat is not None and stat.key == key
        assert parse_uri(storage_root.url(key)).path.endswith("root/" + key)
    assert [o.key for o in storage_root.list()] == sorted(ODD_KEYS)
    assert [o.key for o in storage_root.list("ünïcødé/")] == ["ünïcødé/ファイル 名.csv"]
    assert [o.key for o in storage_root.list("plus+")] == ["plus+sign.csv"]
    assert [o.key for o in storage_root.list("100%")] == ["100%.csv"]
    odd = ODD_KEYS[6]
    first = storage_root.create("c/" + odd, b"1")
    with pytest.raises(AlreadyExists):
        storage_root.create("c/" + odd, b"2")
    storage_root.replace("c/" + odd, b"3", first.etag)
    assert storage_root.read("c/" + odd) == b"3"
    storage_root.delete(odd)
    assert storage_root.stat(odd) is None


@pytest.mark.parametrize("key", INVALID_KEYS, ids=repr)
def test_invalid_keys_rejected(storage_root: Storage, key: str) -> None:
    calls: list[Callable[[], Any]] = [
        lambda: storage_root.read(key),
        lambda: storage_root.read_with_info(key),
        lambda: storage_root.open(key),
        lambda: storage_root.stat(key),
        lambda: storage_root.write(key, b"x"),
        lambda: storage_root.create(key, b"x"),
        lambda: storage_root.replace(key, b"x", "1"),
        lambda: storage_root.upload(key, io.BytesIO(b"x")),
        lambda: storage_root.delete(key),
        lambda: storage_root.url(key),
    ]
    for call in calls:
        with pytest.raises(InvalidKey):
            call()
    # ... and before any request: a cloud back-end has not even built its client.
    assert getattr(storage_root, "_client", None) is None


@pytest.mark.parametrize("prefix", ["../", "/abs", "a/../b"])
def test_invalid_list_prefix_rejected(storage_root: Storage, prefix: str) -> None:
    with pytest.raises(InvalidKey):
        list(storage_root.list(prefix))


# -- large objects -------------------------------------------------------------------------


def test_streamed_open_of_a_multi_mb_object(storage_root: Storage) -> None:
    payload = os.urandom(6 * 1024 * 1024 + 123)
    storage_root.write("big/data.bin", payload)
    digest = hashlib.sha256()
    sizes = set()
    with storage_root.open("big/data.bin") as fh:
        head = fh.read(10)
        digest.update(head)
        while chunk := fh.read(256 * 1024):
            sizes.add(len(chunk))
            digest.update(chunk)
    assert head == payload[:10]
    assert digest.hexdigest() == hashlib.sha256(payload).hexdigest()
    assert max(sizes) <= 256 * 1024  # really streamed in pieces
    with storage_root.open("big/data.bin") as fh:  # closing early is fine
        assert fh.read(3) == payload[:3]


def test_open_supports_readline(storage_root: Storage) -> None:
    storage_root.write("lines.csv", b"a,b\n1,2\n3,4\n")
    with storage_root.open("lines.csv") as fh:
        assert fh.readline() == b"a,b\n"
        assert list(fh) == [b"1,2\n", b"3,4\n"]


class _OneWayStream(io.RawIOBase):
    """A stream that cannot seek or tell, like a pipe or a socket."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._inner.read(min(len(buffer), 100_000))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("seekable", [True, False], ids=["file", "pipe"])
def test_upload_from_a_stream(storage_root: Storage, seekable: bool) -> None:
    payload = os.urandom(9 * 1024 * 1024 + 7)
    source = io.BytesIO(payload) if seekable else io.BufferedReader(_OneWayStream(payload))
    info = storage_root.upload("up/loaded.bin", source)  # type: ignore[arg-type]
    assert (info.key, info.size) == ("up/loaded.bin", len(payload))
    data, read_info = storage_root.read_with_info("up/loaded.bin")
    assert hashlib.sha256(data).digest() == hashlib.sha256(payload).digest()
    assert read_info.etag == info.etag
    # upload is unconditional: it overwrites
    storage_root.upload("up/loaded.bin", io.BytesIO(b"small"))
    assert storage_root.read("up/loaded.bin") == b"small"


# -- concurrency ---------------------------------------------------------------------------


def test_racing_creates_have_exactly_one_winner(storage_root: Storage) -> None:
    barrier = threading.Barrier(THREADS)

    def attempt(i: int) -> str:
        barrier.wait()
        try:
            storage_root.create("claims/the-run", f"worker {i}".encode())
            return f"won {i}"
        except AlreadyExists:
            return "lost"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(attempt, range(THREADS)))
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(winners) == 1, outcomes
    assert outcomes.count("lost") == THREADS - 1
    assert storage_root.read("claims/the-run") == f"worker {winners[0].split()[1]}".encode()


def increment(storage: Storage, key: str, barrier: Any = None) -> int:
    """Read-modify-replace one counter, retrying on PreconditionFailed; returns retries."""
    if barrier is not None:
        barrier.wait()
    retries = 0
    while True:
        data, info = storage.read_with_info(key)
        try:
            storage.replace(key, str(int(data) + 1).encode(), info.etag)
            return retries
        except PreconditionFailed:
            retries += 1
            if retries > 200:
                raise


def test_racing_increments_lose_no_update(storage_root: Storage) -> None:
    storage_root.create("counter", b"0")
    barrier = threading.Barrier(THREADS)
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda _: increment(storage_root, "counter", barrier), range(THREADS)))
    assert storage_root.read("counter") == str(THREADS).encode()
