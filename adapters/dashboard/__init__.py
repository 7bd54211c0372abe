"""The hookline dashboard: runs, models, lineage and drift over any storage root.

``hookline ui`` serves it; :func:`create_app` builds the ASGI app to serve it elsewhere
(a second function next to the serving one, a container, uvicorn). Importing this package
is cheap: FastAPI and Jinja2 load only when the app is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookline.adapters.dashboard.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from hookline.adapters.dashboard.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
