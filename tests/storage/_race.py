"""Worker functions for the multi-process races (importable by spawned processes)."""

from __future__ import annotations

from typing import Any

from hookline.errors import AlreadyExists, PreconditionFailed
from hookline.storage import open_storage


def create_once(uri: str, key: str, worker: int, barrier: Any) -> bool:
    """Race to create ``key``; True for the one process that wins."""
    storage = open_storage(uri)
    barrier.wait()
    try:
        storage.create(key, f"worker {worker}".encode())
        return True
    except AlreadyExists:
        return False


def increment(uri: str, key: str, barrier: Any) -> int:
    """Read-modify-replace the counter at ``key`` until it sticks; returns the retries."""
    storage = open_storage(uri)
    barrier.wait()
    retries = 0
    while True:
        data, info = storage.read_with_info(key)
        try:
            storage.replace(key, str(int(data) + 1).encode(), info.etag)
            return retries
        except PreconditionFailed:
            retries += 1


def write_own(uri: str, key: str, worker: int, barrier: Any) -> tuple[str, int]:
    """Overwrite ``key`` with this worker's bytes (each worker a different length); returns
    the etag and size the write reported."""
    storage = open_storage(uri)
    barrier.wait()
    info = storage.write(key, b"x" * (worker + 1))
    return info.etag or "", info.size
