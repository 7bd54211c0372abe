"""The prediction service on Google Cloud Run functions (functions-framework).

The HTTP function is declared with functions-framework's ``aio.http`` decorator, so the
framework serves it with its ASGI server (Starlette under uvicorn) -- with or without the
``--asgi`` flag. The function itself does not build a response: it returns
:class:`AsgiForward`, an ASGI callable that Starlette then runs with the original request's
scope, body and ``send``, so the hookline app answers the request directly (streaming,
headers, status) with no WSGI bridge and no event-loop thread of its own.

The app (and FastAPI) is built on the first request, from ``$HOOKLINE_CONFIG``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["AsgiForward", "forward", "reset"]

_app: Any = None
_lock = threading.Lock()


class AsgiForward:
    """An ASGI callable that runs ``app`` for the request being handled."""

    __slots__ = ("app",)

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def forward(app: Callable[..., Any] | None = None, *, bundle_dir: str | None = None) -> AsgiForward:
    """What the HTTP function returns: the hookline app (built once, on first use, from
    ``$HOOKLINE_CONFIG``, else the ``hookline.toml`` in ``bundle_dir``, else
    ``./hookline.toml``)."""
    global _app
    from hookline.adapters.gcp import CLOUD

    CLOUD.configure_logging()
    if app is not None:
        return AsgiForward(app)
    if _app is None:
        with _lock:
            if _app is None:
                from hookline.adapters.serving import create_app

                _app = create_app(bundle_dir=bundle_dir)
    return AsgiForward(_app)


def reset() -> None:
    """Forget the built app (tests)."""
    global _app
    _app = None
