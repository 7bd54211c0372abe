"""Reading a request: the body within its size limit, its media type, JSON within a nesting
limit, and the /predict body validated against the served version's record model.

Everything here raises hookline errors (:class:`InvalidRecords` 422, ``RequestTooLarge``
413, ``UnsupportedMediaType`` 415, :class:`TooDeep` 400), answered by the app's one error
handler; no submitted value is echoed back in a message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hookline.adapters.serving._loader import ModelBundle
from hookline.adapters.serving._schema import RecordError, errors_of
from hookline.errors import DataError, RequestTooLarge, UnsupportedMediaType, UsageError
from pydantic import ValidationError
from starlette.requests import Request

__all__ = [
    "MAX_DEPTH",
    "InvalidRecords",
    "TooDeep",
    "depth_over",
    "load_json",
    "media_type",
    "parse_records",
    "proba_flag",
    "read_body",
]

MAX_DEPTH = 32
"""The deepest JSON nesting any route reads; deeper is refused with 400."""
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class InvalidRecords(DataError):
    """Records that do not fit the served version's feature schema (HTTP 422); each error
    names the field (``loc``), never the value."""

    title = "invalid records"

    def __init__(self, errors: Sequence[RecordError]) -> None:
        shown = list(errors[:50])
        message = "; ".join(e.sentence() for e in shown[:5])
        if len(errors) > 5:
            message += f"; and {len(errors) - 5} more"
        super().__init__(message or "invalid records")
        self.errors = shown

    @classmethod
    def one(cls, loc: tuple[str | int, ...], msg: str, kind: str) -> InvalidRecords:
        return cls([RecordError(loc, msg, kind)])


class TooDeep(UsageError):
    """JSON nested deeper than :data:`MAX_DEPTH` (HTTP 400)."""

    title = "nested too deeply"


def media_type(request: Request, allowed: Sequence[str] = ("application/json",)) -> str:
    """The request's media type when it is one of ``allowed`` (no header: the first).

    :raises UnsupportedMediaType: any other type, or a charset other than UTF-8.
    """
    raw = request.headers.get("content-type")
    if raw is None or not raw.strip():
        return allowed[0]
    kind, _, params = raw.partition(";")
    kind = kind.strip().lower()
    charset = ""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    json_like = kind.endswith("+json") and "application/json" in allowed
    if (kind not in allowed and not json_like) or charset not in ("", "utf-8", "utf8"):
        raise UnsupportedMediaType(
            f"content type {kind[:60]!r} is not accepted here",
            hint=f"send {' or '.join(allowed)} (UTF-8)",
        )
    return "application/json" if json_like else kind


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read once with the size limit applied while reading.

    :raises RequestTooLarge: over ``limit`` bytes (declared or read).
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> RequestTooLarge:
    return RequestTooLarge(
        f"request body of {size} bytes is over the limit of {limit} bytes (serving.max_body_bytes)",
        hint="send fewer records per request, or raise serving.max_body_bytes",
    )


def _no_nan(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def load_json(body: bytes) -> Any:
    """Parse ``body`` as JSON (no NaN or infinities).

    :raises InvalidRecords: malformed JSON.
    :raises TooDeep: nesting too deep for the parser.
    """
    try:
        doc = json.loads(body, parse_constant=_no_nan)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError) as exc:
        line, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        where = f" at line {line} column {col}" if line is not None else ""
        raise InvalidRecords.one(("body",), f"malformed JSON{where}", "json_invalid") from None
    if isinstance(doc, dict | list) and depth_over(doc):
        raise _too_deep()
    return doc


def _too_deep() -> TooDeep:
    return TooDeep(
        f"the JSON body is nested more than {MAX_DEPTH} levels deep",
        hint="records are flat objects of feature values",
    )


def depth_over(doc: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``doc`` nests containers more than ``limit`` levels deep."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        items = value.values() if isinstance(value, dict) else value
        stack.extend((v, depth + 1) for v in items if isinstance(v, dict | list))
    return False


def validate_records(doc: Any, bundle: ModelBundle, loc: tuple[str | int, ...]) -> list[Any]:
    """A list of records (or one record) validated against the version's record model.

    :raises InvalidRecords: a record does not fit the schema.
    """
    try:
        if isinstance(doc, list):
            return list(bundle.batch_adapter.validate_python(doc))
        return [bundle.record_model.model_validate(doc)]
    except ValidationError as exc:
        raise InvalidRecords(errors_of(exc, loc)) from None


def check_batch(size: int, max_batch: int) -> None:
    """:raises RequestTooLarge: more records than ``serving.max_batch``.
    :raises InvalidRecords: no record at all."""
    if size > max_batch:
        raise RequestTooLarge(
            f"batch of {size} records is over the limit of {max_batch} records "
            "per request (serving.max_batch)",
            hint="split the batch into several requests",
        )
    if size == 0:
        raise InvalidRecords.one(("body",), "the batch holds no record", "too_short")


def parse_records(
    body: bytes, bundle: ModelBundle, max_batch: int
) -> tuple[list[Any], bool | None, bool]:
    """Parse and validate a /predict body: a record, a list of records, or
    ``{"records": [...], "proba": true}``.

    :returns: (validated records, the body's ``proba`` flag or ``None``, whether the body
        was a batch).
    """
    doc = load_json(body)
    proba: bool | None = None
    if (
        isinstance(doc, dict)
        and "records" in doc
        and set(doc) <= {"records", "proba"}
        and "records" not in bundle.schema.names
    ):
        if "proba" in doc:
            if not isinstance(doc["proba"], bool):
                raise InvalidRecords.one(
                    ("body", "proba"), "Input should be true or false", "bool_type"
                )
            proba = doc["proba"]
        doc = doc["records"]
        if not isinstance(doc, list):
            raise InvalidRecords.one(
                ("body", "records"), "Input should be a list of records", "list_type"
            )
    batch = isinstance(doc, list)
    if batch:
        check_batch(len(doc), max_batch)
    elif not isinstance(doc, dict):
        raise InvalidRecords.one(
            ("body",),
            'expected a record (JSON object), a list of records, or {"records": [...], '
            '"proba": true}',
            "model_type",
        )
    return validate_records(doc, bundle, ("body",)), proba, batch


def proba_flag(query: str | None, body: bool | None, bundle: ModelBundle) -> bool:
    """The ``proba`` flag from the query string (wins) or the body.

    :raises InvalidRecords: not a boolean, or probabilities of a model that has none.
    """
    proba = bool(body)
    if query is not None:
        value = query.strip().lower()
        if value in _TRUE:
            proba = True
        elif value not in _FALSE:
            raise InvalidRecords.one(
                ("query", "proba"), "Input should be true or false", "bool_parsing"
            )
    if proba and not bundle.has_proba:
        raise InvalidRecords.one(
            ("query", "proba"),
            f"probabilities are only available for classifiers; model {bundle.name!r} "
            f"version {bundle.version} is a {bundle.task} model",
            "proba_unavailable",
        )
    return proba
