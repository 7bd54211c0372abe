"""MLflow's own client, bounded: its HTTP settings for our calls, and a circuit breaker.

Nothing here imports MLflow at module level: :func:`client` imports ``mlflow.tracking``
(2-4 s, see docs/integrations.md) the first time a mirror actually talks to MLflow.

Bounds. MLflow reads its HTTP settings from the environment on every request
(``MLFLOW_HTTP_REQUEST_TIMEOUT``, ``MLFLOW_HTTP_REQUEST_MAX_RETRIES``,
``MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR``, ``MLFLOW_HTTP_REQUEST_BACKOFF_JITTER``). Its defaults
(120 s, 7 retries with exponential back-off) would hold a run for minutes when the server
is away, so :func:`bounded` sets the plugin's values for the duration of our calls, unless
the variable is already set in the environment (an operator's explicit choice wins). A
:class:`Session` stops at the first sign the server is away (connection refused, timeout,
5xx, refused credentials): the rest of the work of that run is skipped and listed as not
mirrored, so one run pays for at most one bounded request.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

__all__ = ["ANSWERED", "Session", "bounded", "client", "error_code", "redact"]

log = logging.getLogger("hookline.plugins.mlflow")

T = TypeVar("T")

ANSWERED = frozenset(
    {"RESOURCE_DOES_NOT_EXIST", "RESOURCE_ALREADY_EXISTS", "INVALID_PARAMETER_VALUE", "BAD_REQUEST"}
)
"""Error codes of a server that answered about one item: the next item may still go through.
Any other failure means the server is away or refuses us, and stops the session."""

_ENV_LOCK = threading.Lock()
_CLIENTS: dict[tuple[str, str | None], Any] = {}


def redact(uri: str) -> str:
    """``uri`` without credentials, query or fragment (for logs and run records)."""
    parts = urlsplit(uri)
    if not parts.scheme or ("@" not in parts.netloc and not parts.query):
        return uri
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def settings_env(cfg: Mapping[str, Any]) -> dict[str, str]:
    """MLflow's own environment settings for the plugin's calls, from its table."""
    return {
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(max(1, int(cfg["timeout_seconds"]))),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(max(0, int(cfg["max_retries"]))),
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": str(max(0, int(cfg["backoff_factor"]))),
        "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
        # MLflow prints "View run ... at" on stdout when a run ends; `hookline run --json`
        # writes JSON there.
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    }


@contextlib.contextmanager
def bounded(cfg: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    """Apply :func:`settings_env` to the variables the environment does not set, and
    restore them afterwards. Yields the settings in force."""
    wanted = settings_env(cfg)
    with _ENV_LOCK:
        added = {k: v for k, v in wanted.items() if k not in os.environ}
        os.environ.update(added)
    try:
        yield {k: os.environ.get(k, v) for k, v in wanted.items()}
    finally:
        with _ENV_LOCK:
            for key in added:
                os.environ.pop(key, None)


def client(tracking_uri: str, registry_uri: str | None) -> Any:
    """An ``MlflowClient`` for these URIs (one per process and pair of URIs)."""
    key = (tracking_uri, registry_uri)
    if key not in _CLIENTS:
        from mlflow.tracking import MlflowClient

        _CLIENTS[key] = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
    return _CLIENTS[key]


def error_code(exc: BaseException) -> str | None:
    """The MLflow error code of ``exc`` (``RESOURCE_DOES_NOT_EXIST``...), if it has one."""
    code = getattr(exc, "error_code", None)
    return str(code) if code else None


def _short(exc: BaseException) -> str:
    # MLflow's messages wrap the cause ("... Caused by NewConnectionError(...: Connection
    # refused)") at their end: keep the head and the tail.
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 400 else f"{text[:150]} ... {text[-245:]}"


class Session:
    """A series of MLflow calls that stops at the first sign the server is away.

    :param offline: why an earlier session of the same run stopped, if one did: this one
        then makes no call at all.
    """

    def __init__(self, offline: str | None = None) -> None:
        self.offline = offline
        self.lost: list[str] = []
        self.errors: list[str] = []

    def call(self, what: str, func: Callable[[], T]) -> T | None:
        """Run ``func`` (one step of mirroring, described by ``what``); ``None`` when it
        could not be done, which is recorded in :attr:`lost`."""
        done, value = self._run(what, func)
        return value if done else None

    def do(self, what: str, func: Callable[[], object]) -> bool:
        """Like :meth:`call`, for a step whose result does not matter: whether it was done."""
        return self._run(what, func)[0]

    def _run(self, what: str, func: Callable[[], T]) -> tuple[bool, T | None]:
        if self.offline is not None:
            self.lost.append(what)
            return False, None
        try:
            return True, func()
        except Exception as exc:
            code = error_code(exc)
            message = f"{what}: {_short(exc)}"
            self.lost.append(what)
            self.errors.append(message)
            if code in ANSWERED:
                log.warning("mlflow: %s", message)
            else:
                self.offline = message
                log.warning(
                    "mlflow: giving up for now (%s); the rest waits for the next event", message
                )
            return False, None
