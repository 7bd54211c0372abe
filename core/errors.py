"""The exceptions hookline raises, and how each one should be handled.

Every error carries enough to act on: *what* went wrong, *where* (URI, version, plugin,
hook, config key) and, when it can be guessed, *how to fix it* (``hint``).

Two families matter to the platforms that run hookline:

* :class:`TransientError` -- worth retrying (storage throttled, a timeout). The function
  re-raises it so the platform retries the delivery.
* everything else is permanent for the object that caused it: it is recorded in the run
  record and the invocation returns normally, so the platform does not retry forever.
"""

from __future__ import annotations

__all__ = [
    "AlreadyExists",
    "ConfigError",
    "DataError",
    "HookFailed",
    "HooklineError",
    "InvalidKey",
    "ModelIntegrityError",
    "NoProvider",
    "NotFound",
    "PluginLoadError",
    "PluginValidationError",
    "PreconditionFailed",
    "StorageError",
    "TransientError",
    "TransientStorageError",
    "UsageError",
]


class HooklineError(Exception):
    """Base class of every error hookline raises on purpose.

    :param message: what went wrong, naming the object it concerns.
    :param hint: how to fix it, when that can be guessed.
    """

    exit_code = 1

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


class UsageError(HooklineError):
    """The command line was used wrongly (exit code 2)."""

    exit_code = 2


class ConfigError(HooklineError):
    """``hookline.toml`` (or a plugin's table in it) is missing or invalid (exit code 2).

    :param key: the dotted path of the offending key, e.g. ``pipelines.train.stages``.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        source: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = " ".join(part for part in (source and f"{source}:", key and f"[{key}]") if part)
        super().__init__(f"{where} {message}" if where else message, hint=hint)
        self.key = key
        self.source = source


class DataError(HooklineError):
    """The uploaded data cannot be used (bad file, wrong schema, too large): permanent."""

    def __init__(self, message: str, *, uri: str | None = None, hint: str | None = None) -> None:
        super().__init__(f"{uri}: {message}" if uri else message, hint=hint)
        self.uri = uri


# --- storage -----------------------------------------------------------------------------


class StorageError(HooklineError):
    """A storage operation failed.

    :param uri: the full URI of the object concerned.
    """

    def __init__(self, message: str, *, uri: str | None = None, hint: str | None = None) -> None:
        super().__init__(f"{message}: {uri}" if uri else message, hint=hint)
        self.uri = uri


class TransientStorageError(StorageError, TransientError):
    """Storage was throttled, unavailable or timed out; retrying may succeed."""


class NotFound(StorageError):
    """The object does not exist."""


class PreconditionFailed(StorageError):
    """A conditional write lost: the object changed (or appeared) since it was read."""


class AlreadyExists(PreconditionFailed):
    """A create-only write found the object already there."""


class InvalidKey(StorageError, ValueError):
    """An object key is not allowed: it would escape the storage root, or is malformed."""


# --- plugins -----------------------------------------------------------------------------


class PluginLoadError(HooklineError):
    """A plugin could not be imported or registered.

    :param plugin: the plugin's name (its entry-point name).
    :param distribution: the installed distribution that ships it, with its version.
    """

    exit_code = 2

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


class NoProvider(HooklineError):
    """A provider hook (``ingest``, ``train``) got no answer from any plugin."""


class ModelIntegrityError(HooklineError):
    """A model artifact failed verification: wrong checksum, pickle, or untrusted types."""
