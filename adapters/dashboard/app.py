"""The dashboard: ``create_app`` assembles server-rendered pages over one project's storage.

The pages live in :mod:`.routes` (one module per page family); what they share -- the
templates, the page and error renderer, form checks -- in :mod:`._pages`; sessions and
security headers in :mod:`._session`. Actions (approve, promote, roll back) are POSTed
forms, checked for an operator logged in with an administration key and a CSRF token, and
recorded in the alias history with the operator.
"""

from __future__ import annotations

from fastapi import FastAPI
from hookline.adapters.dashboard._auth import Auth
from hookline.adapters.dashboard._pages import Dashboard, templates
from hookline.adapters.dashboard._session import sessions
from hookline.adapters.dashboard.routes import models, monitoring, runs, session
from hookline.adapters.web import errors
from hookline.config import Config
from hookline.project import Project
from hookline.storage import Storage

__all__ = ["create_app"]


def create_app(
    storage: Project | Storage | str | None = None,
    *,
    config: Config | str | None = None,
    auth: Auth | None = None,
    page_size: int | None = None,
) -> FastAPI:
    """Build the dashboard over one project (or just a storage root).

    :param storage: an open :class:`Project`, or a storage root (open, or its URI) whose
        ``hookline.toml`` is optional; ``None``: the project :func:`find_config` finds.
    :param config: the project configuration (a :class:`Config` or a path), for filter
        choices, the page size and the name of the API-key variable; optional.
    :param auth: the operator authentication; by default the prediction and administration
        keys from the environment, with actions disabled when there is none.
    :param page_size: runs per page (default ``[ui] page_size``, else 50).
    :returns: a FastAPI application; serve it with any ASGI server.
    """
    if isinstance(storage, Project):
        project = storage
    else:
        project = Project.open(config, storage=storage, require_config=storage is None)
    cfg = project.config
    if auth is None:
        env_name = cfg.section("serving").get("api_keys_env") or "HOOKLINE_API_KEYS"
        auth = Auth.from_env(env_name)
    dash = Dashboard(
        project=project,
        auth=auth,
        jinja=templates(),
        page_size=page_size or int(cfg.section("ui").get("page_size") or 50),
        name=cfg.name or "hookline",
        pipelines=tuple(sorted(cfg.pipelines)),
        models=tuple(sorted({p.model for p in cfg.pipelines.values()})),
    )
    app = FastAPI(title="hookline dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.dashboard = dash
    app.state.auth = auth
    app.state.storage = project.storage
    for module in (session, runs, models, monitoring):
        app.include_router(module.router)
    app.middleware("http")(sessions)
    errors.install(app, dash.render_error)
    return app
