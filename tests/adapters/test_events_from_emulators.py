"""Events produced by the emulators themselves, parsed and followed back to the bytes.

* moto: S3 -> SQS notifications configured on the server, received over the network, in
  the shape Lambda's SQS poller hands to the function.
* fake-gcs-server: the object resource from ``GET /storage/v1/b/{bucket}/o/{name}`` is
  exactly a finalized CloudEvent's ``data`` (fake-gcs publishes only to Pub/Sub).
* Azurite: a blob's real properties as a ``func.InputStream`` and as Event Grid data.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest
from hookline.adapters.aws import events as aws_events
from hookline.adapters.azure import events as azure_events
from hookline.adapters.gcp import events as gcp_events
from hookline.events import StorageEvent, skip_reason
from hookline.storage import open_storage

KEYS = ["landing/a b+c%d é.csv", "landing/ünï/100% + more.csv", "landing/plain.csv"]


# -- AWS: moto S3 -> SQS ------------------------------------------------------------------


def _lambda_sqs_batch(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Received SQS messages as Lambda's event source mapping delivers them."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def _receive_all(sqs: Any, queue_url: str, expected: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(messages) < expected and time.monotonic() < deadline:
        got = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
        )
        messages += got.get("Messages", [])
    return messages


def test_s3_to_sqs_notifications_from_moto(s3_server: Any, s3_bucket: str) -> None:
    import boto3

    s3 = s3_server.s3_client()
    sqs = boto3.session.Session().client("sqs", endpoint_url=s3_server.url, region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName=f"landing-{s3_bucket}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=s3_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )

    storage = open_storage(f"s3://{s3_bucket}")
    contents = {key: f"x,y\n{i},{i * 2}\n".encode() for i, key in enumerate(KEYS)}
    for key, data in contents.items():
        storage.write(key, data)
    # a multipart upload: arrives as ObjectCreated:CompleteMultipartUpload
    big_key = "landing/big + multipart é.csv"
    upload = s3.create_multipart_upload(Bucket=s3_bucket, Key=big_key)
    part = s3.upload_part(
        Bucket=s3_bucket, Key=big_key, UploadId=upload["UploadId"], PartNumber=1, Body=b"a,b\n" * 50
    )
    s3.complete_multipart_upload(
        Bucket=s3_bucket,
        Key=big_key,
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    contents[big_key] = b"a,b\n" * 50

    # 1 test event + 3 puts + the multipart completion (moto also sends a Put for it)
    messages = _receive_all(sqs, queue_url, expected=5)
    bodies = [json.loads(m["Body"]) for m in messages]
    assert any(b.get("Event") == "s3:TestEvent" for b in bodies)
    names = {r["eventName"] for b in bodies for r in b.get("Records", [])}
    assert "ObjectCreated:CompleteMultipartUpload" in names

    batch = _lambda_sqs_batch(messages, queue_arn)
    assert aws_events.classify(batch) == "sqs"
    events = aws_events.parse_event(batch)
    assert all(isinstance(e, StorageEvent) for e in events)
    assert {e.key for e in events} == set(contents)  # type: ignore[union-attr]
    for event in events:
        assert isinstance(event, StorageEvent)
        assert event.bucket == s3_bucket
        assert event.uri == storage.url(event.key)
        assert storage.read(event.key) == contents[event.key]  # the event leads to the bytes
        info = storage.stat(event.key)
        assert info is not None
        assert event.size == info.size
        assert f'"{event.etag}"' == info.etag
    big = [e for e in events if e.key == big_key]  # type: ignore[union-attr]
    assert len({e.run_id("train") for e in big}) == 1  # duplicates collapse to one run
    # each message also parses on its own (what a batch-size-1 mapping delivers)
    per_message = [e for m in messages for e in aws_events.parse_event(json.loads(m["Body"]))]
    assert per_message == events


# -- GCP: fake-gcs-server object resources ------------------------------------------------


def _object_resource(server: Any, bucket: str, name: str) -> dict[str, Any]:
    url = f"{server.url}/storage/v1/b/{bucket}/o/{quote(name, safe='')}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return dict(json.loads(response.read()))


@pytest.mark.parametrize("mode", ["structured", "binary"])
def test_gcs_object_resource_as_cloudevent(gcs_server: Any, gcs_bucket: str, mode: str) -> None:
    storage = open_storage(f"gs://{gcs_bucket}")
    for i, key in enumerate(KEYS):
        data = f"x,y\n{i},{i}\n".encode()
        info = storage.write(key, data)
        resource = _object_resource(gcs_server, gcs_bucket, key)
        assert resource["name"] == key and resource["size"] == str(len(data))
        attributes = {
            "specversion": "1.0",
            "id": f"evt-{i}",
            "source": f"//storage.googleapis.com/projects/_/buckets/{gcs_bucket}",
            "type": "google.cloud.storage.object.v1.finalized",
            "subject": f"objects/{key}",
            "time": resource.get("timeCreated") or "2024-01-01T00:00:00Z",
        }
        if mode == "structured":
            events = gcp_events.parse_event({**attributes, "data": resource})
        else:
            headers = {f"ce-{k}": quote(v, safe="/:") for k, v in attributes.items()}
            headers["Content-Type"] = "application/json"
            events = gcp_events.parse_http(headers, json.dumps(resource).encode())
        [event] = events
        assert isinstance(event, StorageEvent)
        assert (event.bucket, event.key, event.size) == (gcs_bucket, key, len(data))
        assert event.version == info.version == info.etag  # the generation
        assert event.uri == storage.url(key)
        assert storage.read(event.key) == data


def test_gcs_zero_byte_object_is_flagged(gcs_server: Any, gcs_bucket: str) -> None:
    storage = open_storage(f"gs://{gcs_bucket}")
    storage.write("landing/fuse.csv", b"")
    resource = _object_resource(gcs_server, gcs_bucket, "landing/fuse.csv")
    [event] = gcp_events.parse_event(
        {
            "specversion": "1.0",
            "id": "z",
            "type": "google.cloud.storage.object.v1.finalized",
            "source": f"//storage.googleapis.com/projects/_/buckets/{gcs_bucket}",
            "data": resource,
        }
    )
    assert isinstance(event, StorageEvent) and event.size == 0
    assert skip_reason(event) is not None


# -- Azure: Azurite blob properties -------------------------------------------------------


def test_azurite_blob_as_input_stream_and_event_grid(
    azurite_server: Any, azure_container: str
) -> None:
    import azure.functions as func

    storage = open_storage(f"az://{azure_container}")
    container = azurite_server.blob_service().get_container_client(azure_container)
    for i, key in enumerate(KEYS):
        data = f"x,y\n{i},{i}\n".encode()
        storage.write(key, data)
        blob = container.get_blob_client(key)
        props = blob.get_blob_properties()
        # what the Functions host binds for a v2 blob trigger (without reading the blob)
        stream = func.blob.InputStream(
            data=b"",
            name=f"{azure_container}/{key}",
            uri=blob.url,
            length=props.size,
            blob_properties={"ETag": props.etag, "Length": props.size},
        )
        event = azure_events.from_input_stream(stream)
        assert (event.bucket, event.key, event.size) == (azure_container, key, len(data))
        assert event.uri == storage.url(key)
        assert storage.read(event.key) == data
        from_client = azure_events.from_blob_client(blob, props)
        assert from_client == replace(event, event_time=from_client.event_time)
        assert from_client.event_time.startswith(str(props.last_modified.year))
        # Event Grid data built from the same real properties: path-style Azurite URL
        grid = {
            "id": f"evt-{i}",
            "eventType": "Microsoft.Storage.BlobCreated",
            "subject": f"/blobServices/default/containers/{azure_container}/blobs/{key}",
            "eventTime": "2024-05-14T09:21:37Z",
            "data": {
                "api": "PutBlob",
                "url": blob.url,
                "eTag": props.etag,
                "contentLength": props.size,
                "blobType": "BlockBlob",
            },
        }
        [from_grid] = azure_events.parse_event([grid])
        assert isinstance(from_grid, StorageEvent)
        assert (from_grid.bucket, from_grid.key, from_grid.size) == (
            azure_container,
            key,
            len(data),
        )
        del grid["subject"]  # the URL alone must do, too
        assert azure_events.parse_event(grid)[0].key == key  # type: ignore[union-attr]
