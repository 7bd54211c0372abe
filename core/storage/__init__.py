"""Storage: one small interface over object stores, addressed by URI.

``file://`` (and plain paths) is built in; ``s3://``, ``gs://`` and ``az://`` come from
``hookline.adapters`` and are imported only when their scheme is used.
"""

from hookline.storage._base import ObjectInfo, Storage, check_key, join_key
from hookline.storage._fetch import fetch_source
from hookline.storage._local import LocalStorage
from hookline.storage._uri import (
    URI_SAFE,
    ParsedURI,
    object_uri,
    open_storage,
    parse_uri,
    storage_schemes,
)

__all__ = [
    "URI_SAFE",
    "LocalStorage",
    "ObjectInfo",
    "ParsedURI",
    "Storage",
    "check_key",
    "fetch_source",
    "join_key",
    "object_uri",
    "open_storage",
    "parse_uri",
    "storage_schemes",
]
