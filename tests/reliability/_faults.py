"""Storage wrappers that inject faults at exact points of a run.

* :class:`CrashingStorage` kills the process (``os._exit``) when a key matching a pattern
  is about to be written, or has just been written: a function instance dying at a step
  boundary (after the claim, after the artifacts, before the alias move...).
* :class:`FlakyStorage` raises :class:`~hookline.errors.TransientStorageError` for the calls
  a :class:`~reliability._faultproxy.Fault` selects: what a cloud back-end raises once its
  own retries are exhausted. It stands in for the HTTP fault proxy on local storage, which
  has no HTTP to disturb.

Both delegate everything else to the wrapped back-end, so they pass for any
:class:`~hookline.storage.Storage` (``Hookline(storage=...)``).
"""

from __future__ import annotations

import fnmatch
import os
import random
import sys
import threading
from collections.abc import Iterator
from typing import BinaryIO

from hookline.errors import TransientStorageError
from hookline.storage import ObjectInfo, Storage

from ._faultproxy import Fault

__all__ = ["CRASH_EXIT", "CrashingStorage", "FlakyStorage"]

CRASH_EXIT = 77
"""The exit status of a process killed by :class:`CrashingStorage`."""

_WRITES = ("write", "create", "replace", "upload")
_METHOD = {
    "read": "GET",
    "read_with_info": "GET",
    "open": "GET",
    "stat": "HEAD",
    "list": "GET",
    "write": "PUT",
    "create": "PUT",
    "replace": "PUT",
    "upload": "PUT",
    "delete": "DELETE",
}


class _Delegate:
    """Every Storage method, forwarded to ``inner`` through :meth:`_call`."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.uri = inner.uri

    def _call(self, op: str, key: str, *args: object) -> object:
        return getattr(self.inner, op)(key, *args)

    def url(self, key: str) -> str:
        return self.inner.url(key)

    def read(self, key: str) -> bytes:
        return self._call("read", key)  # type: ignore[return-value]

    def read_with_info(self, key: str) -> tuple[bytes, ObjectInfo]:
        return self._call("read_with_info", key)  # type: ignore[return-value]

    def open(self, key: str) -> BinaryIO:
        return self._call("open", key)  # type: ignore[return-value]

    def stat(self, key: str) -> ObjectInfo | None:
        return self._call("stat", key)  # type: ignore[return-value]

    def write(self, key: str, data: bytes) -> ObjectInfo:
        return self._call("write", key, data)  # type: ignore[return-value]

    def create(self, key: str, data: bytes) -> ObjectInfo:
        return self._call("create", key, data)  # type: ignore[return-value]

    def replace(self, key: str, data: bytes, etag: str) -> ObjectInfo:
        return self._call("replace", key, data, etag)  # type: ignore[return-value]

    def upload(self, key: str, source: BinaryIO) -> ObjectInfo:
        return self._call("upload", key, source)  # type: ignore[return-value]

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        return self._call("list", prefix)  # type: ignore[return-value]

    def delete(self, key: str) -> None:
        self._call("delete", key)


class CrashingStorage(_Delegate):
    """Kill the process at the first write of a key matching ``pattern``.

    :param pattern: an ``fnmatch`` pattern over keys relative to the root
        (``registry/*/versions/*/manifest.json``).
    :param when: ``before`` (the write never happens) or ``after`` (it happened, and the
        process dies before it can do anything else).
    """

    def __init__(self, inner: Storage, pattern: str, when: str) -> None:
        super().__init__(inner)
        if when not in ("before", "after"):
            raise ValueError(f"when must be 'before' or 'after', not {when!r}")
        self.pattern, self.when = pattern, when

    def _call(self, op: str, key: str, *args: object) -> object:
        hit = op in _WRITES and fnmatch.fnmatchcase(key, self.pattern)
        if hit and self.when == "before":
            self._die(op, key)
        result = super()._call(op, key, *args)
        if hit:
            self._die(op, key)
        return result

    def _die(self, op: str, key: str) -> None:
        sys.stderr.write(f"crash injected {self.when} {op} {key}\n")
        sys.stderr.flush()
        os._exit(CRASH_EXIT)


class FlakyStorage(_Delegate):
    """Raise ``TransientStorageError`` (what a throttled back-end raises once its own
    retries are exhausted) for the calls ``fault`` selects, as if they were the HTTP
    requests the proxy sees (``read`` is a GET, ``write`` a PUT...; a listing names no
    key). :attr:`faults` counts them; ``fault = None`` heals it. Only ``reject`` faults."""

    def __init__(self, inner: Storage, fault: Fault | None = None, seed: int = 0) -> None:
        super().__init__(inner)
        self.fault = fault
        self.faults = 0
        self._matched = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def _call(self, op: str, key: str, *args: object) -> object:
        fault = self.fault
        if fault is not None and fault.matches(_METHOD[op], None if op == "list" else key):
            with self._lock:
                self._matched += 1
                fail = self._matched <= fault.first or self._rng.random() < fault.fraction
                self.faults += fail
            if fail:
                raise TransientStorageError(
                    f"{fault.status} SlowDown (injected)", uri=self.url(key), hint="retry later"
                )
        return super()._call(op, key, *args)
