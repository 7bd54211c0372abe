"""How an exception becomes an HTTP answer, the same way on every hookline HTTP surface.

* A hookline error is answered with the status :func:`hookline.errors.answer` gives its
  class (never 500), its message and hint bounded in size.
* Starlette's own refusals (no such route 404, wrong method 405, a malformed parameter)
  become hookline errors first, so they are answered the same way.
* Anything else is a bug: it is logged once, with its traceback and the request id, and
  answered 500 with only ``internal error`` and the request id -- no storage root, no
  message, no traceback.

Every request has an id: the caller's ``X-Request-Id`` when it is a safe token
(:data:`REQUEST_ID`), else a fresh one; an unsafe one is refused with 400 before anything
else runs (it would otherwise reach logs and prediction logs). The id is sent back in
``X-Request-Id``.

Each surface supplies a :data:`Render` that turns ``(request, exception, answer)`` into its
own kind of response (JSON for serving, an HTML page for the dashboard).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from hookline.errors import MAX_DETAIL, ErrorAnswer, HooklineError, NotFound, UsageError, answer
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "NAME",
    "REQUEST_ID",
    "RUN_ID",
    "BadParameter",
    "MethodNotAllowed",
    "Render",
    "bounded",
    "install",
    "redact",
    "request_id",
    "roots_of",
    "safe_name",
]

log = logging.getLogger("hookline.http")

REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
"""A caller-supplied request id: 1 to 128 letters, digits, ``. _ : -``."""
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
"""A model, alias or pipeline name (the registry's rule); also the shape of run ids, which
are ``<pipeline>-<20 hex digits>``."""
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,159}$")
"""A run id: ``<pipeline>-<20 hex digits>`` (a pipeline name is a :data:`NAME`)."""

Render = Callable[[Request, BaseException, ErrorAnswer], Response]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class MethodNotAllowed(UsageError):
    """The route exists but not for this method (HTTP 405)."""

    http_status = 405
    title = "method not allowed"


class BadParameter(UsageError):
    """A path, query or form parameter is malformed (HTTP 400); the value is not echoed."""

    title = "bad request"


def bounded(text: str | None, limit: int = MAX_DETAIL) -> str | None:
    """``text`` cut to ``limit`` characters (error bodies stay small)."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 3] + "..."


def redact(text: str | None, roots: tuple[str, ...]) -> str | None:
    """``text`` without the storage roots it names (an error answer never says where the
    data lives; the logs do)."""
    if text is None:
        return None
    for root in roots:
        if root:
            text = text.replace(root, "<storage>")
    return text


def roots_of(uri: str) -> tuple[str, ...]:
    """The spellings of a storage root that messages use: its URI, and its local path."""
    uri = uri.rstrip("/")
    path = uri.removeprefix("file://")
    return (uri, path) if path != uri else (uri,)


def safe_name(value: str, kind: str, *, pattern: re.Pattern[str] = NAME) -> str:
    """``value`` when it is a well-formed name, else :class:`NotFound` without reading
    anything: a traversal-shaped, NUL-bearing or oversized segment names nothing (and is
    not echoed back)."""
    if len(value) > 200 or not pattern.match(value):
        raise NotFound(
            f"no such {kind}: {kind} names are letters, digits, '.', '_' and '-' "
            f"(at most {128 if pattern is NAME else 160} characters)"
        )
    return value


def request_id(request: Request) -> str:
    """The id of the request being answered (set by :func:`install`'s middleware)."""
    return str(request.scope.get("hookline.request_id") or "-")


class _Boundary:
    """Outermost ASGI middleware: assigns the request id and turns an unexpected exception
    into a logged 500 (pure ASGI: no cost on the request path beyond one header)."""

    def __init__(self, app: Callable[..., Awaitable[None]], render: Render) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        rid = given if given is not None and REQUEST_ID.match(given) else uuid.uuid4().hex
        scope["hookline.request_id"] = rid
        encoded = rid.encode()
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", encoded)]
            await send(message)

        request = Request(scope, receive)
        if given is not None and rid != given:
            exc: BaseException = BadParameter(
                "X-Request-Id: expected 1 to 128 letters, digits, '.', '_', ':' or '-'",
                hint="send a UUID or leave the header out (one is assigned)",
            )
            await self.render(request, exc, answer(exc))(scope, receive, send_with_id)
            return
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            log.error(
                "unexpected error answering %s %s (request %s)",
                scope.get("method"),
                scope.get("path"),
                rid,
                exc_info=exc,
            )
            if started:
                return  # the answer is on its way: nothing more can be sent
            await self.render(request, exc, answer(exc))(scope, receive, send_with_id)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


def _starlette_error(exc: HTTPException) -> HooklineError:
    if exc.status_code == 404:
        return NotFound("no such page or endpoint")
    if exc.status_code == 405:
        return MethodNotAllowed("this endpoint does not answer this method")
    error = UsageError(bounded(str(exc.detail), 200) or "bad request")
    error.http_status = exc.status_code if 400 <= exc.status_code < 500 else 400
    return error


def install(app: Any, render: Render) -> None:
    """Answer every error of ``app`` (a FastAPI or Starlette app) through ``render``
    (handlers are coroutines: Starlette would run plain functions in a worker thread)."""
    from fastapi.exceptions import RequestValidationError

    async def hookline_error(request: Request, exc: Exception) -> Response:
        return render(request, exc, answer(exc))

    async def starlette_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        error = _starlette_error(exc)
        return render(request, error, answer(error))

    async def invalid_parameter(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        where = []
        for err in exc.errors()[:5]:
            where.append(".".join(str(p) for p in err.get("loc", ())))
        error = BadParameter(f"malformed or missing parameter: {', '.join(where) or 'request'}")
        return render(request, error, answer(error))

    app.add_exception_handler(HooklineError, hookline_error)
    app.add_exception_handler(HTTPException, starlette_error)
    app.add_exception_handler(RequestValidationError, invalid_parameter)
    app.add_middleware(_Boundary, render=render)
