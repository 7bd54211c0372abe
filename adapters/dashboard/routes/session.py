"""``/login``, ``/logout`` and ``/healthz`` (open)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, RedirectResponse
from hookline.adapters.dashboard._pages import Dashboard, board, safe_next, same_origin
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/runs", dash: Dashboard = Depends(board)) -> Response:
    return dash.render(request, "login.html.j2", next=safe_next(next), failed=False)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    key: str = Form(""),
    operator: str = Form(""),
    csrf: str = Form(""),
    next: str = Form("/runs"),
    dash: Dashboard = Depends(board),
) -> Response:
    auth = dash.auth
    session = request.state.session
    if not same_origin(request) or not auth.csrf_ok(session, csrf):
        return dash.error_page(
            request,
            403,
            "the form's CSRF token is missing or invalid",
            "reload the login page and try again",
        )
    if not auth.required:
        return RedirectResponse(safe_next(next), 303)
    fresh = auth.login(session, key, operator)
    if fresh is None:
        return dash.render(request, "login.html.j2", 401, next=safe_next(next), failed=True)
    request.state.session = fresh
    return RedirectResponse(safe_next(next), 303)


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), dash: Dashboard = Depends(board)) -> Response:
    if not same_origin(request) or not dash.auth.csrf_ok(request.state.session, csrf):
        return dash.error_page(request, 403, "the form's CSRF token is missing or invalid")
    request.state.session = dash.auth.new_session()
    return RedirectResponse("/login", 303)
