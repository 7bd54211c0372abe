"""The prediction service: one FastAPI app, wrapped for every platform.

``create_app(config)`` builds the cloud-neutral app (:mod:`.app`); the platform wrappers
are :mod:`hookline.adapters.aws.serving` (mangum), :mod:`hookline.adapters.gcp.serving`
(functions-framework), :mod:`hookline.adapters.azure.serving` (``func.AsgiFunctionApp``)
and :mod:`.cli` (``hookline serve`` with uvicorn). A served model answers through a
:class:`~._predictor.Predictor` (``Predictor`` here).

Importing this package imports nothing heavy: FastAPI comes with ``create_app``, and pandas
and scikit-learn only with the first model load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookline.adapters.serving._predictor import Predictor
    from hookline.adapters.serving.app import create_app

__all__ = ["Predictor", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from hookline.adapters.serving.app import create_app

        return create_app
    if name == "Predictor":
        from hookline.adapters.serving._predictor import Predictor

        return Predictor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
