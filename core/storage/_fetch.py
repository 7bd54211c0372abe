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
    storage: Storage,
    key: str,
    workdir: str,
    *,
    limit: int,
    uri: str | None = None,
    version: str | None = None,
    sha256: str | None = None,
) -> Source:
    """Copy ``key`` into ``workdir`` once, streaming, with its sha256 and size.

    The size limit is applied before reading (to the object's stated size) and while
    reading (an object that grows past it mid-read), so an oversized upload is never
    read whole.

    :param limit: the largest object accepted, in bytes (``[limits] max_upload_bytes``).
    :param uri: the object's URI for messages and lineage (default: ``storage.url(key)``).
    :param version: read this recorded version of the object (a version id, generation or
        etag): the current object when it still is that version, else the version itself
        where the back-end keeps them (an ``open_version(key, version)`` method).
    :param sha256: the digest recorded for those bytes: anything else is refused.
    :raises DataError: the object is gone, over ``limit``, overwritten since ``version``
        on a back-end that keeps no versions, or not the recorded bytes.
    """
    where = uri or storage.url(key)
    info = storage.stat(key)
    current = (info.version or info.etag) if info is not None else None
    opener = getattr(storage, "open_version", None)
    by_version = version is not None and current != version and info is not None
    if by_version and opener is None:
        raise DataError(
            f"the object was overwritten since version {version} was read, and this storage "
            "keeps no earlier versions",
            uri=where,
            hint="keep each upload under its own key (or turn on the bucket's versioning) so "
            "a window can read what earlier runs read",
        )
    if info is None and not (version is not None and opener is not None):
        raise DataError(
            "the uploaded object no longer exists",
            uri=where,
            hint="it was deleted or overwritten before the run started",
        )
    if info is not None and not by_version and info.size > limit:
        raise DataError(
            f"object is {info.size:,} bytes, over the configured limit of {limit:,}",
            uri=where,
            hint="raise [limits] max_upload_bytes, or split the file",
        )
    name = key.rsplit("/", 1)[-1] or "object"
    path = os.path.join(workdir, name)
    digest = hashlib.sha256()
    size = 0
    old = by_version or info is None
    read_version = version if old else current
    try:
        stream = opener(key, version) if old and opener is not None else storage.open(key)
        with stream as src, open(path, "wb") as dst:
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
    found = digest.hexdigest()
    if sha256 is not None and found != sha256:
        raise DataError(
            f"the object's bytes are not the ones recorded (sha256 {found[:12]}..., recorded "
            f"{sha256[:12]}...)",
            uri=where,
            hint="it was overwritten in place; keep each upload under its own key",
        )
    return Source(uri=where, path=path, size=size, sha256=found, version=read_version)
