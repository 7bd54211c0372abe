"""How the cloud back-ends report failures: clear, named, and sorted into permanent errors
and the transient ones the platforms retry.

Missing buckets are tested against the real emulators; throttling, timeouts and dropped
connections against a small misbehaving HTTP server on loopback, reached by the real SDKs.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from hookline.adapters.aws.storage import S3Storage
from hookline.adapters.azure.storage import AzureBlobStorage
from hookline.adapters.gcp.storage import GCSStorage
from hookline.errors import (
    InvalidKey,
    NotFound,
    PreconditionFailed,
    StorageError,
    TransientError,
    TransientStorageError,
)
from hookline.storage import open_storage

from ._storage_stub import Reply, stub_server

AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def aws_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def azure_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING",
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={url}/devstoreaccount1;",
    )


def s3(uri: str = "s3://bucket/root") -> S3Storage:
    return S3Storage(uri, max_attempts=1, connect_timeout=0.3, read_timeout=0.3)


def gcs(uri: str = "gs://bucket/root") -> GCSStorage:
    return GCSStorage(uri, timeout=0.3, retry_timeout=0.3)


def azure(uri: str = "az://container/root") -> AzureBlobStorage:
    return AzureBlobStorage(uri, retries=0, connection_timeout=0.3, read_timeout=0.3)


# -- a bucket that does not exist ----------------------------------------------------------

OPERATIONS = {
    "read": lambda s: s.read("k.csv"),
    "stat": lambda s: s.stat("k.csv"),
    "open": lambda s: s.open("k.csv"),
    "write": lambda s: s.write("k.csv", b"x"),
    "create": lambda s: s.create("k.csv", b"x"),
    "list": lambda s: list(s.list()),
}


@pytest.mark.parametrize("op", OPERATIONS)
@pytest.mark.parametrize("scheme", ["s3", "gs", "az"])
def test_missing_bucket_is_a_clear_permanent_error(
    request: pytest.FixtureRequest, scheme: str, op: str
) -> None:
    request.getfixturevalue({"s3": "s3_server", "gs": "gcs_server", "az": "azurite_server"}[scheme])
    storage = open_storage(f"{scheme}://no-such-bucket-4d2c/root")
    with pytest.raises(StorageError) as err:
        OPERATIONS[op](storage)
    assert not isinstance(err.value, NotFound | TransientError)
    text = str(err.value)
    assert f"{scheme}://no-such-bucket-4d2c/root" in text
    assert "does not exist" in text
    assert "hint:" in text


# -- unreachable endpoints and throttling: transient ---------------------------------------


def test_s3_unreachable_endpoint_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    aws_env(monkeypatch, f"http://127.0.0.1:{closed_port()}")
    storage = s3()
    started = time.monotonic()
    for op in OPERATIONS.values():
        with pytest.raises(TransientStorageError) as err:
            op(storage)
        assert isinstance(err.value, TransientError)
        assert "s3://bucket/root" in str(err.value)
        assert "cannot reach S3" in str(err.value)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, "SlowDown"), (500, "InternalError"), (400, "RequestTimeout"), (503, "")],
)
def test_s3_throttling_is_transient_and_retried(
    monkeypatch: pytest.MonkeyPatch, status: int, code: str
) -> None:
    body = f"<Error><Code>{code}</Code><Message>Reduce your request rate.</Message></Error>"
    with stub_server(Reply(status, body.encode(), {"Content-Type": "application/xml"})) as stub:
        aws_env(monkeypatch, stub.url)
        storage = S3Storage("s3://bucket/root", max_attempts=2, connect_timeout=1, read_timeout=1)
        with pytest.raises(TransientStorageError) as err:
            storage.read("a b.csv")
    assert "s3://bucket/root/a%20b.csv" in str(err.value)
    assert (code or str(status)) in str(err.value)
    assert len(stub.requests) == 2  # botocore's standard retry mode tried again
    assert all(path.startswith("/bucket/root/a%20b.csv") for _, path in stub.requests)


def test_s3_read_timeout_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    with stub_server(Reply(200, b"late", delay=1.5)) as stub:
        aws_env(monkeypatch, stub.url)
        with pytest.raises(TransientStorageError):
            s3().read("k.csv")


def test_s3_connection_dropped_mid_stream_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    reply = Reply(200, b"x" * 100_000, {"ETag": '"abc"'}, truncate=1000)
    with stub_server(reply) as stub:
        aws_env(monkeypatch, stub.url)
        with pytest.raises(TransientStorageError):
            s3().read("k.csv")
        with s3().open("k.csv") as fh, pytest.raises(TransientStorageError):
            fh.read()


def test_s3_access_denied_is_permanent_and_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
    with stub_server(Reply(403, body)) as stub:
        aws_env(monkeypatch, stub.url)
        with pytest.raises(StorageError) as err:
            s3().write("k.csv", b"x")
    assert not isinstance(err.value, TransientError)
    assert "AccessDenied" in str(err.value)
    assert "credentials" in str(err.value)


def _gcs_error(status: int, message: str) -> Reply:
    body = json.dumps({"error": {"code": status, "message": message}}).encode()
    return Reply(status, body, {"Content-Type": "application/json"})


def test_gcs_unreachable_endpoint_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(TransientStorageError) as err:
        gcs().read("k.csv")
    assert "gs://bucket/root/k.csv" in str(err.value)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_gcs_throttling_is_transient(monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    with stub_server(_gcs_error(status, "rate limit exceeded")) as stub:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", stub.url)
        with pytest.raises(TransientStorageError) as err:
            gcs().stat("k.csv")
    assert "gs://bucket/root/k.csv" in str(err.value)
    assert stub.requests  # the request did reach the server


def test_gcs_forbidden_is_permanent(monkeypatch: pytest.MonkeyPatch) -> None:
    with stub_server(_gcs_error(403, "caller does not have storage.objects.get")) as stub:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", stub.url)
        with pytest.raises(StorageError) as err:
            gcs().read("k.csv")
    assert not isinstance(err.value, TransientError)
    assert "storage.objects.get" in str(err.value)


def test_azure_unreachable_endpoint_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    azure_env(monkeypatch, f"http://127.0.0.1:{closed_port()}")
    for op in ("read", "stat", "write"):
        with pytest.raises(TransientStorageError) as err:
            OPERATIONS[op](azure())
        assert "az://container/root/k.csv" in str(err.value)


@pytest.mark.parametrize(("status", "code"), [(503, "ServerBusy"), (500, "InternalError")])
def test_azure_server_busy_is_transient(
    monkeypatch: pytest.MonkeyPatch, status: int, code: str
) -> None:
    reply = Reply(status, b"", {"x-ms-error-code": code})
    with stub_server(reply) as stub:
        azure_env(monkeypatch, stub.url)
        with pytest.raises(TransientStorageError) as err:
            azure().write("k.csv", b"x")
    assert code in str(err.value)


def test_azure_without_an_account_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_URL", raising=False)
    storage = open_storage("az://container/root")  # building the object needs no account
    with pytest.raises(StorageError) as err:
        storage.read("k.csv")
    assert "AZURE_STORAGE_ACCOUNT_URL" in str(err.value)
    assert "AZURE_STORAGE_CONNECTION_STRING" in str(err.value)


# -- keys and URIs: rejected before any request --------------------------------------------


@pytest.mark.parametrize("key", ["../x", "/abs", "a\x00b", "a\\b", "a/./b"], ids=repr)
def test_invalid_keys_never_reach_the_network(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    aws_env(monkeypatch, url)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
    azure_env(monkeypatch, url)
    for storage in (s3(), gcs(), azure()):
        started = time.monotonic()
        calls = [
            lambda: storage.read(key),
            lambda: storage.stat(key),
            lambda: storage.open(key),
            lambda: storage.write(key, b"x"),
            lambda: storage.create(key, b"x"),
            lambda: storage.replace(key, b"x", "1"),
            lambda: storage.delete(key),
            lambda: list(storage.list(key)),
        ]
        for call in calls:
            with pytest.raises(InvalidKey) as err:
                call()
            assert storage.uri in str(err.value) or "root" in repr(err.value)
        assert storage._client is None  # no client built, so no request sent
        assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("uri", "error"),
    [
        ("s3://", StorageError),
        ("s3:///just-a-path", StorageError),
        ("s3://bucket/../up", InvalidKey),
        ("gs://bucket/a//b", InvalidKey),
        ("az://container/a\\b", InvalidKey),
    ],
)
def test_bad_root_uris(uri: str, error: type[Exception]) -> None:
    with pytest.raises(error) as err:
        open_storage(uri)
    assert "://" in str(err.value)


def test_backend_refuses_a_foreign_scheme() -> None:
    with pytest.raises(StorageError, match="not a s3:// URI"):
        S3Storage("gs://bucket")


def test_gcs_replace_with_an_etag_that_is_not_a_generation(gcs_bucket: str) -> None:
    storage = open_storage(f"gs://{gcs_bucket}")
    storage.write("k", b"1")
    with pytest.raises(PreconditionFailed, match="generation"):
        storage.replace("k", b"2", '"0x8DC"')
    assert storage.read("k") == b"1"


def test_gcs_sends_only_the_requests_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    """google-cloud-storage 3.x would fetch bucket metadata from a background thread to
    label tracing spans; the back-end turns that off, so a stat is exactly one request."""
    resource = {
        "name": "root/k.csv",
        "bucket": "bucket",
        "generation": "5",
        "size": "3",
        "updated": "2024-01-01T00:00:00Z",
    }
    reply = Reply(200, json.dumps(resource).encode(), {"Content-Type": "application/json"})
    with stub_server(reply) as stub:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", stub.url)
        monkeypatch.delenv("ENABLE_GCS_PYTHON_CLIENT_OTEL_TRACES", raising=False)
        info = gcs().stat("k.csv")
        time.sleep(0.3)  # a background fetch would have arrived by now
    assert info is not None and (info.etag, info.version, info.size) == ("5", "5", 3)
    assert [path.split("?")[0] for _, path in stub.requests] == [
        "/storage/v1/b/bucket/o/root%2Fk.csv"
    ]
