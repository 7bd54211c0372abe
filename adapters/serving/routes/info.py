"""``GET /health`` (liveness and readiness, always open) and ``GET /model`` (the served
version's metadata and feature schema)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from hookline.adapters.serving._docs import HEALTH_RESPONSES, MODEL_RESPONSES
from hookline.adapters.serving._loader import ModelBundle, ModelUnavailable
from hookline.adapters.serving._service import (
    VERSION_HEADER,
    authorised,
    current_bundle,
    json_response,
    service,
)
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["router"]

router = APIRouter()


@router.get(
    "/model",
    summary="The served model: version, metrics, lineage, features",
    responses=MODEL_RESPONSES,
    dependencies=[Depends(authorised)],
)
async def model_info(bundle: ModelBundle = Depends(current_bundle)) -> Response:
    m = bundle.manifest
    return json_response(
        200,
        {
            "model": bundle.name,
            "version": bundle.version,
            "alias": bundle.alias,
            "task": bundle.task,
            "target": m.get("target"),
            "classes": bundle.classes,
            "metrics": m.get("metrics", {}),
            "lineage": m.get("lineage", {}),
            "created_at": m.get("created_at"),
            "created_by": m.get("created_by"),
            "features": bundle.schema.to_list(),
            "uri": bundle.uri,
            "loaded_at": bundle.loaded_at,
        },
        {VERSION_HEADER: bundle.version_header},
    )


@router.get(
    "/health",
    summary="Liveness, and readiness: a verified model is loaded",
    responses=HEALTH_RESPONSES,
)
async def health(request: Request) -> Response:
    svc = service(request)
    holder = svc.holder
    bundle = holder.get_nowait()
    reason = None
    if bundle is None:
        try:
            bundle = await run_in_threadpool(holder.load)
        except ModelUnavailable as exc:
            reason = exc.message
    status = holder.status()
    if svc.keys.enabled:  # /health is open: keep storage URIs and errors for key holders
        status.pop("last_error")
        reason = reason and "no verified model is loaded; see GET /model or the logs"
    if bundle is None:
        return json_response(
            503,
            {"status": "unavailable", "live": True, "ready": False, "detail": reason, **status},
        )
    return json_response(
        200,
        {"status": "ok", "live": True, "ready": True, **status},
        {VERSION_HEADER: bundle.version_header},
    )
