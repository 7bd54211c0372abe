"""The exceptions hookline raises, and how each one should be handled.

Every error carries enough to act on: *what* went wrong, *where* (URI, version, plugin,
hook, config key) and, when it can be guessed, *how to fix it* (``hint``).

Two families matter to the platforms that run hookline:

* :class:`TransientError` -- worth retrying (storage throttled, a timeout). The function
  re-raises it so the platform retries the delivery.
* everything else is permanent for the object that caused it: it is recorded in the run
  record and the invocation returns normally, so the platform does not retry forever.

What an error means to a caller is stated once, on its class, and read by every surface
(serving, the dashboard, the command line, the function handlers) through :func:`answer`:

==========================  ===========  =========  =====================================
error class                 HTTP status  exit code  retried (batch item / delivery)
==========================  ===========  =========  =====================================
HooklineError (any other)   400          1          no
UsageError                  400          2          no
InvalidKey                  400          2          no
RequestTooLarge             413          2          no
UnsupportedMediaType        415          2          no
DataError                   422          1          no
NotFound                    404          1          no
PreconditionFailed          409          1          no
AlreadyExists               409          1          no
StorageError (any other)    503          1          no
TransientError              503          75         yes
Unavailable                 503          1          yes
ModelIntegrityError         503          1          no
ConfigError                 503          2          no
PluginLoadError             503          2          no
HookFailed                  503          1          when its cause is transient
NoProvider                  503          1          no
(any other exception)       500          1          no
==========================  ===========  =========  =====================================

A hookline error never becomes a 500: the 503s are a server that cannot answer because of
its own storage, configuration, plugins or model, and their bodies say so without internals.
A 500 is an unexpected exception (a bug), logged with its traceback. Exit code 75 is
``EX_TEMPFAIL`` (try again later).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AlreadyExists",
    "ConfigError",
    "DataError",
    "ErrorAnswer",
    "HookFailed",
    "HooklineError",
    "InvalidKey",
    "ModelIntegrityError",
    "NoProvider",
    "NotFound",
    "PluginLoadError",
    "PluginValidationError",
    "PreconditionFailed",
    "RequestTooLarge",
    "StorageError",
    "TransientError",
    "TransientStorageError",
    "Unavailable",
    "UnsupportedMediaType",
    "UsageError",
    "answer",
]


class HooklineError(Exception):
    """Base class of every error hookline raises on purpose.

    :param message: what went wrong, naming the object it concerns.
    :param hint: how to fix it, when that can be guessed.
    """

    http_status = 400
    """The HTTP status a server answers with when this error is the request's outcome."""
    exit_code = 1
    """The command line's exit code."""
    retry = False
    """Whether the delivery (or batch item) that raised it is worth retrying."""
    title = "bad request"
    """A short, fixed phrase for response bodies (never includes the message)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class TransientError(HooklineError):
    """A failure worth retrying later: the platform should redeliver the event."""

    http_status = 503
    exit_code = 75
    retry = True
    title = "temporarily unavailable"


class Unavailable(HooklineError):
    """Nothing can answer yet (no model promoted, still loading): retry later."""

    http_status = 503
    retry = True
    title = "unavailable"


class UsageError(HooklineError):
    """The command line or a request was used wrongly (exit code 2, HTTP 400)."""

    exit_code = 2


class RequestTooLarge(UsageError):
    """A request body or batch is over its configured limit (HTTP 413)."""

    http_status = 413
    title = "request too large"


class UnsupportedMediaType(UsageError):
    """A request body in a content type the endpoint does not read (HTTP 415)."""

    http_status = 415
    title = "unsupported media type"


class ConfigError(HooklineError):
    """``hookline.toml`` (or a plugin's table in it) is missing or invalid (exit code 2).

    :param key: the dotted path of the offending key, e.g. ``pipelines.train.stages``.
    """

    http_status = 503
    exit_code = 2
    title = "server misconfigured"

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        source: str | None = None,
        hint: str | None = None,
    ) -> None:
        shown = key if key is None or len(key) <= 120 else f"{key[:117]}..."
        where = " ".join(part for part in (source and f"{source}:", shown and f"[{shown}]") if part)
        super().__init__(f"{where} {message}" if where else message, hint=hint)
        self.key = key
        self.source = source


class DataError(HooklineError):
    """The uploaded data cannot be used (bad file, wrong schema, too large): permanent."""

    http_status = 422
    title = "unprocessable data"

    def __init__(self, message: str, *, uri: str | None = None, hint: str | None = None) -> None:
        super().__init__(f"{uri}: {message}" if uri else message, hint=hint)
        self.uri = uri


# --- storage -----------------------------------------------------------------------------


class StorageError(HooklineError):
    """A storage operation failed.

    :param uri: the full URI of the object concerned.
    """

    http_status = 503
    title = "storage unavailable"

    def __init__(self, message: str, *, uri: str | None = None, hint: str | None = None) -> None:
        super().__init__(f"{message}: {uri}" if uri else message, hint=hint)
        self.uri = uri


class TransientStorageError(StorageError, TransientError):
    """Storage was throttled, unavailable or timed out; retrying may succeed."""


class NotFound(StorageError):
    """The object does not exist."""

    http_status = 404
    title = "not found"


class PreconditionFailed(StorageError):
    """A conditional write lost: the object changed (or appeared) since it was read."""

    http_status = 409
    title = "conflict"


class AlreadyExists(PreconditionFailed):
    """A create-only write found the object already there."""


class InvalidKey(StorageError, ValueError):
    """An object key is not allowed: it would escape the storage root, or is malformed."""

    http_status = 400
    exit_code = 2
    title = "invalid name"


# --- plugins -----------------------------------------------------------------------------


class PluginLoadError(HooklineError):
    """A plugin could not be imported or registered.

    :param plugin: the plugin's name (its entry-point name).
    :param distribution: the installed distribution that ships it, with its version.
    """

    http_status = 503
    exit_code = 2
    title = "server misconfigured"

    def __init__(
        self,
        message: str,
        *,
        plugin: str,
        distribution: str | None = None,
        hint: str | None = None,
    ) -> None:
        origin = f" (from {distribution})" if distribution else ""
        super().__init__(f"plugin {plugin!r}{origin}: {message}", hint=hint)
        self.plugin = plugin
        self.distribution = distribution


class PluginValidationError(PluginLoadError):
    """A hook implementation does not match its specification (name or arguments)."""


class HookFailed(HooklineError):
    """An exception was raised inside a plugin's hook implementation.

    The original exception is kept as ``__cause__`` and as :attr:`original`.
    """

    http_status = 503
    title = "plugin failed"

    def __init__(
        self, *, plugin: str, hook: str, original: BaseException, distribution: str | None = None
    ) -> None:
        detail = str(original) or type(original).__name__
        super().__init__(
            f"plugin {plugin!r} failed in hook {hook!r}: {type(original).__name__}: {detail}"
        )
        self.plugin = plugin
        self.hook = hook
        self.distribution = distribution
        self.original = original

    @property
    def transient(self) -> bool:
        return isinstance(self.original, TransientError)

    @property
    def retry(self) -> bool:  # type: ignore[override]
        return self.transient


class NoProvider(HooklineError):
    """A provider hook (``ingest``, ``train``) got no answer from any plugin."""

    http_status = 503
    title = "server misconfigured"


class ModelIntegrityError(HooklineError):
    """A model artifact failed verification: wrong checksum, pickle, or untrusted types."""

    http_status = 503
    title = "model unavailable"


# --- what an error means to a caller ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """How one surface answers an exception (see the table in this module's docstring).

    :param status: the HTTP status.
    :param exit_code: the command line's exit code.
    :param retry: whether the delivery or batch item is worth retrying.
    :param title: a short fixed phrase (``not found``, ``conflict``...).
    :param detail: the error's own message and hint for hookline errors, bounded in size;
        for unexpected exceptions only ``internal error`` (never internals).
    :param expected: ``False`` for an exception hookline did not raise on purpose (a bug:
        log it with its traceback).
    """

    status: int
    exit_code: int
    retry: bool
    title: str
    detail: str
    expected: bool = True


MAX_DETAIL = 1000
"""The longest error detail any surface sends back (messages may quote user input)."""


def answer(exc: BaseException) -> ErrorAnswer:
    """What ``exc`` means to a caller: the one table every surface uses."""
    if isinstance(exc, HooklineError):
        detail = str(exc)
        if len(detail) > MAX_DETAIL:
            detail = detail[: MAX_DETAIL - 3] + "..."
        return ErrorAnswer(
            int(exc.http_status), int(exc.exit_code), bool(exc.retry), exc.title, detail
        )
    if isinstance(exc, KeyboardInterrupt):
        return ErrorAnswer(500, 130, False, "interrupted", "interrupted", True)
    return ErrorAnswer(500, 1, False, "internal error", "internal error", False)
