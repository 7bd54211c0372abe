"""The OpenAPI document, generated from the loaded version's feature schema.

``/predict`` reads its body by hand (see :mod:`.routes.predict`), so FastAPI cannot see its schema;
this module writes it in: a record (``Record``, one property per feature, extra properties
forbidden), a non-empty list of records, or ``{"records": [...], "proba": true}``. The
document is rebuilt when a new version is swapped in, and cached per version.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from hookline.adapters.serving._loader import ModelBundle, ModelHolder, ModelUnavailable

__all__ = ["OPEN_PATHS", "example_record", "install_openapi"]

OPEN_PATHS = ("/health", "/ping", "/v2/health/live", "/v2/health/ready")
"""Routes answered without a key (platform probes)."""
_REF = "#/components/schemas/{model}"


def example_record(bundle: ModelBundle) -> dict[str, Any]:
    """A plausible record for the docs: first category, or a neutral value per type."""
    neutral = {"number": 1.0, "integer": 1, "string": "text", "boolean": True}
    return {
        f.name: f.categories[0] if f.categories else neutral[f.dtype]
        for f in bundle.schema.features
    }


def _body_schema(bundle: ModelBundle, max_batch: int, components: dict[str, Any]) -> dict[str, Any]:
    record = bundle.record_model.model_json_schema(by_alias=True, ref_template=_REF)
    for name, sub in record.pop("$defs", {}).items():
        components[name] = sub
    record["description"] = (
        f"One record: the input features of model {bundle.name!r} "
        f"version {bundle.version}, named as in training data."
    )
    components["Record"] = record
    ref = {"$ref": "#/components/schemas/Record"}
    batch = {
        "type": "array",
        "items": ref,
        "minItems": 1,
        "maxItems": max_batch,
        "title": "Batch",
        "description": f"1 to {max_batch} records",
    }
    components["Batch"] = batch
    components["Envelope"] = {
        "type": "object",
        "title": "Envelope",
        "additionalProperties": False,
        "required": ["records"],
        "properties": {
            "records": {"$ref": "#/components/schemas/Batch"},
            "proba": {
                "type": "boolean",
                "default": False,
                "description": "also return class probabilities",
            },
        },
    }
    return {
        "anyOf": [
            ref,
            {"$ref": "#/components/schemas/Batch"},
            {"$ref": "#/components/schemas/Envelope"},
        ]
    }


def install_openapi(app: FastAPI, holder: ModelHolder, auth: bool) -> None:
    """Replace ``app.openapi`` with a generator that knows the request schema."""
    cache: dict[int | None, dict[str, Any]] = {}
    lock = threading.Lock()

    def openapi() -> dict[str, Any]:
        bundle = holder.current()
        if bundle is None:
            try:
                bundle = holder.load()
            except ModelUnavailable:
                bundle = None
        key = bundle.version if bundle is not None else None
        with lock:
            if key in cache:
                return cache[key]
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = doc.setdefault("components", {}).setdefault("schemas", {})
        op = doc["paths"]["/predict"]["post"]
        op.pop("x-hookline-request-body", None)
        max_batch = app.state.settings.max_batch
        if bundle is not None:
            schema = _body_schema(bundle, max_batch, components)
            example: Any = example_record(bundle)
            doc["info"]["x-hookline-model"] = {
                "name": bundle.name,
                "version": bundle.version,
                "alias": bundle.alias,
            }
        else:
            schema = {
                "type": "object",
                "description": "no model is loaded yet: the fields appear here once a "
                "version is promoted",
            }
            example = {}
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema, "example": example}},
        }
        op["parameters"] = [
            {
                "name": "proba",
                "in": "query",
                "required": False,
                "schema": {"type": "boolean", "default": False},
                "description": "also return class probabilities (classifiers only)",
            }
        ]
        if auth:
            doc["components"]["securitySchemes"] = {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
            }
            for path, item in doc["paths"].items():
                if path not in OPEN_PATHS:
                    for operation in item.values():
                        operation["security"] = [{"ApiKey": []}, {"Bearer": []}]
        with lock:
            cache.clear()
            cache[key] = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
