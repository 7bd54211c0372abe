"""The /predict request and its answers: parsing and validating the body, the ``proba``
flag, and the JSON error responses (422 naming the field, 413 stating the limit)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hookline.adapters.serving._loader import ModelBundle
from hookline.adapters.serving._schema import RecordError, errors_of
from pydantic import ValidationError
from starlette.responses import Response

__all__ = ["Reject", "error", "json_response", "parse_records", "proba_flag", "too_large"]

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class Reject(Exception):
    """An early answer from the request path."""

    def __init__(self, response: Response) -> None:
        self.response = response


def json_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    try:
        data = json.dumps(body, separators=(",", ":"), allow_nan=False)
    except ValueError:  # NaN or infinity in a prediction: JSON has no such numbers
        data = json.dumps(_nan_to_none(body), separators=(",", ":"))
    return Response(data, status, headers, media_type="application/json")


def _nan_to_none(value: Any) -> Any:
    if (isinstance(value, float) and value != value) or value in (float("inf"), float("-inf")):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_none(v) for v in value]
    return value


def error(
    status: int, detail: str, hint: str | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"detail": detail}
    if hint:
        body["hint"] = hint
    return json_response(status, body, headers)


def _invalid(errors: list[RecordError]) -> Response:
    shown = errors[:50]
    message = "; ".join(e.sentence() for e in shown[:5])
    if len(errors) > 5:
        message += f"; and {len(errors) - 5} more"
    return json_response(422, {"detail": [e.to_dict() for e in shown], "message": message})


def _no_nan(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def parse_records(
    body: bytes, bundle: ModelBundle, max_batch: int
) -> tuple[list[Any], bool | None, bool]:
    """Parse and validate a /predict body.

    :returns: (validated records, the body's ``proba`` flag or ``None``, whether the body
        was a batch).
    :raises Reject: malformed JSON, a body of the wrong shape, invalid records (422), or a
        batch over the limit (413).
    """
    try:
        doc = json.loads(body, parse_constant=_no_nan)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Reject(
            _invalid([RecordError(("body",), f"malformed JSON: {exc}", "json_invalid")])
        ) from None
    proba: bool | None = None
    if (
        isinstance(doc, dict)
        and "records" in doc
        and set(doc) <= {"records", "proba"}
        and "records" not in bundle.schema.names
    ):
        if "proba" in doc:
            if not isinstance(doc["proba"], bool):
                raise Reject(
                    _invalid(
                        [
                            RecordError(
                                ("body", "proba"), "Input should be true or false", "bool_type"
                            )
                        ]
                    )
                )
            proba = doc["proba"]
        doc = doc["records"]
        if not isinstance(doc, list):
            raise Reject(
                _invalid(
                    [
                        RecordError(
                            ("body", "records"), "Input should be a list of records", "list_type"
                        )
                    ]
                )
            )
    batch = isinstance(doc, list)
    if batch:
        if len(doc) > max_batch:
            raise Reject(
                error(
                    413,
                    f"batch of {len(doc)} records is over the limit of {max_batch} records "
                    "per request (serving.max_batch)",
                    hint="split the batch into several requests",
                )
            )
        if not doc:
            raise Reject(
                _invalid([RecordError(("body",), "the batch holds no record", "too_short")])
            )
        try:
            records = bundle.batch_adapter.validate_python(doc)
        except ValidationError as exc:
            raise Reject(_invalid(errors_of(exc, ("body",)))) from None
    elif isinstance(doc, dict):
        try:
            records = [bundle.record_model.model_validate(doc)]
        except ValidationError as exc:
            raise Reject(_invalid(errors_of(exc, ("body",)))) from None
    else:
        raise Reject(
            _invalid(
                [
                    RecordError(
                        ("body",),
                        "expected a record (JSON object), a list of records, or "
                        '{"records": [...], "proba": true}',
                        "model_type",
                    )
                ]
            )
        )
    return records, proba, batch


def too_large(size: int, limit: int) -> Response:
    return error(
        413,
        f"request body of {size} bytes is over the limit of {limit} bytes (serving.max_body_bytes)",
        hint="send fewer records per request, or raise serving.max_body_bytes",
    )


def proba_flag(query: str | None, body: bool | None, bundle: ModelBundle) -> bool:
    proba = bool(body)
    if query is not None:
        value = query.strip().lower()
        if value in _TRUE:
            proba = True
        elif value not in _FALSE:
            raise Reject(
                _invalid(
                    [
                        RecordError(
                            ("query", "proba"), "Input should be true or false", "bool_parsing"
                        )
                    ]
                )
            )
    if proba and (bundle.classes is None or not hasattr(bundle.model, "predict_proba")):
        raise Reject(
            _invalid(
                [
                    RecordError(
                        ("query", "proba"),
                        f"probabilities are only available for classifiers; model "
                        f"{bundle.name!r} version {bundle.version} is a "
                        f"{bundle.task} model",
                        "proba_unavailable",
                    )
                ]
            )
        )
    return proba
