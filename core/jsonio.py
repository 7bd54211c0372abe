"""One JSON codec for everything hookline stores, prints or hashes.

Three rules, in one place:

* **NaN policy.** JSON has no NaN or infinity. A non-finite number (a metric a trainer
  could not compute, a statistic of an empty column) is written as ``null`` -- in run
  records, manifests, reports, CLI output, everywhere -- and a document is never written
  with the ``NaN`` token Python's ``json`` would emit.
* **Library values.** numpy scalars and arrays become plain numbers and lists, tuples and
  sets become lists, dataclasses become objects, datetimes become ISO 8601 UTC strings
  (``2026-12-03T11:38:45.123Z``), paths become strings; anything else becomes its ``str``.
  No library is imported to do this.
* **Canonical bytes.** :func:`canonical` is the one byte form used for hashing and signing
  (sorted keys, no whitespace, UTF-8): the config hash, signatures and content digests of
  documents all go through it, so two writers can never disagree about a digest.

Stored documents are pretty-printed with sorted keys (:func:`dumps`), so they diff well and
a rewrite of the same document gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from os import PathLike, fspath
from typing import Any

__all__ = ["canonical", "digest", "dumps", "jsonable", "loads", "utc_iso"]


def utc_iso(moment: datetime) -> str:
    """``moment`` as ISO 8601 UTC with milliseconds and a ``Z`` (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def jsonable(value: Any) -> Any:
    """A copy of ``value`` made only of JSON types, following the rules above."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [jsonable(v) for v in items]
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, PathLike):
        return fspath(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "tolist"):  # numpy scalar or array (and pandas' numpy-backed values)
        return jsonable(value.tolist())
    if hasattr(value, "item"):
        try:
            return jsonable(value.item())
        except (TypeError, ValueError):
            pass
    if hasattr(value, "isoformat"):  # pandas.Timestamp and friends
        return jsonable(value.isoformat())
    return str(value)


def dumps(doc: Any) -> bytes:
    """The stored form of ``doc``: pretty-printed, sorted keys, UTF-8, NaN as ``null``."""
    return json.dumps(jsonable(doc), indent=2, sort_keys=True, allow_nan=False).encode()


def canonical(doc: Any) -> bytes:
    """The canonical bytes of ``doc`` for hashing and signing: sorted keys, compact
    separators, UTF-8 (not ASCII-escaped), NaN as ``null``."""
    return json.dumps(
        jsonable(doc), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def digest(doc: Any) -> str:
    """sha256 (hex) of :func:`canonical` ``doc``."""
    return hashlib.sha256(canonical(doc)).hexdigest()


def loads(data: bytes | str) -> Any:
    """Parse a stored document. ``NaN``/``Infinity`` tokens written by older versions are
    read as ``None``, so every reader sees the same values."""
    return json.loads(data, parse_constant=lambda _token: None)
