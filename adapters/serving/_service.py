"""What every route of the prediction service shares: the service's state, the
dependencies for the API key and the current model bundle, and how answers and errors are
written (pre-encoded JSON; errors through :func:`hookline.errors.answer`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hookline.adapters.serving._loader import ModelBundle, ModelHolder
from hookline.adapters.serving._predlog import PredictionLog
from hookline.adapters.serving._request import InvalidRecords
from hookline.adapters.serving._settings import ServingSettings
from hookline.adapters.web.errors import bounded, redact, request_id
from hookline.adapters.web.keys import ApiKeys
from hookline.errors import ErrorAnswer, HooklineError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "VERSION_HEADER",
    "Service",
    "authorised",
    "current_bundle",
    "json_response",
    "render_error",
    "service",
]

VERSION_HEADER = "X-Hookline-Model-Version"


@dataclass(frozen=True, slots=True)
class Service:
    """One served model: its settings, the holder of its current bundle, the prediction
    keys, and the prediction log (``None`` when off)."""

    settings: ServingSettings
    holder: ModelHolder
    keys: ApiKeys
    predlog: PredictionLog | None
    roots: tuple[str, ...] = ()
    """The storage roots' spellings, kept out of error answers."""


def service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


async def authorised(request: Request) -> None:
    """Dependency: the request carries a configured prediction key (when keys are set).
    A coroutine, so FastAPI runs it inline (a sync dependency costs a thread hop); a secret
    still to be read is read in a worker thread, once.

    :raises Unauthorized: 401; :raises KeysUnavailable: 503 (the secret cannot be read).
    """
    keys: ApiKeys = request.app.state.service.keys
    if keys.pending:
        await run_in_threadpool(keys.resolved)
    keys.check(request.headers)


async def current_bundle(request: Request) -> ModelBundle:
    """Dependency: the bundle that answers this request (loaded on first use).

    :raises ModelUnavailable: 503, nothing promoted or loading failed.
    """
    holder: ModelHolder = request.app.state.service.holder
    bundle = holder.get_nowait()
    if bundle is None:
        bundle = await run_in_threadpool(holder.load)
    request.state.bundle = bundle  # names the version in error answers too
    return bundle


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


_MLFLOW_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    404: "RESOURCE_DOES_NOT_EXIST",
    405: "BAD_REQUEST",
    413: "REQUEST_LIMIT_EXCEEDED",
    415: "BAD_REQUEST",
    422: "BAD_REQUEST",
    503: "TEMPORARILY_UNAVAILABLE",
}


def render_error(request: Request, exc: BaseException, ans: ErrorAnswer) -> Response:
    """The JSON answer to an error, in the shape of the protocol the route speaks:
    hookline's (``detail``, ``hint``), MLflow's (``error_code``, ``message``) on
    ``/invocations``, the Open Inference Protocol's (``error``) under ``/v2/``."""
    headers = dict(getattr(exc, "headers", None) or {})
    bundle = getattr(request.state, "bundle", None)
    if bundle is not None:
        headers[VERSION_HEADER] = bundle.version_header
    if isinstance(exc, HooklineError) and ans.expected:
        roots = request.app.state.service.roots
        message = bounded(redact(exc.message, roots)) or ""
        hint = bounded(redact(exc.hint, roots))
    else:
        message, hint = f"internal error (request {request_id(request)})", None
    path = request.url.path
    status = ans.status
    if path.endswith("/invocations"):
        status = 400 if status == 422 else status  # MLflow answers bad input with 400
        body: dict[str, Any] = {
            "error_code": _MLFLOW_CODES.get(status, "INTERNAL_ERROR"),
            "message": message + (f" (hint: {hint})" if hint else ""),
        }
    elif "/v2/" in path or path.endswith("/v2"):
        body = {"error": message + (f" (hint: {hint})" if hint else "")}
    elif isinstance(exc, InvalidRecords):
        body = {"detail": [e.to_dict() for e in exc.errors], "message": message}
    else:
        body = {"detail": message}
        if hint:
            body["hint"] = hint
    return json_response(status, body, headers)
