"""The FastAPI application: ``POST /predict``, ``GET /health``, ``GET /model``.

Cloud-neutral: every platform adapter (mangum, Azure's ``AsgiFunctionApp``,
functions-framework, uvicorn) wraps the app this factory returns.

The ``/predict`` hot path is written against Starlette's ``Request`` directly rather than
through FastAPI's body parameters: the body is read once with the size limit applied while
reading, parsed once, validated with the cached per-version pydantic model, turned into the
model's input by a builder prepared at load time, and answered with pre-encoded JSON. The
OpenAPI document still shows the real request schema: it is generated from the loaded
version's feature schema (:mod:`._openapi`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from hookline.adapters.serving._auth import ApiKeys, AuthFailure, keys_from_env
from hookline.adapters.serving._http import (
    Reject,
    error,
    json_response,
    parse_records,
    proba_flag,
    too_large,
)
from hookline.adapters.serving._loader import ModelBundle, ModelHolder, ModelUnavailable
from hookline.adapters.serving._openapi import install_openapi
from hookline.adapters.serving._predlog import PredictionLog
from hookline.adapters.serving._secrets import read_secret_text
from hookline.adapters.serving._settings import ServingSettings
from hookline.config import Config, load_config
from hookline.registry import open_registry
from hookline.storage import Storage, open_storage
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["create_app"]

log = logging.getLogger("hookline.serving")

THREADPOOL_ROWS = 64
"""Batches larger than this are scored in a worker thread, so a server's event loop keeps
answering /health meanwhile; a single row is scored inline (cheaper than a thread hop)."""


def create_app(
    config: Config | str | None = None,
    *,
    storage: Storage | None = None,
    environ: Mapping[str, str] | None = None,
    api_keys: ApiKeys | None = None,
    holder: ModelHolder | None = None,
    log_storage: Storage | None = None,
) -> FastAPI:
    """Build the prediction service for the model and alias ``[serving]`` names.

    Nothing is loaded here: the model is loaded (and verified) on the first request that
    needs it, then cached; so this is cheap enough to call at import time on platforms that
    need the app object then (Azure Functions).

    :param config: a :class:`Config`, a path or URI of ``hookline.toml``, or ``None`` for
        ``$HOOKLINE_CONFIG`` / ``./hookline.toml``.
    :param storage: the storage root holding the registry (default: the config's).
    :param environ: where API keys are read from (default: ``os.environ``).
    :param api_keys: API keys to use instead of reading the environment.
    :param holder: a prepared :class:`ModelHolder` (tests).
    :param log_storage: where prediction logs go (default: ``prediction_log.storage``, else
        the registry's storage root).
    :raises ConfigError: the configuration is invalid or names no model.
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    settings = ServingSettings.from_config(cfg)
    storage = storage if storage is not None else open_storage(cfg.storage)
    if holder is None:
        registry = open_registry(
            storage,
            {**cfg.registry, "trusted_types": settings.trusted_types},
            environ=environ,
            secret_reader=read_secret_text,
        )
        holder = ModelHolder(registry, settings.model, settings.alias, settings.reload_seconds)
    keys = api_keys if api_keys is not None else keys_from_env(settings.api_keys_env, environ)
    predlog: PredictionLog | None = None
    if settings.prediction_log is not None:
        target = log_storage or (
            open_storage(settings.prediction_log.storage)
            if settings.prediction_log.storage
            else storage
        )
        predlog = PredictionLog(target, settings.model, settings.prediction_log)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Under a server (uvicorn, Azure): start loading now so the first request is fast.
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, _load_quietly, holder)
        yield
        if predlog is not None:
            await run_in_threadpool(predlog.drain)

    app = FastAPI(
        title=f"hookline: {settings.model}",
        description=f"Predictions from the {settings.alias!r} version of model "
        f"{settings.model!r}, served by hookline.",
        version="1",
        lifespan=lifespan,
        docs_url="/docs" if settings.docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
    )
    app.state.holder = holder
    app.state.settings = settings
    app.state.api_keys = keys
    app.state.prediction_log = predlog
    if predlog is not None:
        import atexit

        atexit.register(predlog.flush)
    max_body = settings.max_body_bytes
    max_batch = settings.max_batch

    async def current_bundle() -> ModelBundle:
        bundle = holder.get_nowait()
        if bundle is None:
            try:
                bundle = await run_in_threadpool(holder.load)
            except ModelUnavailable as exc:
                raise Reject(
                    error(
                        503,
                        exc.message,
                        exc.hint,
                        {"Retry-After": str(int(settings.reload_seconds) or 1)},
                    )
                ) from None
        return bundle

    def authorise(request: Request) -> None:
        try:
            keys.check(request.headers)
        except AuthFailure as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            raise Reject(error(exc.status, exc.message, exc.hint, headers)) from None

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            raise Reject(too_large(int(declared), max_body))
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise Reject(too_large(size, max_body))
            chunks.append(chunk)
        return b"".join(chunks)

    @app.post(
        "/predict",
        summary="Predict for one record or a batch",
        openapi_extra={"x-hookline-request-body": True},
        responses=_PREDICT_RESPONSES,
    )
    async def predict(request: Request) -> Response:
        bundle = None
        try:
            authorise(request)
            bundle = await current_bundle()
            body = await read_body(request)
            records, body_proba, _ = parse_records(body, bundle, max_batch)
            proba = proba_flag(request.query_params.get("proba"), body_proba, bundle)
            rows = bundle.rows(records)
            try:
                if len(rows) > THREADPOOL_ROWS:
                    predictions, probabilities = await run_in_threadpool(
                        bundle.predict, rows, proba
                    )
                else:
                    predictions, probabilities = bundle.predict(rows, proba)
            except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
                raise Reject(
                    error(
                        422,
                        f"model {bundle.name!r} version {bundle.version} could not score "
                        f"this input: {type(exc).__name__}: {exc}",
                    )
                ) from None
        except Reject as reject:
            if bundle is not None:
                reject.response.headers["X-Hookline-Model-Version"] = bundle.version_header
            return reject.response
        out: dict[str, Any] = {
            "model": bundle.name,
            "version": bundle.version,
            "alias": bundle.alias,
            "predictions": predictions,
        }
        if probabilities is not None:
            out["classes"] = bundle.classes
            out["probabilities"] = probabilities
        if predlog is not None and predlog.sampled():
            predlog.record(
                bundle.version,
                bundle.schema.names,
                rows,
                predictions,
                request.headers.get("x-request-id") or uuid.uuid4().hex,
            )
        return json_response(200, out, {"X-Hookline-Model-Version": bundle.version_header})

    @app.get(
        "/model",
        summary="The served model: version, metrics, lineage, features",
        responses=_MODEL_RESPONSES,
    )
    async def model_info(request: Request) -> Response:
        try:
            authorise(request)
            bundle = await current_bundle()
        except Reject as reject:
            return reject.response
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
            {"X-Hookline-Model-Version": bundle.version_header},
        )

    @app.get(
        "/health",
        summary="Liveness, and readiness: a verified model is loaded",
        responses=_HEALTH_RESPONSES,
    )
    async def health() -> Response:
        bundle = holder.get_nowait()
        reason = None
        if bundle is None:
            try:
                bundle = await run_in_threadpool(holder.load)
            except ModelUnavailable as exc:
                reason = exc.message
        status = holder.status()
        if keys.enabled:  # /health is open: keep storage URIs and errors for key holders
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
            {"X-Hookline-Model-Version": bundle.version_header},
        )

    install_openapi(app, holder, keys.enabled)
    return app


def _load_quietly(holder: ModelHolder) -> None:
    try:
        holder.load()
    except Exception as exc:
        log.info("model not loaded at start-up: %s", exc)


def _doc(description: str, example: Mapping[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": {"type": "object"}}}
    if example is not None:
        content["application/json"]["example"] = example
    return {"description": description, "content": content}


_AUTH: dict[int | str, dict[str, Any]] = {
    401: _doc(
        "missing or invalid API key (when keys are configured)", {"detail": "missing API key"}
    )
}
_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: _doc(
        "no verified model is loaded: nothing promoted yet, or loading failed",
        {"detail": "no model is promoted yet: ..."},
    )
}
_PREDICT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: _doc(
        "predictions, in request order, and the version that made them",
        {
            "model": "churn",
            "version": 3,
            "alias": "production",
            "predictions": [1],
            "classes": [0, 1],
            "probabilities": [[0.2, 0.8]],
        },
    ),
    **_AUTH,
    413: _doc("body or batch over the configured limit", {"detail": "... over the limit ..."}),
    422: _doc(
        "a record is invalid: wrong or unknown field, missing field, wrong type, "
        "unseen category; each error names the field",
        {
            "detail": [
                {
                    "loc": ["body", "plan"],
                    "msg": "Input should be 'basic' or 'pro'",
                    "type": "literal_error",
                }
            ],
            "message": "plan: ...",
        },
    ),
    **_UNAVAILABLE,
}
_MODEL_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: _doc("the served version's metadata and feature schema"),
    **_AUTH,
    **_UNAVAILABLE,
}
_HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: _doc("alive and ready"),
    503: _doc("alive, not ready: no verified model loaded"),
}
