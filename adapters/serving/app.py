"""The prediction service: ``create_app`` assembles the FastAPI application from its routers.

Cloud-neutral: every platform adapter (mangum, Azure's ``AsgiFunctionApp``,
functions-framework, uvicorn) wraps the app this factory returns. The routes live in
:mod:`.routes` (one module per protocol); what they share -- the API-key and model-bundle
dependencies, JSON answers, the error renderer -- in :mod:`._service`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from hookline.adapters.serving._loader import ModelHolder
from hookline.adapters.serving._openapi import install_openapi
from hookline.adapters.serving._predlog import PredictionLog
from hookline.adapters.serving._service import Service, authorised, json_response, render_error
from hookline.adapters.serving._settings import ServingSettings
from hookline.adapters.serving.routes import info, mlflow, predict, v2
from hookline.adapters.web import errors
from hookline.adapters.web.keys import ApiKeys, keys_from_env, read_secret_text
from hookline.config import Config
from hookline.project import Project
from hookline.registry import open_registry
from hookline.storage import Storage
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["create_app"]

log = logging.getLogger("hookline.serving")


def create_app(
    config: Config | str | None = None,
    *,
    project: Project | None = None,
    bundle_dir: str | os.PathLike[str] | None = None,
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

    :param config: a :class:`Config`, or a path or URI of ``hookline.toml``; by default
        the one :func:`hookline.config.find_config` finds.
    :param project: an open project (instead of ``config``).
    :param bundle_dir: the folder of a deployed entry file, whose bundled
        ``hookline.toml`` is used when ``$HOOKLINE_CONFIG`` is not set.
    :param storage: the storage root holding the registry (default: the config's).
    :param environ: where API keys are read from (default: ``os.environ``).
    :param api_keys: API keys to use instead of reading the environment.
    :param holder: a prepared :class:`ModelHolder` (tests).
    :param log_storage: where prediction logs go (default: ``prediction_log.storage``, else
        the registry's storage root).
    :raises ConfigError: the configuration is invalid or names no model.
    """
    project = project or Project.open(config, bundle_dir=bundle_dir, storage=storage)
    settings = ServingSettings.from_config(project.config)
    if holder is None:
        # the project's trust list and signing key; a signing key held in a cloud secret is
        # read with the adapters' secret reader (the core has none)
        registry = open_registry(
            project.storage,
            project.config.registry,
            environ=environ,
            secret_reader=read_secret_text,
        )
        holder = ModelHolder(registry, settings.model, settings.alias, settings.reload_seconds)
    keys = api_keys if api_keys is not None else keys_from_env(settings.api_keys_env, environ)
    predlog = _prediction_log(project, settings, log_storage)
    roots = errors.roots_of(project.storage.uri)
    if predlog is not None:
        roots += errors.roots_of(predlog.storage.uri)
    svc = Service(settings, holder, keys, predlog, roots)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Under a server (uvicorn, Azure): start loading now so the first request is fast.
        asyncio.get_running_loop().run_in_executor(None, _load_quietly, holder)
        yield
        if predlog is not None:
            await run_in_threadpool(predlog.drain)

    app = FastAPI(
        title=f"hookline: {settings.model}",
        description=f"Predictions from the {settings.alias!r} version of model "
        f"{settings.model!r}, served by hookline.",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.service = svc
    app.state.settings = settings
    app.state.holder = holder
    app.state.api_keys = keys
    app.state.prediction_log = predlog
    for module in (predict, info, mlflow, v2):
        app.include_router(module.router)
    if settings.docs:
        app.include_router(_docs_router(public=settings.docs_public or not keys.enabled))
    errors.install(app, render_error)
    install_openapi(app, holder, keys.enabled)
    return app


def _prediction_log(
    project: Project, settings: ServingSettings, log_storage: Storage | None
) -> PredictionLog | None:
    if settings.prediction_log is None:
        return None
    target = log_storage or (
        project.open_root(settings.prediction_log.storage)
        if settings.prediction_log.storage
        else project.storage
    )
    predlog = PredictionLog(target, settings.model, settings.prediction_log)
    import atexit

    atexit.register(predlog.flush)
    return predlog


def _docs_router(*, public: bool) -> APIRouter:
    """``/openapi.json`` and ``/docs``: behind the prediction keys unless ``public``."""
    router = APIRouter(dependencies=[] if public else [Depends(authorised)])

    @router.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> Response:
        return json_response(200, request.app.openapi())

    @router.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> Response:
        from fastapi.openapi.docs import get_swagger_ui_html

        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(openapi_url=f"{root}/openapi.json", title=request.app.title)

    return router


def _load_quietly(holder: ModelHolder) -> None:
    try:
        holder.load()
    except Exception as exc:
        log.info("model not loaded at start-up: %s", exc)
