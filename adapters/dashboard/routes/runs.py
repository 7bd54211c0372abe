"""``/runs`` (one page of the run index, filtered) and one run: its page, its
``record.json`` and its stored static report."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, JSONResponse
from hookline.adapters.dashboard import _views
from hookline.adapters.dashboard._pages import Dashboard, board
from hookline.adapters.web.errors import NAME, RUN_ID, BadParameter, safe_name
from hookline.errors import NotFound
from hookline.jsonio import jsonable
from hookline.runs import FINAL
from hookline.storage import Storage
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

__all__ = ["router", "stored_html"]

router = APIRouter()
_CURSOR = re.compile(r"^[0-9]{13}-[A-Za-z0-9][A-Za-z0-9._-]{0,159}\.json$")


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/runs", 303)


def _filter(value: str, what: str) -> str:
    if value and not NAME.match(value):
        raise BadParameter(f"invalid {what} filter: expected a {what} name")
    return value


@router.get("/runs", response_class=HTMLResponse)
def runs_list(
    request: Request,
    pipeline: str = "",
    status: str = "",
    model: str = "",
    since: str = "",
    until: str = "",
    after: str = "",
    dash: Dashboard = Depends(board),
) -> Response:
    if after and not _CURSOR.match(after):
        raise BadParameter("invalid cursor: follow the page's own 'Older runs' link")
    filters = {
        "pipeline": _filter(pipeline, "pipeline"),
        "status": status if status in FINAL else "",
        "model": _filter(model, "model"),
        "since": since[:10],
        "until": until[:10],
    }
    size = dash.page_size
    page = _views.runs_page(dash.project.runs, limit=size, cursor=after or None, filters=filters)
    active = {k: v for k, v in filters.items() if v}
    next_url = (
        f"/runs?{urlencode({**active, 'after': page['next_cursor']})}"
        if page["next_cursor"]
        else None
    )
    return dash.render(
        request,
        "runs.html.j2",
        page=page,
        filters=filters,
        next_url=next_url,
        first_url=f"/runs?{urlencode(active)}" if after else None,
        pipelines=dash.pipelines,
        models=dash.models,
        statuses=FINAL,
        page_size=size,
    )


def run_id(value: str) -> str:
    """A well-formed run id, else 404 before any key is read."""
    return safe_name(value, "run", pattern=RUN_ID)


@router.get("/runs/{rid}", response_class=HTMLResponse)
def run_page(request: Request, rid: str, dash: Dashboard = Depends(board)) -> Response:
    return dash.render(request, "run.html.j2", **_views.run_detail(dash.project.runs, run_id(rid)))


@router.get("/runs/{rid}/record.json")
def run_json(rid: str, dash: Dashboard = Depends(board)) -> JSONResponse:
    record = dash.project.runs.get(run_id(rid))
    return JSONResponse(jsonable(record))  # the one JSON codec: a NaN is null


@router.get("/runs/{rid}/report.html")
def run_report(rid: str, dash: Dashboard = Depends(board)) -> Response:
    rid = run_id(rid)
    dash.project.runs.get(rid)  # 404 for an unknown run, before touching any other key
    return stored_html(dash.project.storage, f"runs/{rid}/report.html")


@router.get("/registry/{model}/index.html")
def model_index(model: str, dash: Dashboard = Depends(board)) -> Response:
    name = safe_name(model, "model")
    return stored_html(dash.project.storage, f"registry/{name}/index.html")


def stored_html(storage: Storage, key: str) -> Response:
    try:
        body = storage.read(key)
    except NotFound:
        raise NotFound(
            "no static report here yet: the `reports` plugin writes it after each run"
        ) from None
    return Response(body, media_type="text/html; charset=utf-8")
