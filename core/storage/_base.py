"""The storage interface every back-end implements, and object-key validation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol, runtime_checkable

from hookline.errors import InvalidKey

__all__ = ["MAX_KEY_BYTES", "ObjectInfo", "Storage", "check_key", "join_key"]

MAX_KEY_BYTES = 1024
"""S3, GCS and Azure all cap object names at 1,024 bytes."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a back-end knows about one stored object.

    :param key: the object's key, relative to the storage root (``/``-separated).
    :param size: its size in bytes.
    :param etag: an opaque token that changes whenever the object is replaced; the
        condition for :meth:`Storage.replace`. (S3 ETag, GCS generation, Azure ETag.)
    :param modified: last-modified time, seconds since the epoch (UTC).
    :param version: the back-end's version id when it has one (S3 versionId, GCS
        generation), else ``None``.
    """

    key: str
    size: int
    etag: str
    modified: float
    version: str | None = None


@runtime_checkable
class Storage(Protocol):
    """A storage root: a folder, or a bucket/container with an optional path prefix.

    Keys are relative to the root and ``/``-separated. Everything concurrent in hookline
    (run claims, version allocation, alias moves) rests on the two conditional writes,
    :meth:`create` and :meth:`replace`, which back-ends map to their own primitive.

    Errors: :class:`~hookline.errors.NotFound` for a missing object,
    :class:`~hookline.errors.AlreadyExists` / :class:`~hookline.errors.PreconditionFailed`
    when a condition fails, :class:`~hookline.errors.InvalidKey` for a key that would escape
    the root, :class:`~hookline.errors.TransientStorageError` for what is worth retrying.
    """

    uri: str
    """The root's URI, e.g. ``file:///srv/ml``, ``s3://bucket/prefix``."""

    def url(self, key: str) -> str:
        """The full URI of ``key`` under this root."""
        ...

    def read(self, key: str) -> bytes:
        """Return the whole object."""
        ...

    def read_with_info(self, key: str) -> tuple[bytes, ObjectInfo]:
        """Return the object and its info (etag) read in one consistent operation."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Open the object for streamed reading (for large objects)."""
        ...

    def stat(self, key: str) -> ObjectInfo | None:
        """Return the object's info, or ``None`` when it does not exist."""
        ...

    def write(self, key: str, data: bytes) -> ObjectInfo:
        """Write (create or overwrite) the object atomically: readers see old or new, whole."""
        ...

    def create(self, key: str, data: bytes) -> ObjectInfo:
        """Write the object only if it does not exist yet; else raise ``AlreadyExists``."""
        ...

    def replace(self, key: str, data: bytes, etag: str) -> ObjectInfo:
        """Overwrite the object only if its etag is still ``etag``; else raise
        ``PreconditionFailed`` (also when the object is gone)."""
        ...

    def upload(self, key: str, source: BinaryIO) -> ObjectInfo:
        """Write the object from a stream (large objects), unconditionally."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield every object whose key starts with ``prefix``, in lexicographic key order."""
        ...

    def delete(self, key: str) -> None:
        """Delete the object; deleting a missing object is not an error."""
        ...


def check_key(key: str, *, root: str = "") -> str:
    """Validate an object key and return it unchanged.

    Rejected, with :class:`InvalidKey`: empty keys, keys over :data:`MAX_KEY_BYTES` in
    UTF-8, absolute keys, backslashes, control characters (C0 ``U+0000``-``U+001F``, DEL,
    and C1 ``U+0080``-``U+009F``), lone surrogates (text that is not Unicode), and any
    ``.`` or ``..`` segment, since each could make a request touch something outside its
    storage root or name a different object on another back-end.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKey("empty object key", uri=root or None)
    bad = next((ch for ch in key if _refused(ch)), None)
    if bad is not None:
        what = (
            "lone surrogate (not Unicode text)"
            if 0xD800 <= ord(bad) <= 0xDFFF
            else f"control character U+{ord(bad):04X} (NUL, newline, C1 controls...)"
        )
        shown = f"{root.rstrip('/')}/{key[:200]}" if root else key[:200]
        raise InvalidKey(f"{what} in object key", uri=repr(shown))  # repr escapes it
    where = f"{root.rstrip('/')}/{key}" if root else key
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidKey(
            f"object key longer than {MAX_KEY_BYTES} bytes (the clouds' limit)",
            uri=where[:200] + "...",
        )
    if key.startswith("/"):
        raise InvalidKey(
            "absolute object key not allowed (keys are relative to the storage root)", uri=where
        )
    if "\\" in key:
        raise InvalidKey("backslash in object key not allowed", uri=where)
    for part in key.split("/")[:-1] if key.endswith("/") else key.split("/"):
        if part in (".", ".."):
            raise InvalidKey(
                f"{part!r} segment in object key would escape the storage root", uri=where
            )
        if part == "":
            raise InvalidKey("empty segment ('//') in object key", uri=where)
    return key


def _refused(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF


def join_key(*parts: str) -> str:
    """Join key parts with single slashes (``join_key("runs/", "r1", "record.json")``)."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))
