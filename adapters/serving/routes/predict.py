"""``POST /predict``: one record or a batch, with class probabilities on request.

The hot path reads the body once with the size limit applied, parses it once, validates it
with the per-version pydantic model and answers with pre-encoded JSON; the OpenAPI
document still shows the real request schema (:mod:`.._openapi`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends
from hookline.adapters.serving._docs import PREDICT_RESPONSES
from hookline.adapters.serving._loader import ModelBundle
from hookline.adapters.serving._request import (
    media_type,
    parse_records,
    proba_flag,
    read_body,
)
from hookline.adapters.serving._service import (
    VERSION_HEADER,
    Service,
    authorised,
    current_bundle,
    json_response,
    service,
)
from hookline.adapters.web.errors import request_id
from hookline.errors import DataError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["THREADPOOL_ROWS", "router", "score"]

THREADPOOL_ROWS = 64
"""Batches larger than this are scored in a worker thread, so a server's event loop keeps
answering /health meanwhile; a single row is scored inline (cheaper than a thread hop)."""

router = APIRouter()


async def score(
    bundle: ModelBundle, rows: Sequence[Sequence[Any]], proba: bool
) -> tuple[list[Any], list[list[float]] | None]:
    """Predictions (and probabilities) for ``rows``; a model that cannot score them is a
    422 naming the version, never the values.

    :raises DataError: the model refused the input (an unseen category it does not
        accept, a value it cannot use).
    """
    try:
        if len(rows) > THREADPOOL_ROWS:
            return await run_in_threadpool(bundle.predict, rows, proba)
        return bundle.predict(rows, proba)
    except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
        raise DataError(
            f"model {bundle.name!r} version {bundle.version} could not score this input "
            f"({type(exc).__name__})",
            hint="check the values against the feature schema of GET /model",
        ) from exc


def log_predictions(
    svc: Service,
    request: Request,
    bundle: ModelBundle,
    rows: Sequence[Sequence[Any]],
    predictions: Sequence[Any],
) -> None:
    """Buffer the request for the prediction log when it is sampled (never raises)."""
    predlog = svc.predlog
    if predlog is not None and predlog.sampled():
        rid = request_id(request)
        rid = rid if rid != "-" else uuid.uuid4().hex
        predlog.record(bundle.version, bundle.schema.names, rows, predictions, rid)


@router.post(
    "/predict",
    summary="Predict for one record or a batch",
    openapi_extra={"x-hookline-request-body": True},
    responses=PREDICT_RESPONSES,
    dependencies=[Depends(authorised)],
)
async def predict(request: Request, bundle: ModelBundle = Depends(current_bundle)) -> Response:
    svc = service(request)
    media_type(request)
    body = await read_body(request, svc.settings.max_body_bytes)
    records, body_proba, _ = parse_records(body, bundle, svc.settings.max_batch)
    proba = proba_flag(request.query_params.get("proba"), body_proba, bundle)
    rows = bundle.rows(records)
    predictions, probabilities = await score(bundle, rows, proba)
    out: dict[str, Any] = {
        "model": bundle.name,
        "version": bundle.version,
        "alias": bundle.alias,
        "predictions": predictions,
    }
    if probabilities is not None:
        out["classes"] = bundle.classes
        out["probabilities"] = probabilities
    log_predictions(svc, request, bundle, rows, predictions)
    return json_response(200, out, {VERSION_HEADER: bundle.version_header})
