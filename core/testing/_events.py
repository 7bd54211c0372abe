"""Realistic storage events for each cloud: the raw payload a platform delivers, and the
:class:`~hookline.events.StorageEvent` hookline turns it into.

The payloads are real-shaped (field for field what S3 notifications, GCS CloudEvents and
Azure Event Grid send) and use an awkward key -- a space, a ``+`` and non-ASCII characters
-- because decoding keys is where event parsers go wrong. The adapters are never imported
here; the expected events are written out by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from hookline.events import StorageEvent
from hookline.storage import object_uri

__all__ = ["CLOUDS", "SAMPLE_KEY", "SampleEvent", "sample_events"]

CLOUDS = ("aws", "gcp", "azure", "local")

SAMPLE_KEY = "landing/train/customers 2024+q1 été.csv"
"""The object key every sample event names, decoded."""

_BUCKET = "acme-ml"
_SIZE = 18432
_TIME = "2024-05-14T09:21:37.512Z"
_LOCAL_ETAG = "1a2b3c-17f0a1b2c3d4e5f6-4800"  # LocalStorage etags: inode-mtime-size
_FILES = {
    "aws": "aws_s3_object_created.json",
    "gcp": "gcp_object_finalized.json",
    "azure": "azure_blob_created.json",
}


@dataclass(frozen=True)
class SampleEvent:
    """One cloud's delivery of "an object was created".

    :param cloud: ``aws``, ``gcp``, ``azure`` or ``local``.
    :param payload: the raw payload as the platform delivers it (a fresh copy per call of
        :func:`sample_events`, so tests may modify it).
    :param event: the storage event hookline's adapter for that cloud produces from it.
    """

    cloud: str
    payload: Any
    event: StorageEvent

    @property
    def key(self) -> str:
        return self.event.key


def _payload(cloud: str) -> Any:
    text = (
        resources.files("hookline.testing.payloads")
        .joinpath(_FILES[cloud])
        .read_text(encoding="utf-8")
    )
    return json.loads(text)


def _expected() -> Mapping[str, StorageEvent]:
    return {
        "aws": StorageEvent(
            uri=object_uri("s3", _BUCKET, SAMPLE_KEY),
            bucket=_BUCKET,
            key=SAMPLE_KEY,
            size=_SIZE,
            etag="d41d8cd98f00b204e9800998ecf8427e",
            version="3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
            event_time=_TIME,
            event_id="0066432E71773B3A52",
            source="aws",
        ),
        "gcp": StorageEvent(
            uri=object_uri("gs", _BUCKET, SAMPLE_KEY),
            bucket=_BUCKET,
            key=SAMPLE_KEY,
            size=_SIZE,
            etag="1B2M2Y8AsgTpgAmY7PhCfg==",  # md5Hash, as the GCS parser reads it
            version="1715678497512345",
            event_time=_TIME,
            event_id="10963617283749162",
            source="gcp",
        ),
        "azure": StorageEvent(
            uri=object_uri("az", _BUCKET, SAMPLE_KEY),
            bucket=_BUCKET,
            key=SAMPLE_KEY,
            size=_SIZE,
            etag="0x8DC73F4F5A2B3C1",
            version="0x8DC73F4F5A2B3C1",  # an Azure ETag names one write of the blob
            event_time=_TIME,
            event_id="831e1650-001e-001b-66ab-eeb76e069631",
            source="azure",
        ),
        "local": StorageEvent(
            uri=object_uri("file", "", f"/srv/hookline/{SAMPLE_KEY}"),
            bucket="",
            key=SAMPLE_KEY,
            size=_SIZE,
            etag=_LOCAL_ETAG,
            version=_LOCAL_ETAG,
            event_time=_TIME,
            event_id=None,
            source="local",
        ),
    }


def sample_events() -> dict[str, SampleEvent]:
    """One :class:`SampleEvent` per cloud (``aws``, ``gcp``, ``azure``, ``local``).

    ``aws`` is an S3 ``ObjectCreated:Put`` notification (``Records`` list, key
    form-encoded), ``gcp`` a ``google.cloud.storage.object.v1.finalized`` CloudEvent in
    structured mode, ``azure`` an Event Grid ``Microsoft.Storage.BlobCreated`` array, and
    ``local`` the event dictionary hookline itself writes for a file in a watched folder.
    """
    expected = _expected()
    out: dict[str, SampleEvent] = {}
    for cloud in CLOUDS:
        payload = expected[cloud].to_dict() if cloud == "local" else _payload(cloud)
        out[cloud] = SampleEvent(cloud=cloud, payload=payload, event=expected[cloud])
    return out
