"""What every dashboard page shares: the dashboard's state, the Jinja2 templates, the page
renderer and the error page (errors through :func:`hookline.errors.answer`), and the
checks forms and links pass through.

Pages are plain HTML from templates shipped in this package, with inline CSS and
server-side SVG charts; no JavaScript and no external asset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse
from hookline.adapters.dashboard._auth import Auth, Session
from hookline.adapters.web.errors import BadParameter, bounded, redact, request_id, roots_of
from hookline.errors import ErrorAnswer, HooklineError
from hookline.project import Project
from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "OPEN_PATHS",
    "Dashboard",
    "board",
    "https",
    "safe_next",
    "same_origin",
    "templates",
    "version_number",
]

OPEN_PATHS = ("/login", "/healthz")
_TITLES = {
    400: "Bad request",
    401: "Not logged in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    503: "Unavailable",
}


def templates() -> Environment:
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


@dataclass(frozen=True, slots=True, eq=False)
class Dashboard:
    """One dashboard: the project it shows, who may look and act, and how pages render."""

    project: Project
    auth: Auth
    jinja: Environment
    page_size: int
    name: str
    pipelines: tuple[str, ...]
    models: tuple[str, ...]

    def render(self, request: Request, name: str, code: int = 200, **ctx: Any) -> HTMLResponse:
        session: Session | None = getattr(request.state, "session", None)
        auth = self.auth
        shown = session is not None and auth.authenticated(session) and code < 400
        body = self.jinja.get_template(name).render(
            project=self.name,
            storage_uri=self.project.storage.uri if shown else "",
            session=session,
            operator=session.operator if session else None,
            auth=auth,
            can_act=session is not None and auth.actor(session) is not None,
            path=request.url.path,
            logged_in=session is not None and auth.required and auth.authenticated(session),
            **ctx,
        )
        return HTMLResponse(body, status_code=code)

    def error_page(
        self, request: Request, status: int, message: str, hint: str | None = None
    ) -> HTMLResponse:
        return self.render(
            request,
            "error.html.j2",
            status,
            status=status,
            title=_TITLES.get(status, "Error"),
            message=message,
            hint=hint,
        )

    def render_error(self, request: Request, exc: BaseException, ans: ErrorAnswer) -> Response:
        """The error page of any exception (the renderer :mod:`hookline.adapters.web.errors`
        calls): a hookline error with its bounded message and hint; anything else as
        ``internal error`` and the request id only."""
        if isinstance(exc, HooklineError) and ans.expected:
            roots = roots_of(self.project.storage.uri)
            message = bounded(redact(exc.message, roots)) or ""
            return self.error_page(request, ans.status, message, bounded(redact(exc.hint, roots)))
        message = f"internal error (request {request_id(request)})"
        return self.error_page(request, ans.status, message)


async def board(request: Request) -> Dashboard:
    """Dependency: the dashboard answering this request (a coroutine: no thread hop)."""
    return request.app.state.dashboard  # type: ignore[no-any-return]


def version_number(value: str) -> int:
    value = value.strip()
    if not value.isdigit() or len(value) > 9:
        raise BadParameter("invalid version: expected a version number")
    return int(value)


def safe_next(value: str) -> str:
    """A local path to go back to after logging in (never another site)."""
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or len(value) > 2000
        or any(ord(c) < 32 for c in value)
    ):
        return "/runs"
    return value if value not in OPEN_PATHS else "/runs"


def https(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip() == "https"


def same_origin(request: Request) -> bool:
    """Refuse a POST whose ``Origin`` (when the browser sends one) is another site."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    try:
        return urlsplit(origin).netloc == host
    except ValueError:
        return False
