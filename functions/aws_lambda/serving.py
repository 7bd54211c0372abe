"""AWS Lambda entry point of the prediction service (handler: ``serving.handler``).

Configuration comes from ``$HOOKLINE_CONFIG`` (a path in the bundle or a storage URI);
FastAPI and the model are loaded on the first request, not at import.
"""

from hookline.adapters.serving.aws import handler

__all__ = ["handler"]
