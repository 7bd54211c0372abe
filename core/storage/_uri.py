"""Opening a storage root from its URI; back-ends register by scheme through entry points."""

from __future__ import annotations

import os
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

from hookline._entrypoints import entry_points
from hookline.errors import ConfigError, StorageError
from hookline.storage._base import Storage

__all__ = ["URI_SAFE", "ParsedURI", "object_uri", "open_storage", "parse_uri", "storage_schemes"]

ENTRY_POINT_GROUP = "hookline.storage"

_EXTRAS = {"s3": "aws", "gs": "gcp", "az": "azure"}


URI_SAFE = "/~!$&'()*+,;=:@"
"""Characters an object URI keeps as they are: RFC 3986 ``pchar`` minus ``%`` (so that a
URI round-trips through :func:`parse_uri`, which percent-decodes once)."""


def object_uri(scheme: str, bucket: str, key: str) -> str:
    """The URI of one object -- the one encoding rule for every scheme.

    ``object_uri("s3", "b", "a b+c.csv")`` is ``s3://b/a%20b+c.csv``; for ``file`` the key is
    the absolute path and the bucket is empty: ``file:///srv/ml/a%20b+c.csv``. Space, ``%``,
    ``#``, ``?`` and non-ASCII characters are percent-encoded, ``+`` and the other
    sub-delimiters are kept, so :func:`parse_uri` gives the key back unchanged. Event parsers
    (``StorageEvent.uri``) and every back-end's ``url()`` use it, so an event's URI equals
    ``storage.url(event.key)`` for a storage rooted where the object lives.
    """
    if scheme == "file":
        return "file://" + quote(key, safe=URI_SAFE)
    return f"{scheme}://{bucket}/{quote(key, safe=URI_SAFE)}" if key else f"{scheme}://{bucket}"


class ParsedURI(NamedTuple):
    scheme: str
    bucket: str
    """Bucket or container; empty for ``file://``."""
    path: str
    """The key or prefix inside the bucket (no leading slash); for ``file://``, the path."""


def parse_uri(uri: str) -> ParsedURI:
    """Split ``s3://bucket/some/key`` into ``("s3", "bucket", "some/key")``.

    A plain path (no scheme) is a ``file`` URI.
    """
    if "://" not in uri:
        return ParsedURI("file", "", os.path.abspath(os.path.expanduser(uri)))
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return ParsedURI("file", "", unquote(parts.netloc + parts.path))
    if not parts.netloc:
        raise StorageError(
            "storage URI has no bucket or container",
            uri=uri,
            hint=f"write it as {parts.scheme}://BUCKET/optional/prefix",
        )
    return ParsedURI(parts.scheme, parts.netloc, unquote(parts.path).lstrip("/"))


def storage_schemes() -> dict[str, str]:
    """The URI schemes that installed back-ends handle, with the object that implements each."""
    return {ep.name: ep.value for ep in entry_points(ENTRY_POINT_GROUP)}


def open_storage(uri: str) -> Storage:
    """Open the storage root at ``uri`` (``file://``, a plain path, ``s3://``, ``gs://``,
    ``az://``, or any scheme a plugin registers under the ``hookline.storage`` entry point).

    The back-end's module is imported only now, so a function that never touches
    ``s3://`` never pays for boto3.
    """
    scheme = parse_uri(uri).scheme
    if scheme == "file":
        from hookline.storage._local import LocalStorage

        return LocalStorage(uri)
    found = [ep for ep in entry_points(ENTRY_POINT_GROUP) if ep.name == scheme]
    if not found:
        extra = _EXTRAS.get(scheme)
        hint = (
            f"install it with: pip install 'hookline[{extra}]'"
            if extra
            else f"known schemes: {', '.join(sorted(storage_schemes()))}"
        )
        raise ConfigError(f"no storage back-end for {scheme}:// URIs ({uri})", hint=hint)
    try:
        backend = found[0].load()
    except ImportError as exc:
        extra = _EXTRAS.get(scheme, "all")
        raise ConfigError(
            f"the {scheme}:// storage back-end could not be imported: {exc}",
            hint=f"install its SDK with: pip install 'hookline[{extra}]'",
        ) from exc
    return backend(uri)  # type: ignore[no-any-return]
