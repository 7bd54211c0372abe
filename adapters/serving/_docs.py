"""The documented answers of each route (for the OpenAPI document)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["HEALTH_RESPONSES", "MODEL_RESPONSES", "PREDICT_RESPONSES", "doc"]


def doc(description: str, example: Mapping[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": {"type": "object"}}}
    if example is not None:
        content["application/json"]["example"] = example
    return {"description": description, "content": content}


AUTH: dict[int | str, dict[str, Any]] = {
    401: doc("missing or invalid API key (when keys are configured)", {"detail": "missing API key"})
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: doc(
        "no verified model is loaded: nothing promoted yet, or loading failed",
        {"detail": "no model is promoted yet: ..."},
    )
}
BAD_REQUEST: dict[int | str, dict[str, Any]] = {
    400: doc("JSON nested too deeply, or a malformed header", {"detail": "..."}),
    413: doc("body or batch over the configured limit", {"detail": "... over the limit ..."}),
    415: doc("a content type other than application/json", {"detail": "..."}),
}
PREDICT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: doc(
        "predictions, in request order, and the version that made them",
        {
            "model": "churn",
            "version": 3,
            "alias": "production",
            "predictions": [1],
            "classes": [0, 1],
            "probabilities": [[0.2, 0.8]],
        },
    ),
    **AUTH,
    **BAD_REQUEST,
    422: doc(
        "a record is invalid: wrong or unknown field, missing field, wrong type; or the "
        "model could not score it; each error names the field",
        {
            "detail": [
                {
                    "loc": ["body", "age"],
                    "msg": "Input should be a valid integer",
                    "type": "int_type",
                }
            ],
            "message": "age: ...",
        },
    ),
    **UNAVAILABLE,
}
MODEL_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: doc("the served version's metadata and feature schema"),
    **AUTH,
    **UNAVAILABLE,
}
HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: doc("alive and ready"),
    503: doc("alive, not ready: no verified model loaded"),
}
