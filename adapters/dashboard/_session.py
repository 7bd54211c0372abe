"""The session middleware: every request gets its session (from the signed cookie, else a
new anonymous one); pages other than the login page and ``/healthz`` need a logged-in
session when keys are configured; every answer gets the security headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hookline.adapters.dashboard._auth import COOKIE, SESSION_SECONDS
from hookline.adapters.dashboard._pages import OPEN_PATHS, Dashboard, https, safe_next
from hookline.errors import HooklineError, answer
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["PAGE_CSP", "REPORT_CSP", "sessions"]

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


async def sessions(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    dash: Dashboard = request.app.state.dashboard
    auth = dash.auth
    try:
        session = auth.load(request.cookies.get(COOKIE))
        request.state.session = session
        allowed = request.url.path in OPEN_PATHS or auth.authenticated(session)
    except HooklineError as exc:  # the keys cannot be read: fail closed
        response: Response = dash.render_error(request, exc, answer(exc))
        return _secure(request, response)
    if allowed:
        response = await call_next(request)
    elif request.method == "GET":
        response = dash.render(
            request, "login.html.j2", 401, next=safe_next(request.url.path), failed=False
        )
    else:
        response = dash.error_page(
            request,
            401,
            "log in with an API key first",
            "open /login; keys come from HOOKLINE_API_KEYS or HOOKLINE_ADMIN_KEYS",
        )
    final = request.state.session
    if final.new:
        response.set_cookie(
            COOKIE,
            auth.dump(final),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            path="/",
            secure=https(request),
        )
    return _secure(request, response)


def _secure(request: Request, response: Response) -> Response:
    path = request.url.path
    stored = path.endswith("/report.html") or path.endswith("/index.html")
    response.headers["Content-Security-Policy"] = REPORT_CSP if stored else PAGE_CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
    return response
