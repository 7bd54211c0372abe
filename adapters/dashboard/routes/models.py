"""``/models`` and one model's page, and the alias actions it posts: approve, promote,
roll back. Each action is a compare-and-swap in the registry (``Registry.approve``,
``move_alias``, ``rollback``) against the version the page showed, recorded with the
operator; only a session opened with an administration key may act."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, RedirectResponse
from hookline.adapters.dashboard import _views
from hookline.adapters.dashboard._pages import Dashboard, board, same_origin, version_number
from hookline.adapters.web.errors import NAME, BadParameter, safe_name
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["router"]

router = APIRouter()
_DONE = {"approve": "approved", "promote": "promoted", "rollback": "rolled back"}


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, dash: Dashboard = Depends(board)) -> Response:
    overview = _views.models_overview(dash.project.registry)
    return dash.render(request, "models.html.j2", models=overview)


@router.get("/models/{model}", response_class=HTMLResponse)
def model_page(
    request: Request,
    model: str,
    done: str = "",
    alias: str = "",
    v: str = "",
    dash: Dashboard = Depends(board),
) -> Response:
    project = dash.project
    detail = _views.model_detail(project.registry, project.runs, safe_name(model, "model"))
    notice = None
    shown = (v.isdigit() and len(v) < 10) or v == "none"
    if done in _DONE and NAME.match(alias or "-") and shown:
        notice = f"{alias} {_DONE[done]}: now v{v}"
    return dash.render(request, "model.html.j2", notice=notice, **detail)


def _alias(value: str) -> str:
    if not NAME.match(value):
        raise BadParameter("invalid alias: alias names are letters, digits, '.', '_' and '-'")
    return value


def _expected(value: str) -> int | str | None:
    """The alias version the page showed: a number, ``none`` (unset) or ``any``."""
    value = value.strip()
    if value.isdigit() and len(value) < 10:
        return int(value)
    return None if value == "none" else "any"


def _act(
    request: Request, dash: Dashboard, model: str, csrf: str, move: Callable[[str], Any]
) -> Response:
    session = request.state.session
    by = dash.auth.actor(session)
    if by is None:
        message = (
            "actions need an administration key: log in with one of HOOKLINE_ADMIN_KEYS"
            if dash.auth.required
            else "actions are disabled: no API key is configured"
        )
        return dash.error_page(
            request,
            403,
            message,
            "set HOOKLINE_ADMIN_KEYS (comma separated) or HOOKLINE_ADMIN_KEYS_SECRET where "
            "the dashboard runs, or start `hookline ui` on 127.0.0.1 for local actions",
        )
    if not same_origin(request) or not dash.auth.csrf_ok(session, csrf):
        return dash.error_page(
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


@router.post("/models/{model}/approve")
def approve(
    request: Request,
    model: str,
    version: str = Form(""),
    alias: str = Form("production"),
    reason: str = Form(""),
    csrf: str = Form(""),
    dash: Dashboard = Depends(board),
) -> Response:
    name, number, to = safe_name(model, "model"), version_number(version), _alias(alias)
    registry = dash.project.registry
    return _act(
        request,
        dash,
        name,
        csrf,
        lambda by: registry.approve(name, number, alias=to, by=by, reason=reason[:500]),
    )


@router.post("/models/{model}/promote")
def promote(
    request: Request,
    model: str,
    version: str = Form(""),
    alias: str = Form("production"),
    expected: str = Form(""),
    reason: str = Form(""),
    csrf: str = Form(""),
    dash: Dashboard = Depends(board),
) -> Response:
    name, number, to = safe_name(model, "model"), version_number(version), _alias(alias)
    registry = dash.project.registry
    return _act(
        request,
        dash,
        name,
        csrf,
        lambda by: registry.move_alias(
            name,
            to,
            number,
            action="promote",
            by=by,
            reason=reason[:500],
            expected=_expected(expected),
        ),
    )


@router.post("/models/{model}/rollback")
def rollback(
    request: Request,
    model: str,
    alias: str = Form("production"),
    expected: str = Form(""),
    reason: str = Form(""),
    csrf: str = Form(""),
    dash: Dashboard = Depends(board),
) -> Response:
    name, which = safe_name(model, "model"), _alias(alias)
    registry = dash.project.registry
    return _act(
        request,
        dash,
        name,
        csrf,
        lambda by: registry.rollback(
            name, which, by=by, reason=reason[:500], expected=_expected(expected)
        ),
    )
