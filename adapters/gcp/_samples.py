"""Realistic Google Cloud payloads for one object: the CloudEvent Eventarc delivers when
an object is finalized (``hookline events sample --cloud gcp``)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from hookline.adapters._samples import digest, now_iso, split_uri
from hookline.errors import UsageError

__all__ = ["MODES", "object_resource", "sample_event", "sample_schedule"]

MODES = ("structured", "binary")
FINALIZED = "google.cloud.storage.object.v1.finalized"
_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%') + " "


def object_resource(
    bucket: str,
    name: str,
    *,
    size: int,
    generation: int,
    created: str,
    content_type: str = "text/csv",
) -> dict[str, Any]:
    """The JSON API object resource, which is exactly the finalized event's ``data``."""
    md5 = base64.b64encode(bytes.fromhex(digest("md5", bucket, name, generation))).decode()
    quoted = quote(name, safe="")
    return {
        "kind": "storage#object",
        "id": f"{bucket}/{name}/{generation}",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{bucket}/o/{quoted}",
        "mediaLink": f"https://storage.googleapis.com/download/storage/v1/b/{bucket}/o/"
        f"{quoted}?generation={generation}&alt=media",
        "name": name,
        "bucket": bucket,
        "generation": str(generation),
        "metageneration": "1",
        "contentType": content_type,
        "storageClass": "STANDARD",
        "size": str(size),
        "md5Hash": md5,
        "crc32c": base64.b64encode(bytes.fromhex(digest("crc", generation, length=8))).decode(),
        "etag": base64.b64encode(generation.to_bytes(8, "big") + b"\x10\x01").decode(),
        "timeCreated": created,
        "updated": created,
        "timeStorageClassUpdated": created,
    }


def sample_event(
    uri: str,
    *,
    mode: str = "structured",
    size: int = 1024,
    generation: int | None = None,
    event_time: str | None = None,
) -> dict[str, Any]:
    """A realistic ``google.cloud.storage.object.v1.finalized`` CloudEvent for ``uri``.

    :param uri: ``gs://bucket/name``.
    :param mode: ``structured`` (one JSON document) or ``binary`` (returns
        ``{"headers": {ce-* ...}, "data": {object resource}}``: send ``data`` as the JSON
        body with those headers).
    :raises UsageError: for a URI that is not ``gs://bucket/name`` or an unknown mode.
    """
    bucket, name = split_uri(uri, "gs")
    if mode not in MODES:
        raise UsageError(f"unknown CloudEvent mode {mode!r}; choose one of {', '.join(MODES)}")
    event_time = event_time or now_iso()
    if generation is None:
        generation = int(digest("gen", uri, event_time, length=13), 16) % 10**16 or 1
    data = object_resource(bucket, name, size=size, generation=generation, created=event_time)
    attributes = {
        "specversion": "1.0",
        "id": str(int(digest("id", uri, generation, length=12), 16)),
        "source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
        "type": FINALIZED,
        "subject": f"objects/{name}",
        "time": event_time,
        "datacontenttype": "application/json",
    }
    if mode == "binary":
        # HTTP binding: header values are percent-encoded beyond printable ASCII, '"', '%'
        headers = {
            f"ce-{k}": quote(v, safe=_HEADER_SAFE)
            for k, v in attributes.items()
            if k != "datacontenttype"
        }
        headers["content-type"] = "application/json"
        return {"headers": headers, "data": data}
    return {**attributes, "data": data}


def sample_schedule(pipeline: str, *, event_time: str | None = None) -> dict[str, Any]:
    """A structured ``hookline.schedule`` CloudEvent (Cloud Scheduler -> Eventarc/HTTP)."""
    event_time = event_time or now_iso()
    return {
        "specversion": "1.0",
        "id": digest("schedule", pipeline, event_time, length=16),
        "source": "//cloudscheduler.googleapis.com/hookline",
        "type": "hookline.schedule",
        "time": event_time,
        "datacontenttype": "application/json",
        "data": {"pipeline": pipeline},
    }
