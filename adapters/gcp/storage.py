"""``gs://bucket[/prefix]`` storage on Google Cloud Storage.

Credentials come from Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``,
``gcloud auth application-default login``, the function's service account); the project
from ``GOOGLE_CLOUD_PROJECT`` when set. With ``STORAGE_EMULATOR_HOST`` set (an emulator
such as fake-gcs-server) the client talks to that host with anonymous credentials.

Conditional writes map to generation preconditions: *create* is an upload with
``if_generation_match=0``; *replace* one with ``if_generation_match=<generation>``. The
etag hookline sees is the object's generation, as a string.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO

from hookline.adapters._storage import CloudRoot, MappedReader, Rewindable, buffered
from hookline.errors import (
    AlreadyExists,
    NotFound,
    PreconditionFailed,
    StorageError,
    TransientStorageError,
)
from hookline.storage import ObjectInfo

__all__ = ["GCSStorage"]

_CHUNK = 8 * 1024 * 1024  # resumable-upload and streamed-read chunk (a multiple of 256 KiB)
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class GCSStorage:
    """A bucket, or a prefix inside one, on Google Cloud Storage.

    :param uri: ``gs://bucket`` or ``gs://bucket/prefix``.
    :param timeout: seconds to wait for a connection and for each response.
    :param retry_timeout: total seconds the SDK spends retrying a request that failed
        transiently (429, 5xx, connection errors) before giving up.
    :raises StorageError: for a URI that is not ``gs://bucket[/prefix]``.
    """

    def __init__(self, uri: str, *, timeout: float = 60.0, retry_timeout: float = 60.0) -> None:
        self._root = CloudRoot.parse(uri, "gs")
        self.uri = self._root.uri
        self.bucket = self._root.bucket
        self._timeout = timeout
        self._retry_timeout = retry_timeout
        self._client: Any = None
        self._bucket_obj: Any = None
        self._retry: Any = None
        self._lock = threading.Lock()
        self._bucket_checked = False

    def __repr__(self) -> str:
        return f"GCSStorage({self.uri!r})"

    @property
    def client(self) -> Any:
        """The ``google.cloud.storage.Client``, built on first use (and only once)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        from google.api_core.retry import Retry
        from google.cloud import storage  # type: ignore[attr-defined]
        from google.cloud.storage.retry import DEFAULT_RETRY

        project = os.environ.get("GOOGLE_CLOUD_PROJECT") or None
        try:
            if os.environ.get("STORAGE_EMULATOR_HOST"):
                from google.auth.credentials import AnonymousCredentials

                client = storage.Client(
                    project=project or "hookline-emulator", credentials=AnonymousCredentials()
                )
            else:
                client = storage.Client(project=project)
        except Exception as exc:
            raise self._error(exc, None) from exc
        if os.environ.get("ENABLE_GCS_PYTHON_CLIENT_OTEL_TRACES", "").lower() not in (
            "1",
            "true",
            "yes",
        ) and hasattr(client, "_bucket_metadata_cache"):
            # google-cloud-storage 3.x fetches each bucket's metadata (buckets.get) from a
            # background thread only to label OpenTelemetry spans. Without tracing that is an
            # extra request per cold start, denied anyway under object-only IAM roles.
            client._bucket_metadata_cache = None
        retry: Retry = DEFAULT_RETRY.with_timeout(self._retry_timeout)
        self._retry = retry
        self._bucket_obj = client.bucket(self.bucket)
        return client

    @property
    def _bucket(self) -> Any:
        if self._bucket_obj is None:
            _ = self.client
        return self._bucket_obj

    def url(self, key: str) -> str:
        return self._root.url(key)

    # -- errors -------------------------------------------------------------------------

    def _error(
        self,
        exc: BaseException,
        key: str | None,
        conflict: type[PreconditionFailed] = PreconditionFailed,
    ) -> Exception:
        """Translate a google-cloud-storage / google-auth / requests exception."""
        from google.api_core import exceptions as gex
        from google.auth import exceptions as gauth

        uri = self.url(key) if key is not None else self.uri
        if isinstance(exc, gex.RetryError):
            return TransientStorageError(
                f"GCS kept failing until the retry deadline: {exc.cause or exc}",
                uri=uri,
                hint="GCS is throttling or unavailable; retry later",
            )
        if isinstance(exc, gex.GoogleAPICallError):
            status = int(exc.code or 0)
            detail = f"GCS {status}: {exc.message}"
            if status == 404:
                return NotFound("no such object", uri=uri)
            if status == 412:
                return conflict(detail, uri=uri)
            if status in _TRANSIENT_STATUS:
                return TransientStorageError(
                    detail, uri=uri, hint="GCS is throttling or unavailable; retry later"
                )
            if status in (401, 403):
                return StorageError(
                    detail,
                    uri=uri,
                    hint="check the credentials (GOOGLE_APPLICATION_CREDENTIALS, the "
                    "function's service account) and its role on the bucket",
                )
            return StorageError(detail, uri=uri)
        if isinstance(exc, gauth.DefaultCredentialsError):
            return StorageError(
                f"no Google Cloud credentials found ({exc})",
                uri=uri,
                hint="set GOOGLE_APPLICATION_CREDENTIALS or run "
                "`gcloud auth application-default login` (or STORAGE_EMULATOR_HOST)",
            )
        if isinstance(exc, gauth.TransportError | ConnectionError | TimeoutError) or (
            type(exc).__module__.startswith(("requests.", "urllib3."))
        ):
            host = os.environ.get("STORAGE_EMULATOR_HOST") or "storage.googleapis.com"
            return TransientStorageError(
                f"cannot reach GCS at {host}: {exc}",
                uri=uri,
                hint="check the network or STORAGE_EMULATOR_HOST; retrying may succeed",
            )
        if isinstance(exc, Exception):
            return exc
        return StorageError(str(exc), uri=uri)

    def _no_bucket(self) -> StorageError:
        return StorageError(
            f"the GCS bucket {self.bucket!r} does not exist",
            uri=self.uri,
            hint="create the bucket, or fix the storage URI in hookline.toml",
        )

    def _check_bucket(self) -> None:
        """After a 404, tell a missing bucket from a missing object (once per root)."""
        if self._bucket_checked:
            return
        try:
            exists = self._bucket.exists(timeout=self._timeout, retry=self._retry)
        except Exception as exc:
            raise self._error(exc, None) from exc
        if not exists:
            raise self._no_bucket()
        self._bucket_checked = True

    def _not_found(self, key: str) -> NotFound:
        self._check_bucket()
        return NotFound("no such object", uri=self.url(key))

    def _info(self, key: str, blob: Any) -> ObjectInfo:
        generation = str(blob.generation)
        updated = blob.updated or blob.time_created
        return ObjectInfo(
            key=key,
            size=int(blob.size or 0),
            etag=generation,
            modified=updated.timestamp() if updated else 0.0,
            version=generation,
        )

    # -- reads --------------------------------------------------------------------------

    def _get_blob(self, key: str) -> Any:
        """The blob's metadata (None when missing), fetched with one request."""
        name = self._root.name(key)
        try:
            blob = self._bucket.get_blob(name, timeout=self._timeout, retry=self._retry)
        except Exception as exc:
            raise self._error(exc, key) from exc
        if blob is None:
            self._check_bucket()
        return blob

    def stat(self, key: str) -> ObjectInfo | None:
        blob = self._get_blob(key)
        return None if blob is None else self._info(key, blob)

    def read(self, key: str) -> bytes:
        return self.read_with_info(key)[0]

    def read_with_info(self, key: str) -> tuple[bytes, ObjectInfo]:
        # Metadata, then the bytes of exactly that generation: consistent even when a
        # writer replaces the object in between (the second request then fails with
        # 412 and we start over).
        for _ in range(5):
            blob = self._get_blob(key)
            if blob is None:
                raise NotFound("no such object", uri=self.url(key))
            try:
                data = blob.download_as_bytes(
                    if_generation_match=blob.generation, timeout=self._timeout, retry=self._retry
                )
            except Exception as exc:
                err = self._error(exc, key)
                if isinstance(err, PreconditionFailed | NotFound):
                    continue
                raise err from exc
            return data, self._info(key, blob)
        raise TransientStorageError("object kept changing while it was read", uri=self.url(key))

    def open(self, key: str) -> BinaryIO:
        blob = self._get_blob(key)  # pins the generation: later chunks read the same bytes
        if blob is None:
            raise NotFound("no such object", uri=self.url(key))
        try:
            reader = blob.open("rb", chunk_size=_CHUNK, timeout=self._timeout, retry=self._retry)
        except Exception as exc:
            raise self._error(exc, key) from exc
        return buffered(MappedReader(reader.read, reader.close, lambda e: self._error(e, key)))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        full = self._root.list_prefix(prefix)
        try:
            blobs = self.client.list_blobs(
                self.bucket, prefix=full or None, timeout=self._timeout, retry=self._retry
            )
            for blob in blobs:
                yield self._info(self._root.key(blob.name), blob)
        except Exception as exc:
            err = self._error(exc, None)
            if isinstance(err, NotFound):
                raise self._no_bucket() from exc
            raise err from exc

    # -- writes -------------------------------------------------------------------------

    def _upload(
        self,
        key: str,
        data: bytes | BinaryIO,
        generation: int | None,
        conflict: type[PreconditionFailed] = PreconditionFailed,
    ) -> ObjectInfo:
        name = self._root.name(key)
        blob = self._bucket.blob(name)
        try:
            if isinstance(data, bytes):
                blob.upload_from_string(
                    data,
                    if_generation_match=generation,
                    timeout=self._timeout,
                    retry=self._retry,
                )
            else:
                blob.chunk_size = _CHUNK  # resumable upload, 8 MiB at a time
                blob.upload_from_file(Rewindable(data), timeout=self._timeout, retry=self._retry)
        except Exception as exc:
            err = self._error(exc, key, conflict)
            if isinstance(err, NotFound):
                self._check_bucket()  # raises when the bucket is missing
                if generation is not None:  # replace of an object that is gone
                    raise PreconditionFailed(
                        "object no longer exists, cannot replace it", uri=self.url(key)
                    ) from exc
            raise err from exc
        return self._info(key, blob)

    def write(self, key: str, data: bytes) -> ObjectInfo:
        return self._upload(key, bytes(data), None)

    def create(self, key: str, data: bytes) -> ObjectInfo:
        return self._upload(key, bytes(data), 0, AlreadyExists)

    def replace(self, key: str, data: bytes, etag: str) -> ObjectInfo:
        self._root.name(key)
        try:
            generation = int(etag)
        except (TypeError, ValueError):
            raise PreconditionFailed(
                f"etag {etag!r} is not a GCS generation (it must come from this storage)",
                uri=self.url(key),
            ) from None
        if generation <= 0:
            raise PreconditionFailed(f"etag {etag!r} is not a GCS generation", uri=self.url(key))
        return self._upload(key, bytes(data), generation)

    def upload(self, key: str, source: BinaryIO) -> ObjectInfo:
        return self._upload(key, source, None)

    def delete(self, key: str) -> None:
        name = self._root.name(key)
        try:
            self._bucket.delete_blob(name, timeout=self._timeout, retry=self._retry)
        except Exception as exc:
            err = self._error(exc, key)
            if not isinstance(err, NotFound):
                raise err from exc
            self._check_bucket()
