"""``az://container[/prefix]`` storage on Azure Blob Storage.

The account comes from the environment, never from code: ``AZURE_STORAGE_CONNECTION_STRING``
(Azurite, or a key-based connection string), else ``AZURE_STORAGE_ACCOUNT_URL``
(``https://ACCOUNT.blob.core.windows.net``) with ``DefaultAzureCredential`` from
azure-identity (managed identity, workload identity, ``az login``, ``AZURE_CLIENT_ID``...).

Conditional writes map to ETag conditions: *create* is ``upload_blob`` without
``overwrite`` (the service answers 409 ``BlobAlreadyExists``); *replace* is
``upload_blob(overwrite=True, etag=..., match_condition=IfNotModified)`` (412 when the
blob changed or is gone).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO

from hookline.adapters._storage import CloudRoot, MappedReader, buffered, quote_etag
from hookline.errors import (
    AlreadyExists,
    NotFound,
    PreconditionFailed,
    StorageError,
    TransientStorageError,
)
from hookline.storage import ObjectInfo

__all__ = ["AzureBlobStorage"]

_CHUNK = 4 * 1024 * 1024  # streamed-read chunk and single-shot upload limit
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_TRANSIENT_CODES = frozenset({"ServerBusy", "OperationTimedOut", "InternalError"})


class AzureBlobStorage:
    """A container, or a prefix inside one, on Azure Blob Storage.

    :param uri: ``az://container`` or ``az://container/prefix``.
    :param retries: retries per request for transient failures (azure-core retry policy).
    :param connection_timeout: seconds to wait for a connection.
    :param read_timeout: seconds to wait for data on an open connection.
    :raises StorageError: for a URI that is not ``az://container[/prefix]``.
    """

    def __init__(
        self,
        uri: str,
        *,
        retries: int = 3,
        connection_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        self._root = CloudRoot.parse(uri, "az", what="container")
        self.uri = self._root.uri
        self.container = self._root.bucket
        self._options: dict[str, Any] = {
            "retry_total": retries,
            "connection_timeout": connection_timeout,
            "read_timeout": read_timeout,
            "max_single_get_size": _CHUNK,
            "max_chunk_get_size": _CHUNK,
        }
        self._client: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AzureBlobStorage({self.uri!r})"

    @property
    def client(self) -> Any:
        """The ``ContainerClient`` for this root, built on first use (and only once)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        from azure.storage.blob import BlobServiceClient

        conn = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
        account_url = os.environ.get("AZURE_STORAGE_ACCOUNT_URL")
        try:
            if conn:
                service = BlobServiceClient.from_connection_string(conn, **self._options)
            elif account_url:
                from azure.identity import DefaultAzureCredential

                service = BlobServiceClient(
                    account_url, credential=DefaultAzureCredential(), **self._options
                )
            else:
                raise StorageError(
                    "no Azure storage account configured",
                    uri=self.uri,
                    hint="set AZURE_STORAGE_ACCOUNT_URL=https://ACCOUNT.blob.core.windows.net "
                    "(credentials from DefaultAzureCredential) or "
                    "AZURE_STORAGE_CONNECTION_STRING",
                )
        except StorageError:
            raise
        except ImportError:
            raise
        except Exception as exc:  # a malformed connection string or URL
            raise StorageError(
                f"cannot build the Azure Blob client: {exc}",
                uri=self.uri,
                hint="check AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_ACCOUNT_URL",
            ) from exc
        return service.get_container_client(self.container)

    def url(self, key: str) -> str:
        return self._root.url(key)

    def _blob(self, key: str) -> Any:
        name = self._root.name(key)  # validate the key before building any client
        return self.client.get_blob_client(name)

    # -- errors -------------------------------------------------------------------------

    def _error(
        self,
        exc: BaseException,
        key: str | None,
        conflict: type[PreconditionFailed] = PreconditionFailed,
    ) -> Exception:
        """Translate an azure-core / azure-storage-blob exception into hookline's."""
        from azure.core import exceptions as aex

        uri = self.url(key) if key is not None else self.uri
        if isinstance(exc, aex.ClientAuthenticationError):
            return StorageError(
                f"Azure refused the credentials: {exc.message}",
                uri=uri,
                hint="check AZURE_STORAGE_CONNECTION_STRING, or the identity that "
                "DefaultAzureCredential finds and its role on the container "
                "(Storage Blob Data Contributor)",
            )
        if isinstance(exc, aex.IncompleteReadError) or (
            isinstance(exc, aex.HttpResponseError) and not exc.status_code
        ):
            # a dropped stream, or any failure without an HTTP answer: worth a retry
            return TransientStorageError(
                f"the connection to Azure Blob Storage dropped mid-read: {exc}",
                uri=uri,
                hint="retrying may succeed",
            )
        if isinstance(exc, aex.HttpResponseError):
            status = int(exc.status_code or 0)
            raw_code = getattr(exc, "error_code", None) or ""
            code = str(getattr(raw_code, "value", raw_code))  # StorageErrorCode is an enum
            detail = f"Azure {status} {code}".rstrip() + f": {(exc.reason or '').strip()}"
            if code == "ContainerNotFound":
                return self._no_container()
            if status == 404:
                return NotFound("no such object", uri=uri)
            if status in (409, 412) and code not in _TRANSIENT_CODES:
                return conflict(detail, uri=uri)
            if status in _TRANSIENT_STATUS or code in _TRANSIENT_CODES:
                return TransientStorageError(
                    detail, uri=uri, hint="Azure Storage is throttling or unavailable"
                )
            return StorageError(detail, uri=uri)
        network = (
            aex.ServiceRequestError,
            aex.ServiceResponseError,
            ConnectionError,
            TimeoutError,
        )
        if isinstance(exc, network):
            return TransientStorageError(
                f"cannot reach Azure Blob Storage: {exc}",
                uri=uri,
                hint="check the network or the account URL; retrying may succeed",
            )
        if isinstance(exc, aex.AzureError):
            return StorageError(f"Azure client error: {exc}", uri=uri)
        if isinstance(exc, Exception):
            return exc
        return StorageError(str(exc), uri=uri)

    def _no_container(self) -> StorageError:
        return StorageError(
            f"the Azure container {self.container!r} does not exist",
            uri=self.uri,
            hint="create the container, or fix the storage URI in hookline.toml",
        )

    @staticmethod
    def _info(key: str, props: Any, size: int | None = None) -> ObjectInfo:
        modified = props.get("last_modified") if isinstance(props, dict) else props.last_modified
        etag = props.get("etag") if isinstance(props, dict) else props.etag
        if size is None:
            size = int(props.size)
        return ObjectInfo(
            key=key,
            size=size,
            etag=quote_etag(str(etag)),
            modified=modified.timestamp() if modified else 0.0,
            version=(props.get("version_id") if isinstance(props, dict) else props.version_id),
        )

    # -- reads --------------------------------------------------------------------------

    def stat(self, key: str) -> ObjectInfo | None:
        blob = self._blob(key)
        try:
            props = blob.get_blob_properties()
        except Exception as exc:
            err = self._error(exc, key)
            if isinstance(err, NotFound):
                return None
            raise err from exc
        return self._info(key, props)

    def _download(self, key: str) -> Any:
        try:
            return self._blob(key).download_blob()
        except Exception as exc:
            raise self._error(exc, key) from exc

    def read(self, key: str) -> bytes:
        return self.read_with_info(key)[0]

    def read_with_info(self, key: str) -> tuple[bytes, ObjectInfo]:
        # The SDK pins later chunks to the first chunk's ETag, so data and info agree.
        downloader = self._download(key)
        try:
            data = downloader.readall()
        except Exception as exc:
            raise self._error(exc, key) from exc
        return data, self._info(key, downloader.properties, size=len(data))

    def open(self, key: str) -> BinaryIO:
        downloader = self._download(key)
        return buffered(MappedReader(downloader.read, None, lambda e: self._error(e, key)))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        full = self._root.list_prefix(prefix)
        try:
            for props in self.client.list_blobs(name_starts_with=full or None):
                yield self._info(self._root.key(props.name), props)
        except Exception as exc:
            raise self._error(exc, None) from exc

    # -- writes -------------------------------------------------------------------------

    def _upload(
        self,
        key: str,
        data: bytes | BinaryIO,
        conflict: type[PreconditionFailed] = PreconditionFailed,
        **options: Any,
    ) -> ObjectInfo:
        blob = self._blob(key)
        try:
            result = blob.upload_blob(data, **options)
        except Exception as exc:
            err = self._error(exc, key, conflict)
            if isinstance(err, NotFound) and "etag" in options:
                raise PreconditionFailed(
                    "object no longer exists, cannot replace it", uri=self.url(key)
                ) from exc
            raise err from exc
        if isinstance(data, bytes):
            return self._info(key, result, size=len(data))
        info = self.stat(key)  # streamed: the service knows the size
        if info is None:
            raise NotFound("object vanished right after its upload", uri=self.url(key))
        return info

    def write(self, key: str, data: bytes) -> ObjectInfo:
        return self._upload(key, bytes(data), overwrite=True)

    def create(self, key: str, data: bytes) -> ObjectInfo:
        # Without overwrite the upload is create-only. Do not add etag="*" with
        # MatchConditions.IfMissing: the SDK raises a TypeError for that combination.
        return self._upload(key, bytes(data), AlreadyExists)

    def replace(self, key: str, data: bytes, etag: str) -> ObjectInfo:
        from azure.core import MatchConditions

        return self._upload(
            key,
            bytes(data),
            overwrite=True,
            etag=quote_etag(etag),
            match_condition=MatchConditions.IfNotModified,
        )

    def upload(self, key: str, source: BinaryIO) -> ObjectInfo:
        return self._upload(key, source, overwrite=True, max_concurrency=2)

    def delete(self, key: str) -> None:
        try:
            self._blob(key).delete_blob(delete_snapshots="include")
        except Exception as exc:
            err = self._error(exc, key)
            if not isinstance(err, NotFound):
                raise err from exc
