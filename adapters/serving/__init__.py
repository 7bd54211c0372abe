"""The prediction service: one FastAPI app, wrapped for every platform.

``create_app(config)`` builds the cloud-neutral app (:mod:`._app`); the platform wrappers
are :mod:`.aws` (mangum), :mod:`.gcp` (functions-framework), :mod:`.azure`
(``func.AsgiFunctionApp``) and :mod:`.cli` (``hookline serve`` with uvicorn).

Importing this package imports nothing heavy: FastAPI comes with ``create_app``, and pandas
and scikit-learn only with the first model load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookline.adapters.serving._app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from hookline.adapters.serving._app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
