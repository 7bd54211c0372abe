"""The prediction service on AWS Lambda: mangum in front of the same FastAPI app.

Accepted events: API Gateway HTTP API (payload 2.0), Lambda Function URLs (2.0 as well),
API Gateway REST API (payload 1.0) and Application Load Balancer. Anything else -- an S3
notification wired to the wrong function, a schedule, a test event -- gets a clear error and
never reaches mangum.

Path prefixes: an HTTP API stage other than ``$default`` puts ``/STAGE`` in front of every
path, and a custom domain's base path mapping puts its own prefix there; both are removed
before routing (set ``HOOKLINE_API_BASE_PATH=/prefix`` for a base path mapping) and become the
ASGI ``root_path``, so the links in ``/docs`` keep working. A REST API's stage
(``requestContext.stage``) is not in ``event.path`` and only becomes the ``root_path``.

The app is built, and FastAPI imported, on the first invocation; mangum runs with
``lifespan="off"`` (Lambda has no shutdown hook to honour it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from hookline.errors import UsageError

__all__ = ["LambdaHandler", "handler", "http_event_kind"]

ROOT_KEY = "hookline.root_path"
ASGIApp = Callable[..., Any]


def http_event_kind(event: Any) -> str | None:
    """``"v2"`` (HTTP API, Function URL), ``"v1"`` (REST API), ``"alb"`` or ``None``."""
    if not isinstance(event, Mapping):
        return None
    context = event.get("requestContext")
    if not isinstance(context, Mapping):
        return None
    if event.get("version") == "2.0" and isinstance(context.get("http"), Mapping):
        return "v2"
    if "elb" in context and "httpMethod" in event:
        return "alb"
    if "httpMethod" in event and "path" in event and "resource" in event:
        return "v1"
    return None


def _strip(path: str, prefix: str) -> str | None:
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        return path[len(prefix) :] or "/"
    return None


def prepare_event(event: Mapping[str, Any], kind: str, base_path: str) -> dict[str, Any]:
    """A shallow copy of ``event`` with stage and base-path prefixes moved from the path to
    ``root_path`` (kept under a private key that :func:`_with_root_path` reads)."""
    out = dict(event)
    context = dict(event["requestContext"])
    base = "/" + base_path.strip("/") if base_path.strip("/") else ""
    root = ""
    if kind == "v2":
        http = dict(context["http"])
        stage = str(context.get("stage") or "$default")
        prefixes = ([f"/{stage}"] if stage != "$default" else []) + ([base] if base else [])
        path = str(http.get("path") or event.get("rawPath") or "/")
        for prefix in prefixes:
            stripped = _strip(path, prefix)
            if stripped is not None:
                path, root = stripped, root + prefix
        http["path"] = path
        out["rawPath"] = path
        context["http"] = http
    elif kind == "v1":
        path = str(event.get("path") or "/")
        stage = str(context.get("stage") or "")
        for prefix in ([f"/{stage}"] if stage and stage != "$default" else []) + (
            [base] if base else []
        ):
            stripped = _strip(path, prefix)
            if stripped is not None:
                path, root = stripped, root + prefix
        full = str(context.get("path") or "")
        if not root and stage and _strip(full, f"/{stage}") is not None:
            root = f"/{stage}"  # the stage is in the public URL, not in event.path
        out["path"] = path
    elif base:
        stripped = _strip(str(event.get("path") or "/"), base)
        if stripped is not None:
            out["path"], root = stripped, base
    out["requestContext"] = context
    if root:
        out[ROOT_KEY] = root
    return out


def _with_root_path(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        event = scope.get("aws.event")
        if event is not None and event.get(ROOT_KEY):
            scope = {**scope, "root_path": event[ROOT_KEY]}
        await app(scope, receive, send)

    return wrapped


class LambdaHandler:
    """The Lambda handler: checks the event, then hands it to mangum.

    :param app: the ASGI app, or a function that builds it on the first invocation.
    :param base_path: a custom domain's base path mapping (default:
        ``$HOOKLINE_API_BASE_PATH``).
    :param bundle_dir: the entry file's folder: its ``hookline.toml`` is used when
        ``$HOOKLINE_CONFIG`` is not set.
    """

    def __init__(
        self,
        app: ASGIApp | None = None,
        *,
        base_path: str | None = None,
        bundle_dir: str | None = None,
    ) -> None:
        from hookline.adapters.aws import CLOUD

        CLOUD.configure_logging()
        self._app = app
        self._base_path = base_path
        self._bundle_dir = bundle_dir
        self._mangum: Any = None
        self._lock = threading.Lock()

    def _adapter(self) -> Any:
        if self._mangum is None:
            with self._lock:
                if self._mangum is None:
                    from mangum import Mangum

                    app = self._app
                    if app is None:
                        from hookline.adapters.serving import create_app

                        app = create_app(bundle_dir=self._bundle_dir)
                    self._mangum = Mangum(_with_root_path(app), lifespan="off")
        return self._mangum

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        kind = http_event_kind(event)
        if kind is None:
            keys = ", ".join(sorted(event)[:8]) if isinstance(event, Mapping) else ""
            raise UsageError(
                "the hookline serving function received an event that is not an HTTP request "
                f"(type {type(event).__name__}{', keys: ' + keys if keys else ''}); it answers "
                "API Gateway HTTP API (v2), REST API (v1), Function URL and ALB requests",
                hint="send storage and schedule events to the pipeline function instead",
            )
        base = self._base_path
        if base is None:
            base = os.environ.get("HOOKLINE_API_BASE_PATH", "")
        return self._adapter()(prepare_event(event, kind, base), context)  # type: ignore[no-any-return]


handler = LambdaHandler()
"""A handler that builds the app from ``$HOOKLINE_CONFIG`` (or ``./hookline.toml``) on first
use; the entry file makes its own, which also finds the ``hookline.toml`` bundled with it."""
