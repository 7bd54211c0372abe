"""Helpers for realistic sample payloads (``hookline events sample``): deterministic ids
derived from the object, so the same command prints the same event. The standard library
modules they need are imported when a sample is made, not on a function's cold start."""

from __future__ import annotations

from hookline.errors import UsageError
from hookline.storage import parse_uri

__all__ = ["digest", "fake_uuid", "now_iso", "split_uri"]


def split_uri(uri: str, scheme: str) -> tuple[str, str]:
    """``(bucket, key)`` of an object URI of ``scheme``.

    :raises UsageError: for another scheme, or a URI without a key.
    """
    parsed = parse_uri(uri)
    if parsed.scheme != scheme or not parsed.bucket or not parsed.path:
        raise UsageError(
            f"expected an object URI like {scheme}://BUCKET/path/to/file.csv, got {uri!r}"
        )
    return parsed.bucket, parsed.path


def digest(*parts: object, length: int = 32) -> str:
    import hashlib

    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:length]


def fake_uuid(*parts: object) -> str:
    import uuid

    return str(uuid.UUID(digest(*parts)))


def now_iso() -> str:
    from hookline.events import utc_now_iso

    return utc_now_iso()
