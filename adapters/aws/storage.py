"""``s3://bucket[/prefix]`` storage on Amazon S3 (or anything that speaks its API).

Credentials and endpoint come from boto3's standard chain: environment variables
(``AWS_ACCESS_KEY_ID``..., ``AWS_PROFILE``), config files, the Lambda/ECS/EC2 role; an
emulator or S3-compatible store is reached with ``AWS_ENDPOINT_URL`` or
``AWS_ENDPOINT_URL_S3``, which boto3 honours natively. Nothing is hard-coded.

Conditional writes map to S3's own primitives: *create* is ``PutObject`` with
``If-None-Match: *``; *replace* is ``PutObject`` with ``If-Match: <etag>``. Both answer
412 (or 409 while a competing conditional write is in flight) when they lose.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from hookline.adapters._storage import CloudRoot, MappedReader, buffered, quote_etag
from hookline.errors import (
    AlreadyExists,
    NotFound,
    PreconditionFailed,
    StorageError,
    TransientStorageError,
)
from hookline.storage import ObjectInfo

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["S3Storage"]

_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "InternalError",
        "ServiceUnavailable",
        "RequestLimitExceeded",
        "TooManyRequestsException",
    }
)
_CONFLICT_CODES = frozenset(
    {"PreconditionFailed", "ConditionalRequestConflict", "OperationAborted"}
)
_AUTH_CODES = frozenset(
    {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "AllAccessDisabled",
    }
)
_MULTIPART_THRESHOLD = 16 * 1024 * 1024
_CONFLICT_RETRIES = 3


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value is not None else 0.0


def _http_date(response: dict[str, Any]) -> float:
    """The server's ``Date`` header of a response (when the write happened), else now."""
    header = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        return parsedate_to_datetime(header).timestamp() if header else time.time()
    except (TypeError, ValueError):
        return time.time()


class S3Storage:
    """A bucket, or a prefix inside one, on S3.

    :param uri: ``s3://bucket`` or ``s3://bucket/prefix``.
    :param max_attempts: attempts per request, retries included (botocore standard mode).
    :param connect_timeout: seconds to wait for a connection.
    :param read_timeout: seconds to wait for data on an open connection.
    :raises StorageError: for a URI that is not ``s3://bucket[/prefix]``.
    """

    def __init__(
        self,
        uri: str,
        *,
        max_attempts: int = 4,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        self._root = CloudRoot.parse(uri, "s3")
        self.uri = self._root.uri
        self.bucket = self._root.bucket
        self._options = {
            "max_attempts": max_attempts,
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
        }
        self._client: Any = None
        self._lock = threading.Lock()
        self._bucket_checked = False

    def __repr__(self) -> str:
        return f"S3Storage({self.uri!r})"

    @property
    def client(self) -> Any:
        """The boto3 S3 client, built on first use (and only once) for this root."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    config = Config(
                        retries={
                            "mode": "standard",
                            "total_max_attempts": int(self._options["max_attempts"]),
                        },
                        connect_timeout=self._options["connect_timeout"],
                        read_timeout=self._options["read_timeout"],
                        max_pool_connections=32,
                    )
                    # A session per root: boto3's default session is not thread-safe.
                    self._client = boto3.session.Session().client("s3", config=config)
        return self._client

    def url(self, key: str) -> str:
        return self._root.url(key)

    # -- errors -------------------------------------------------------------------------

    def _error(
        self,
        exc: Exception,
        key: str | None,
        *,
        missing: str = "no such object",
        conflict: type[PreconditionFailed] = PreconditionFailed,
    ) -> Exception:
        """Translate a boto3/botocore exception into hookline's storage errors."""
        from botocore import exceptions as bex

        uri = self.url(key) if key is not None else self.uri
        if isinstance(exc, bex.ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code") or "")
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            detail = f"S3 {code or status}: {err.get('Message') or exc}"
            if code == "NoSuchBucket":
                return self._no_bucket()
            if code in ("NoSuchKey", "NotFound", "404") or status == 404:
                return NotFound(missing, uri=uri)
            if code in _CONFLICT_CODES or status in (409, 412):
                return conflict(detail, uri=uri)
            if code in _TRANSIENT_CODES or status in (429, 500, 502, 503, 504):
                return TransientStorageError(
                    detail, uri=uri, hint="S3 is throttling or unavailable; retry later"
                )
            if code in _AUTH_CODES or status in (401, 403):
                return StorageError(
                    detail,
                    uri=uri,
                    hint=(
                        "check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, the function's "
                        "role) and that its policy allows this action on the bucket"
                    ),
                )
            return StorageError(detail, uri=uri)
        if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
            return StorageError(
                f"no AWS credentials found ({exc})",
                uri=uri,
                hint=(
                    "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with a role"
                ),
            )
        if isinstance(
            exc,
            bex.ConnectionError
            | bex.ResponseStreamingError
            | bex.IncompleteReadError
            | bex.ReadTimeoutError
            | ConnectionError
            | TimeoutError,
        ):
            return TransientStorageError(
                f"cannot reach S3 at {self.client.meta.endpoint_url}: {exc}",
                uri=uri,
                hint="check the network or AWS_ENDPOINT_URL; retrying may succeed",
            )
        if isinstance(exc, bex.BotoCoreError):
            return StorageError(f"S3 client error: {exc}", uri=uri)
        return exc

    def _no_bucket(self) -> StorageError:
        return StorageError(
            f"the S3 bucket {self.bucket!r} does not exist",
            uri=self.uri,
            hint="create the bucket, or fix the storage URI in hookline.toml",
        )

    def _check_bucket(self) -> None:
        """After a bare 404 (HEAD has no error body), tell a missing bucket apart, once."""
        if self._bucket_checked:
            return
        from botocore import exceptions as bex

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except bex.ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404:
                raise self._no_bucket() from None
            raise self._error(exc, None) from exc
        except Exception as exc:
            raise self._error(exc, None) from exc
        self._bucket_checked = True

    def _info(self, key: str, head: dict[str, Any], size: int | None = None) -> ObjectInfo:
        if size is None:
            size = int(head.get("ContentLength", head.get("Size", 0)))
        return ObjectInfo(
            key=key,
            size=size,
            etag=quote_etag(str(head.get("ETag", ""))),
            modified=_ts(head.get("LastModified")),
            version=head.get("VersionId"),
        )

    # -- reads --------------------------------------------------------------------------

    def stat(self, key: str) -> ObjectInfo | None:
        name = self._root.name(key)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=name)
        except Exception as exc:
            err = self._error(exc, key)
            if isinstance(err, NotFound):
                self._check_bucket()
                return None
            raise err from exc
        return self._info(key, head)

    def _get(self, key: str) -> dict[str, Any]:
        name = self._root.name(key)
        try:
            return dict(self.client.get_object(Bucket=self.bucket, Key=name))
        except Exception as exc:
            raise self._error(exc, key) from exc

    def read(self, key: str) -> bytes:
        return self.read_with_info(key)[0]

    def read_with_info(self, key: str) -> tuple[bytes, ObjectInfo]:
        response = self._get(key)
        body = response["Body"]
        try:
            data = body.read()
        except Exception as exc:
            raise self._error(exc, key) from exc
        finally:
            body.close()
        return data, self._info(key, response, size=len(data))

    def open(self, key: str) -> BinaryIO:
        body = self._get(key)["Body"]
        return buffered(MappedReader(body.read, body.close, lambda e: self._error(e, key)))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        full = self._root.list_prefix(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                for item in page.get("Contents", ()):
                    yield self._info(self._root.key(item["Key"]), item)
        except Exception as exc:
            raise self._error(exc, None) from exc

    # -- writes -------------------------------------------------------------------------

    def _put(
        self,
        key: str,
        data: bytes,
        conflict: type[PreconditionFailed] = PreconditionFailed,
        **condition: str,
    ) -> ObjectInfo:
        from botocore.exceptions import ClientError

        name = self._root.name(key)
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                response = self.client.put_object(
                    Bucket=self.bucket, Key=name, Body=data, **condition
                )
                break
            except ClientError as exc:
                # 409: another conditional write on this key is in flight; S3 asks for a
                # retry, which then answers 200 or 412 for real.
                code = exc.response.get("Error", {}).get("Code")
                if code == "ConditionalRequestConflict" and attempt < _CONFLICT_RETRIES:
                    time.sleep(0.05 * 2**attempt)
                    continue
                raise self._error(exc, key, conflict=conflict) from exc
            except Exception as exc:
                raise self._error(exc, key, conflict=conflict) from exc
        return ObjectInfo(
            key=key,
            size=len(data),
            etag=quote_etag(str(response["ETag"])),
            modified=_http_date(response),
            version=response.get("VersionId"),
        )

    def write(self, key: str, data: bytes) -> ObjectInfo:
        return self._put(key, bytes(data))

    def create(self, key: str, data: bytes) -> ObjectInfo:
        return self._put(key, bytes(data), AlreadyExists, IfNoneMatch="*")

    def replace(self, key: str, data: bytes, etag: str) -> ObjectInfo:
        try:
            return self._put(key, bytes(data), IfMatch=quote_etag(etag))
        except NotFound as exc:
            raise PreconditionFailed(
                "object no longer exists, cannot replace it", uri=self.url(key)
            ) from exc

    def upload(self, key: str, source: BinaryIO) -> ObjectInfo:
        from boto3.s3.transfer import TransferConfig

        name = self._root.name(key)
        config = TransferConfig(
            multipart_threshold=_MULTIPART_THRESHOLD,
            multipart_chunksize=_MULTIPART_THRESHOLD,
            max_concurrency=4,
        )
        try:
            self.client.upload_fileobj(source, self.bucket, name, Config=config)
        except Exception as exc:
            cause = getattr(exc, "__cause__", None) or exc  # S3UploadFailedError wraps it
            raise self._error(cause if isinstance(cause, Exception) else exc, key) from exc
        info = self.stat(key)
        if info is None:  # deleted by someone else in between
            raise NotFound("object vanished right after its upload", uri=self.url(key))
        return info

    def delete(self, key: str) -> None:
        name = self._root.name(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except Exception as exc:
            err = self._error(exc, key)
            if not isinstance(err, NotFound):  # a missing bucket is a StorageError
                raise err from exc
