"""Realistic Azure payloads for one blob: Event Grid ``Microsoft.Storage.BlobCreated`` in
the Event Grid and the CloudEvents schema (``hookline events sample --cloud azure``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hookline.adapters._samples import digest, fake_uuid, now_iso, split_uri
from hookline.errors import UsageError

__all__ = ["SCHEMAS", "sample_event", "sample_schedule"]

SCHEMAS = ("eventgrid", "cloudevents")
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def sample_event(
    uri: str,
    *,
    schema: str = "eventgrid",
    size: int = 1024,
    etag: str | None = None,
    api: str = "PutBlob",
    account: str = "hooklinedemo",
    resource_group: str = "hookline",
    event_time: str | None = None,
) -> dict[str, Any]:
    """A realistic ``Microsoft.Storage.BlobCreated`` event for ``az://container/key``.

    :param schema: ``eventgrid`` or ``cloudevents`` (the subscription's delivery schema).
    :param api: the operation that created the blob: ``PutBlob``, ``PutBlockList`` (large
        uploads), ``CopyBlob``, ``FlushWithClose`` (Data Lake Gen2).
    :raises UsageError: for a URI that is not ``az://container/key`` or an unknown schema.
    """
    container, key = split_uri(uri, "az")
    if schema not in SCHEMAS:
        raise UsageError(
            f"unknown Event Grid schema {schema!r}; choose one of {', '.join(SCHEMAS)}"
        )
    event_time = event_time or now_iso()
    topic = (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{resource_group}/providers/"
        f"Microsoft.Storage/storageAccounts/{account}"
    )
    data = {
        "api": api,
        "clientRequestId": fake_uuid("client", uri, event_time),
        "requestId": fake_uuid("request", uri, event_time),
        "eTag": etag or "0x8DC" + digest("etag", uri, event_time, length=12).upper(),
        "contentType": "text/csv",
        "contentLength": size,
        "blobType": "BlockBlob",
        "accessTier": "Default",
        "url": f"https://{account}.blob.core.windows.net/{container}/{quote(key)}",
        "sequencer": digest("seq", uri, event_time, length=32).upper(),
        "storageDiagnostics": {"batchId": fake_uuid("batch", uri, event_time)},
    }
    common = {
        "subject": f"/blobServices/default/containers/{container}/blobs/{key}",
        "id": fake_uuid("event", uri, event_time),
        "data": data,
    }
    if schema == "cloudevents":
        return {
            "source": topic,
            "type": "Microsoft.Storage.BlobCreated",
            "time": event_time,
            "specversion": "1.0",
            **common,
        }
    return {
        "topic": topic,
        "eventType": "Microsoft.Storage.BlobCreated",
        "eventTime": event_time,
        **common,
        "dataVersion": "",
        "metadataVersion": "1",
    }


def sample_schedule(pipeline: str, *, event_time: str | None = None) -> dict[str, Any]:
    """An Event Grid event of type ``hookline.schedule`` (a custom topic's firing). The
    timer trigger has no payload: ``pipeline_timer`` names its pipeline by app setting."""
    event_time = event_time or now_iso()
    return {
        "id": fake_uuid("schedule", pipeline, event_time),
        "topic": "hookline",
        "subject": f"schedules/{pipeline}",
        "eventType": "hookline.schedule",
        "eventTime": event_time,
        "data": {"pipeline": pipeline},
        "dataVersion": "1",
    }
