"""The prediction service on Azure Functions: ``func.AsgiFunctionApp`` around the app.

Routes: the Functions host puts ``/api`` in front of every HTTP route unless ``host.json``
sets ``extensions.http.routePrefix`` to ``""`` (ours does). Should a deployment keep the
default, :func:`strip_route_prefix` removes the ``/api`` prefix before routing and makes it
the ASGI ``root_path``, so ``/api/predict`` and ``/predict`` both reach ``/predict``.

Auth level: ``$HOOKLINE_HTTP_AUTH_LEVEL`` (``function`` by default: callers need a function
key, Azure's own auth; ``anonymous`` when hookline's API keys, or nothing, protect it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, MutableMapping
from typing import Any

__all__ = ["function_app", "strip_route_prefix"]

ROUTE_PREFIX = "/api"
AUTH_LEVELS = ("anonymous", "function", "admin")


def strip_route_prefix(app: Callable[..., Any], prefix: str = ROUTE_PREFIX) -> Callable[..., Any]:
    """Wrap ``app`` so that ``PREFIX/x`` is routed as ``/x`` with ``root_path = PREFIX``."""

    async def wrapped(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            path = scope.get("path") or "/"
            if path == prefix or path.startswith(prefix + "/"):
                rest = path[len(prefix) :] or "/"
                scope = {
                    **scope,
                    "path": rest,
                    "raw_path": rest.encode(),
                    "root_path": (scope.get("root_path") or "") + prefix,
                }
        await app(scope, receive, send)

    return wrapped


def function_app(
    app: Callable[..., Any] | None = None,
    *,
    auth_level: str | None = None,
    bundle_dir: str | None = None,
) -> Any:
    """The ``func.AsgiFunctionApp`` the entry file assigns to ``app``.

    :param app: the ASGI app (default: :func:`create_app` from ``$HOOKLINE_CONFIG``).
    :param auth_level: ``anonymous``, ``function`` or ``admin`` (default:
        ``$HOOKLINE_HTTP_AUTH_LEVEL``, else ``function``).
    :param bundle_dir: the entry file's folder: its ``hookline.toml`` is used when
        ``$HOOKLINE_CONFIG`` is not set.
    :raises ConfigError: an unknown auth level.
    """
    import azure.functions as func
    from hookline.errors import ConfigError

    level = (auth_level or os.environ.get("HOOKLINE_HTTP_AUTH_LEVEL") or "function").lower()
    if level not in AUTH_LEVELS:
        raise ConfigError(
            f"$HOOKLINE_HTTP_AUTH_LEVEL: unknown auth level {level!r}",
            hint=f"use one of {', '.join(AUTH_LEVELS)}",
        )
    if app is None:
        from hookline.adapters.serving import create_app

        app = create_app(bundle_dir=bundle_dir)
    return func.AsgiFunctionApp(app=strip_route_prefix(app), http_auth_level=func.AuthLevel(level))
