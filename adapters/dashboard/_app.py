"""The dashboard's FastAPI application: server-rendered pages over one storage root.

Pages are plain HTML from Jinja2 templates shipped in this package, with inline CSS and
server-side SVG charts; no JavaScript and no external asset, so the strict Content Security
Policy below holds. Actions (approve, promote, roll back) are POSTed forms, checked for a
logged-in operator and a CSRF token, and recorded in the alias history with the operator.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from hookline.adapters.dashboard import _views
from hookline.adapters.dashboard._auth import COOKIE, SESSION_SECONDS, Auth, Session, load_keys
from hookline.config import Config
from hookline.errors import HooklineError, NotFound, PreconditionFailed, UsageError
from hookline.jsonio import jsonable
from hookline.registry import Registry
from hookline.runs import FINAL, RunStore
from hookline.storage import Storage, open_storage
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

__all__ = ["create_app"]

PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Stored reports: no script can run (sandbox without allow-scripts, default-src 'none') and no
# form can post; allow-same-origin only keeps the session cookie on their relative links.
REPORT_CSP = (
    "sandbox allow-same-origin; default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
OPEN_PATHS = ("/login", "/healthz")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_DONE = {"approve": "approved", "promote": "promoted", "rollback": "rolled back"}


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("hookline.adapters.dashboard", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["svg"] = Markup  # charts are built with every text escaped (see _charts)
    env.filters["short"] = lambda s, n=12: (str(s)[:n] + "…") if s and len(str(s)) > n else s
    env.filters["basename"] = lambda s: str(s).rsplit("/", 1)[-1] if s else ""
    return env


def _num(value: Any) -> str:
    if isinstance(value, dict):
        return " · ".join(f"{k} {_num(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(_num(v) for v in value) or "none"
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def create_app(
    storage: Storage | str,
    *,
    config: Config | None = None,
    auth: Auth | None = None,
    page_size: int | None = None,
) -> FastAPI:
    """Build the dashboard over one storage root.

    :param storage: the storage root, or its URI (any scheme hookline can open).
    :param config: the project configuration, for filter choices, the page size and the
        name of the API-key variable (``[serving] api_keys_env``); optional.
    :param auth: the operator authentication; by default the keys in the serving key
        variable, with actions disabled when there is none.
    :param page_size: runs per page (default ``[ui] page_size``, else 50).
    :returns: a FastAPI application; serve it with any ASGI server.
    """
    store_root = open_storage(storage) if isinstance(storage, str) else storage
    if auth is None:
        env_name = config.section("serving").get("api_keys_env") if config else None
        auth = Auth(load_keys(env_name or "HOOKLINE_API_KEYS"))
    trusted = config.registry["trusted_types"] if config else ()
    registry = Registry(store_root, trusted_types=trusted)
    runs = RunStore(store_root)
    size = page_size or (int(config.section("ui").get("page_size") or 50) if config else 50)
    jinja = _templates()
    project = config.name if config else "hookline"
    pipelines = sorted(config.pipelines) if config else []
    models = sorted({p.model for p in config.pipelines.values()}) if config else []

    app = FastAPI(title="hookline dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.auth = auth
    app.state.storage = store_root

    def render(request: Request, name: str, code: int = 200, **ctx: Any) -> HTMLResponse:
        session: Session = request.state.session
        body = jinja.get_template(name).render(
            project=project,
            storage_uri=store_root.uri,
            session=session,
            operator=session.operator,
            auth=auth,
            path=request.url.path,
            logged_in=auth.required and auth.authenticated(session),
            **ctx,
        )
        return HTMLResponse(body, status_code=code)

    def error_page(
        request: Request, status: int, message: str, hint: str | None = None
    ) -> HTMLResponse:
        return render(request, "error.html.j2", status, status=status, message=message, hint=hint)

    @app.middleware("http")
    async def sessions(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        session = auth.load(request.cookies.get(COOKIE))
        request.state.session = session
        open_path = request.url.path in OPEN_PATHS
        if not open_path and not auth.authenticated(session):
            if request.method == "GET":
                response: Response = render(
                    request,
                    "login.html.j2",
                    401,
                    next=_safe_next(str(request.url.path)),
                    failed=False,
                )
            else:
                response = error_page(
                    request,
                    401,
                    "log in with an API key first",
                    "open /login; keys come from HOOKLINE_API_KEYS",
                )
        else:
            response = await call_next(request)
        final: Session = request.state.session
        if final.new:
            response.set_cookie(
                COOKIE,
                auth.dump(final),
                max_age=SESSION_SECONDS,
                httponly=True,
                samesite="strict",
                path="/",
                secure=_https(request),
            )
        if request.url.path.endswith("/report.html") or request.url.path.endswith("/index.html"):
            response.headers["Content-Security-Policy"] = REPORT_CSP
        else:
            response.headers["Content-Security-Policy"] = PAGE_CSP
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(HooklineError)
    def hookline_error(request: Request, exc: HooklineError) -> HTMLResponse:
        status = (
            404
            if isinstance(exc, NotFound)
            else 409
            if isinstance(exc, PreconditionFailed)
            else 400
            if isinstance(exc, UsageError)
            else 500
        )
        return error_page(request, status, exc.message, exc.hint)

    # -- session ----------------------------------------------------------------------------

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/runs") -> HTMLResponse:
        return render(request, "login.html.j2", next=_safe_next(next), failed=False)

    @app.post("/login", response_class=HTMLResponse)
    def login(
        request: Request,
        key: str = Form(""),
        operator: str = Form(""),
        csrf: str = Form(""),
        next: str = Form("/runs"),
    ) -> Response:
        session: Session = request.state.session
        if not _same_origin(request) or not auth.csrf_ok(session, csrf):
            return error_page(
                request,
                403,
                "the form's CSRF token is missing or invalid",
                "reload the login page and try again",
            )
        if not auth.required:
            return RedirectResponse(_safe_next(next), 303)
        fresh = auth.login(session, key, operator)
        if fresh is None:
            return render(request, "login.html.j2", 401, next=_safe_next(next), failed=True)
        request.state.session = fresh
        return RedirectResponse(_safe_next(next), 303)

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        if not _same_origin(request) or not auth.csrf_ok(request.state.session, csrf):
            return error_page(request, 403, "the form's CSRF token is missing or invalid")
        request.state.session = auth.new_session()
        return RedirectResponse("/login", 303)

    # -- runs -------------------------------------------------------------------------------

    @app.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/runs", 303)

    @app.get("/runs", response_class=HTMLResponse)
    def runs_list(
        request: Request,
        pipeline: str = "",
        status: str = "",
        model: str = "",
        since: str = "",
        until: str = "",
        after: str = "",
    ) -> HTMLResponse:
        filters = {
            "pipeline": pipeline,
            "status": status if status in FINAL else "",
            "model": model,
            "since": since,
            "until": until,
        }
        page = _views.runs_page(runs, limit=size, cursor=after or None, filters=filters)
        active = {k: v for k, v in filters.items() if v}
        next_url = (
            f"/runs?{urlencode({**active, 'after': page['next_cursor']})}"
            if page["next_cursor"]
            else None
        )
        return render(
            request,
            "runs.html.j2",
            page=page,
            filters=filters,
            next_url=next_url,
            first_url=f"/runs?{urlencode(active)}" if after else None,
            pipelines=pipelines,
            models=models,
            statuses=FINAL,
            page_size=size,
        )

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(request: Request, run_id: str) -> HTMLResponse:
        return render(request, "run.html.j2", **_views.run_detail(runs, run_id))

    @app.get("/runs/{run_id}/record.json")
    def run_json(run_id: str) -> JSONResponse:
        record = runs.get(run_id)
        return JSONResponse(jsonable(record))

    @app.get("/runs/{run_id}/report.html")
    def run_report(run_id: str) -> Response:
        runs.get(run_id)  # 404 for an unknown run, before touching any key
        return _stored_html(store_root, f"runs/{run_id}/report.html")

    @app.get("/registry/{model}/index.html")
    def model_index(model: str) -> Response:
        return _stored_html(store_root, f"registry/{_model_name(model)}/index.html")

    # -- models -----------------------------------------------------------------------------

    @app.get("/models", response_class=HTMLResponse)
    def models_page(request: Request) -> HTMLResponse:
        return render(request, "models.html.j2", models=_views.models_overview(registry))

    @app.get("/models/{model}", response_class=HTMLResponse)
    def model_page(
        request: Request, model: str, done: str = "", alias: str = "", v: str = ""
    ) -> HTMLResponse:
        detail = _views.model_detail(registry, runs, _model_name(model))
        notice = None
        if done in _DONE and _NAME.match(alias or "-") and (v.isdigit() or v == "none"):
            notice = f"{alias} {_DONE[done]}: now v{v}"
        return render(request, "model.html.j2", notice=notice, **detail)

    def act(request: Request, model: str, csrf: str, move: Callable[[str], Any]) -> Response:
        session: Session = request.state.session
        by = auth.actor(session)
        if by is None:
            return error_page(
                request,
                403,
                "actions are disabled: no API key is configured",
                "set HOOKLINE_API_KEYS (comma separated) where the dashboard "
                "runs, or start `hookline ui` on 127.0.0.1 for local actions",
            )
        if not _same_origin(request) or not auth.csrf_ok(session, csrf):
            return error_page(
                request,
                403,
                "the form's CSRF token is missing or invalid",
                "reload the page and submit the form again",
            )
        state = move(by)
        query = urlencode(
            {
                "done": request.url.path.rsplit("/", 1)[-1],
                "alias": state.alias,
                "v": state.version if state.version is not None else "none",
            }
        )
        return RedirectResponse(f"/models/{model}?{query}", 303)

    @app.post("/models/{model}/approve")
    def approve(
        request: Request,
        model: str,
        version: str = Form(""),
        alias: str = Form("production"),
        reason: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        name, number = _model_name(model), _version(version)
        return act(
            request,
            name,
            csrf,
            lambda by: registry.approve(name, number, alias=alias, by=by, reason=reason[:500]),
        )

    @app.post("/models/{model}/promote")
    def promote(
        request: Request,
        model: str,
        version: str = Form(""),
        alias: str = Form("production"),
        expected: str = Form(""),
        reason: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        name, number = _model_name(model), _version(version)
        return act(
            request,
            name,
            csrf,
            lambda by: registry.move_alias(
                name,
                alias,
                number,
                action="promote",
                by=by,
                reason=reason[:500],
                expected=_expected(expected),
            ),
        )

    @app.post("/models/{model}/rollback")
    def rollback(
        request: Request,
        model: str,
        alias: str = Form("production"),
        expected: str = Form(""),
        reason: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        name = _model_name(model)

        def move(by: str) -> Any:
            current = registry.alias(name, alias)
            seen = _expected(expected)
            if current is not None and seen != "any" and current.version != seen:
                raise PreconditionFailed(
                    f"alias {alias!r} of {name!r} moved to v{current.version} since the page "
                    f"was loaded (it showed v{seen})",
                    uri=registry.storage.url(f"registry/{name}/aliases/{alias}.json"),
                )
            return registry.rollback(name, alias, by=by, reason=reason[:500])

        return act(request, name, csrf, move)

    # -- monitoring -------------------------------------------------------------------------

    @app.get("/monitoring", response_class=HTMLResponse)
    def monitoring_page(request: Request) -> HTMLResponse:
        return render(
            request, "monitoring.html.j2", models=_views.monitoring_models(store_root, registry)
        )

    @app.get("/monitoring/{model}", response_class=HTMLResponse)
    def drift_page(request: Request, model: str) -> HTMLResponse:
        detail = _views.monitoring_detail(store_root, registry, _model_name(model))
        return render(request, "drift.html.j2", **detail)

    return app


def _model_name(value: str) -> str:
    if not _NAME.match(value):
        raise NotFound(f"no model {value!r}", hint="model names use letters, digits, . _ -")
    return value


def _version(value: str) -> int:
    if not value.strip().isdigit():
        raise UsageError(f"invalid version {value!r}: expected a version number")
    return int(value)


def _expected(value: str) -> int | str | None:
    """The alias version the page showed: a number, ``none`` (unset) or ``any``."""
    value = value.strip()
    if value.isdigit():
        return int(value)
    return None if value == "none" else "any"


def _safe_next(value: str) -> str:
    """A local path to go back to after logging in (never another site)."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/runs"
    return value if value not in OPEN_PATHS else "/runs"


def _https(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip() == "https"


def _same_origin(request: Request) -> bool:
    """Refuse a POST whose ``Origin`` (when the browser sends one) is another site."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    return urlsplit(origin).netloc == host


def _stored_html(storage: Storage, key: str) -> Response:
    try:
        body = storage.read(key)
    except NotFound:
        raise NotFound(
            "no static report here yet: the `reports` plugin writes it after each run",
            uri=storage.url(key),
        ) from None
    return Response(body, media_type="text/html; charset=utf-8")
