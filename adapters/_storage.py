"""What the cloud storage back-ends share: root URIs, key mapping and streamed reads.

No cloud SDK is imported here.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from hookline.errors import StorageError
from hookline.storage import check_key, object_uri, parse_uri

__all__ = ["CloudRoot", "MappedReader", "Rewindable", "buffered", "object_uri", "quote_etag"]


def quote_etag(etag: str) -> str:
    """ETags in the quoted form the ETag header uses (listings may return them bare)."""
    etag = etag.strip()
    if etag.startswith(("W/", '"')):
        return etag
    return f'"{etag}"'


@dataclass(frozen=True, slots=True)
class CloudRoot:
    """``scheme://bucket[/prefix]``: a bucket or container and an optional key prefix.

    :param scheme: ``s3``, ``gs`` or ``az``.
    :param bucket: bucket or container name.
    :param prefix: key prefix without leading or trailing slash (may be empty).
    """

    scheme: str
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str, scheme: str, what: str = "bucket") -> CloudRoot:
        """Parse and validate a root URI.

        :raises StorageError: wrong scheme, no bucket, or a prefix that is not a valid key.
        """
        parsed = parse_uri(uri)
        if parsed.scheme != scheme:
            raise StorageError(
                f"not a {scheme}:// URI",
                uri=uri,
                hint=f"write it as {scheme}://{what.upper()}/optional/prefix",
            )
        prefix = parsed.path.strip("/")
        if prefix:
            check_key(prefix, root=f"{scheme}://{parsed.bucket}")
        return cls(scheme, parsed.bucket, prefix)

    @property
    def uri(self) -> str:
        return object_uri(self.scheme, self.bucket, self.prefix)

    def name(self, key: str) -> str:
        """The bucket-level object name of ``key`` (validated with ``check_key``)."""
        check_key(key, root=self.uri)
        return f"{self.prefix}/{key}" if self.prefix else key

    def key(self, name: str) -> str:
        """The root-relative key of bucket-level object ``name``."""
        return name[len(self.prefix) + 1 :] if self.prefix else name

    def list_prefix(self, prefix: str) -> str:
        """The bucket-level prefix to list for root-relative ``prefix``."""
        if prefix:
            check_key(prefix.rstrip("/") or "x", root=self.uri)
        return f"{self.prefix}/{prefix}" if self.prefix else prefix

    def url(self, key: str) -> str:
        return object_uri(self.scheme, self.bucket, self.name(key))


class MappedReader(io.RawIOBase):
    """A read-only binary stream over an SDK's download stream whose errors are mapped to
    hookline's (a dropped connection mid-read becomes ``TransientStorageError``).

    :param read: reads at most ``n`` bytes (``b""`` at the end).
    :param close: releases the connection.
    :param map_error: turns an SDK exception into a ``StorageError``.
    """

    def __init__(
        self,
        read: Callable[[int], bytes],
        close: Callable[[], None] | None,
        map_error: Callable[[Exception], Exception],
    ) -> None:
        super().__init__()
        self._read = read
        self._close = close
        self._map_error = map_error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        try:
            chunk = self._read(len(view))
        except Exception as exc:
            raise self._map_error(exc) from exc
        n = len(chunk)
        view[:n] = chunk
        return n

    def close(self) -> None:
        if not self.closed and self._close is not None:
            try:
                self._close()
            except Exception:
                pass
        super().close()


def buffered(raw: MappedReader, size: int = 1024 * 1024) -> BinaryIO:
    """Wrap a :class:`MappedReader` for efficient ``read``/``readline``."""
    return io.BufferedReader(raw, buffer_size=size)  # type: ignore[return-value]


class Rewindable:
    """A forward-only stream made to look seekable within its most recent read.

    Resumable uploads (GCS) ask ``tell()`` and, to retry a failed chunk, ``seek`` back to
    the start of that chunk; pipes and sockets can do neither. This keeps the bytes of the
    latest ``read`` so that exactly that rewind works, and reads are always full (a short
    read would look like the end of the stream). Positions count from where the source
    was when wrapped.
    """

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._pos = 0
        self._buf = b""
        self._start = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("a forward-only stream cannot seek from its end")
        if not self._start <= offset <= self._start + len(self._buf):
            raise io.UnsupportedOperation(
                f"cannot seek to {offset}: only the latest chunk "
                f"({self._start}..{self._start + len(self._buf)}) is kept"
            )
        self._pos = offset
        return offset

    def _read_source(self, size: int) -> bytes:
        parts: list[bytes] = []
        while size < 0 or size > 0:
            chunk = self._source.read(size if size >= 0 else 1024 * 1024)
            if not chunk:
                break
            parts.append(chunk)
            if size > 0:
                size -= len(chunk)
        return b"".join(parts)

    def read(self, size: int = -1) -> bytes:
        start = self._pos
        offset = self._pos - self._start
        cached = self._buf[offset:] if size < 0 else self._buf[offset : offset + size]
        fresh = self._read_source(-1 if size < 0 else size - len(cached))
        # keep from the start of this read, so a retry can rewind to it
        self._buf = self._buf[offset:] + fresh
        self._start = start
        self._pos = start + len(cached) + len(fresh)
        return cached + fresh
