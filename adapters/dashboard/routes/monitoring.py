"""``/monitoring`` (models with reports or retrain requests) and one model's drift and
performance over its latest monitoring batches."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from hookline.adapters.dashboard import _views
from hookline.adapters.dashboard._pages import Dashboard, board
from hookline.adapters.web.errors import safe_name
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["router"]

router = APIRouter()


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, dash: Dashboard = Depends(board)) -> Response:
    models = _views.monitoring_models(dash.project.storage, dash.project.registry)
    return dash.render(request, "monitoring.html.j2", models=models)


@router.get("/monitoring/{model}", response_class=HTMLResponse)
def drift_page(request: Request, model: str, dash: Dashboard = Depends(board)) -> Response:
    project = dash.project
    detail = _views.monitoring_detail(project.storage, project.registry, safe_name(model, "model"))
    return dash.render(request, "drift.html.j2", **detail)
