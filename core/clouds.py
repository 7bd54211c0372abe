"""The clouds installed beside hookline: the entry-point group ``hookline.clouds``.

Each entry point names one *descriptor* object a cloud package exports (hookline's own are
``hookline.adapters.aws:CLOUD``, ``...gcp:CLOUD`` and ``...azure:CLOUD``; see
``hookline.adapters.cloud.Cloud`` for everything a descriptor says). The core never imports
a cloud package by name: it asks the installed descriptors, and uses only what
:class:`SecretStore` describes (:mod:`hookline.secrets`). Adding a cloud is adding a package
and one entry point.

Descriptors are loaded once per process, on first use; a package that fails to import is
remembered with its error (:func:`broken`) rather than hiding the others.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol, runtime_checkable

from hookline._entrypoints import entry_points

__all__ = ["ENTRY_POINT_GROUP", "SecretStore", "broken", "installed"]

ENTRY_POINT_GROUP = "hookline.clouds"

_lock = threading.Lock()
_loaded: dict[str, Any] | None = None
_broken: dict[str, str] = {}


@runtime_checkable
class SecretStore(Protocol):
    """What the core asks of a cloud descriptor to read a secret reference."""

    name: str
    """The cloud's name (``aws``, ``gcp``, ``azure``)."""
    secret_sdk: str
    """What to ``pip install`` for the cloud's secret store SDK."""
    secret_forms: tuple[str, ...]
    """The reference forms the cloud recognises, for error messages."""

    def claims_secret(self, ref: str) -> bool:
        """Whether ``ref`` has this cloud's shape (never imports an SDK, never raises)."""
        ...

    def read_secret(self, ref: str) -> str:
        """The secret's text, read with the function's own identity.

        :raises ImportError: the SDK is missing.
        :raises ConfigError: the reference is this cloud's but malformed.
        """
        ...


def installed() -> dict[str, Any]:
    """The descriptors of the installed clouds, by name, in entry-point order."""
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                found: dict[str, Any] = {}
                for ep in entry_points(ENTRY_POINT_GROUP):
                    if ep.name in found or ep.name in _broken:
                        continue  # the first distribution on sys.path wins
                    try:
                        found[ep.name] = ep.load()
                    except Exception as exc:
                        _broken[ep.name] = f"{ep.value}: {type(exc).__name__}: {exc}"
                _loaded = found
    return _loaded


def broken() -> dict[str, str]:
    """Clouds whose descriptor could not be loaded, with the error (after :func:`installed`)."""
    installed()
    return dict(_broken)
