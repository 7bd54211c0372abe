"""Fetching one object to a local file, hashing it on the way: the lineage anchor."""

from __future__ import annotations

import hashlib
import os

from hookline.errors import DataError, NotFound
from hookline.storage._base import Storage
from hookline.types import Source

__all__ = ["fetch_source"]

CHUNK = 1024 * 1024


def fetch_source(
    storage: Storage, key: str, workdir: str, *, limit: int, uri: str | None = None
) -> Source:
    """Copy ``key`` into ``workdir`` once, streaming, with its sha256 and size.

    The size limit is applied before reading (to the object's stated size) and while
    reading (an object that grows past it mid-read), so an oversized upload is never
    read whole.

    :param limit: the largest object accepted, in bytes (``[limits] max_upload_bytes``).
    :param uri: the object's URI for messages and lineage (default: ``storage.url(key)``).
    :raises DataError: the object is gone, or over ``limit``.
    """
    where = uri or storage.url(key)
    info = storage.stat(key)
    if info is None:
        raise DataError(
            "the uploaded object no longer exists",
            uri=where,
            hint="it was deleted or overwritten before the run started",
        )
    if info.size > limit:
        raise DataError(
            f"object is {info.size:,} bytes, over the configured limit of {limit:,}",
            uri=where,
            hint="raise [limits] max_upload_bytes, or split the file",
        )
    name = key.rsplit("/", 1)[-1] or "object"
    path = os.path.join(workdir, name)
    digest = hashlib.sha256()
    size = 0
    try:
        with storage.open(key) as src, open(path, "wb") as dst:
            while chunk := src.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise DataError(
                        f"object grew past the limit of {limit:,} bytes",
                        uri=where,
                        hint="raise [limits] max_upload_bytes, or split the file",
                    )
                digest.update(chunk)
                dst.write(chunk)
    except NotFound:
        raise DataError("the uploaded object no longer exists", uri=where) from None
    return Source(
        uri=where,
        path=path,
        size=size,
        sha256=digest.hexdigest(),
        version=info.version or info.etag,
    )
