"""The Open Inference Protocol (KServe v2; also spoken by MLServer and Triton), REST/JSON.

* ``GET /v2``, ``/v2/health/live``, ``/v2/health/ready``;
* ``GET /v2/models/{name}[/versions/{version}]`` (metadata) and ``.../ready``;
* ``POST /v2/models/{name}[/versions/{version}]/infer``.

A tabular model takes one input tensor per feature, named as the column, of shape ``[N]``
(or ``[N, 1]``); datatypes ``FP64`` (or any float or integer type) for numbers, ``INT64``
(any integer type) for integers, ``BYTES`` for strings, ``BOOL`` for booleans. It answers
``predict`` (``[N]``) and, for a classifier, ``predict_proba`` (``[N, classes]``, FP64).
The binary tensor extension is not supported (415). Errors are ``{"error": "..."}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from hookline import __version__
from hookline.adapters.serving._loader import ModelBundle
from hookline.adapters.serving._request import (
    InvalidRecords,
    check_batch,
    load_json,
    media_type,
    read_body,
    validate_records,
)
from hookline.adapters.serving._service import (
    VERSION_HEADER,
    authorised,
    current_bundle,
    json_response,
    service,
)
from hookline.adapters.serving.routes.predict import log_predictions, score
from hookline.adapters.web.errors import safe_name
from hookline.errors import NotFound, UnsupportedMediaType
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["router"]

router = APIRouter(prefix="/v2")
_TYPES = {
    "number": {"FP64", "FP32", "FP16", "INT64", "INT32", "INT16", "INT8", "UINT64", "UINT32"}
    | {"UINT16", "UINT8"},
    "integer": {"INT64", "INT32", "INT16", "INT8", "UINT64", "UINT32", "UINT16", "UINT8"},
    "string": {"BYTES"},
    "boolean": {"BOOL"},
}
_DECLARED = {"number": "FP64", "integer": "INT64", "string": "BYTES", "boolean": "BOOL"}
OUTPUTS = ("predict", "predict_proba")


@router.get("", summary="Open Inference Protocol: server metadata")
async def server_metadata() -> Response:
    return json_response(200, {"name": "hookline", "version": __version__, "extensions": []})


@router.get("/health/live", summary="Open Inference Protocol: liveness")
async def live() -> Response:
    return json_response(200, {"live": True})


@router.get("/health/ready", summary="Open Inference Protocol: readiness (503 until loaded)")
async def ready(request: Request) -> Response:
    await current_bundle(request)
    return json_response(200, {"ready": True})


def _served(bundle: ModelBundle, name: str, version: str | None) -> ModelBundle:
    safe_name(name, "model")
    if name != bundle.name or (version is not None and version != str(bundle.version)):
        what = f"model {name!r}" + (f" version {version[:20]!r}" if version is not None else "")
        raise NotFound(
            f"{what} is not served here",
            hint=f"this server serves model {bundle.name!r} version {bundle.version}",
        )
    return bundle


def _dtype_of(values: Any) -> str:
    first = next((v for v in values if v is not None), None)
    if isinstance(first, bool):
        return "BOOL"
    if isinstance(first, int):
        return "INT64"
    if isinstance(first, float):
        return "FP64"
    return "BYTES"


def _metadata(bundle: ModelBundle) -> dict[str, Any]:
    outputs = [
        {
            "name": "predict",
            "datatype": _dtype_of(bundle.classes) if bundle.classes else "FP64",
            "shape": [-1],
        }
    ]
    if bundle.has_proba and bundle.classes:
        outputs.append(
            {"name": "predict_proba", "datatype": "FP64", "shape": [-1, len(bundle.classes)]}
        )
    return {
        "name": bundle.name,
        "versions": [str(bundle.version)],
        "platform": "hookline",
        "inputs": [
            {"name": f.name, "datatype": _DECLARED[f.dtype], "shape": [-1]}
            for f in bundle.schema.features
        ],
        "outputs": outputs,
    }


_AUTH = [Depends(authorised)]


@router.get("/models/{name}", dependencies=_AUTH, summary="Model metadata")
async def model_metadata(name: str, bundle: ModelBundle = Depends(current_bundle)) -> Response:
    return json_response(200, _metadata(_served(bundle, name, None)))


@router.get("/models/{name}/versions/{version}", dependencies=_AUTH, summary="Version metadata")
async def version_metadata(
    name: str, version: str, bundle: ModelBundle = Depends(current_bundle)
) -> Response:
    return json_response(200, _metadata(_served(bundle, name, version)))


@router.get("/models/{name}/ready", dependencies=_AUTH, summary="Model readiness")
async def model_ready(name: str, bundle: ModelBundle = Depends(current_bundle)) -> Response:
    return json_response(200, {"name": _served(bundle, name, None).name, "ready": True})


@router.get(
    "/models/{name}/versions/{version}/ready", dependencies=_AUTH, summary="Version readiness"
)
async def version_ready(
    name: str, version: str, bundle: ModelBundle = Depends(current_bundle)
) -> Response:
    return json_response(200, {"name": _served(bundle, name, version).name, "ready": True})


@router.post("/models/{name}/infer", dependencies=_AUTH, summary="Inference")
async def infer(request: Request, name: str) -> Response:
    return await _infer(request, name, None)


@router.post("/models/{name}/versions/{version}/infer", dependencies=_AUTH, summary="Inference")
async def infer_version(request: Request, name: str, version: str) -> Response:
    return await _infer(request, name, version)


def _bad(msg: str, *loc: str | int) -> InvalidRecords:
    return InvalidRecords.one(("body", *loc), msg, "v2_format")


def _flatten(data: Any) -> list[Any]:
    out: list[Any] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def _columns(doc: Any, bundle: ModelBundle) -> tuple[dict[str, list[Any]], int]:
    if not isinstance(doc, dict) or not isinstance(doc.get("inputs"), list):
        raise _bad('expected {"inputs": [{"name", "shape", "datatype", "data"}, ...]}')
    features = {f.name: f for f in bundle.schema.features}
    columns: dict[str, list[Any]] = {}
    rows: int | None = None
    for i, tensor in enumerate(doc["inputs"]):
        if not isinstance(tensor, dict):
            raise _bad("expected a tensor object", "inputs", i)
        name, shape, dtype = tensor.get("name"), tensor.get("shape"), tensor.get("datatype")
        feature = features.get(name) if isinstance(name, str) else None
        if feature is None:
            raise _bad("unknown input: the model has no feature of this name", "inputs", i)
        if (tensor.get("parameters") or {}).get("binary_data_size") is not None:
            raise UnsupportedMediaType(
                "the binary tensor data extension is not supported",
                hint="send tensor data as JSON (tritonclient: binary_data=False)",
            )
        if (
            not isinstance(shape, list)
            or not 1 <= len(shape) <= 2
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
            or (len(shape) == 2 and shape[1] != 1)
        ):
            raise _bad("shape: expected [N] or [N, 1]", "inputs", i, "shape")
        if dtype not in _TYPES[feature.dtype]:
            raise _bad(f"datatype: expected {_DECLARED[feature.dtype]}", "inputs", i, "datatype")
        data = _flatten(tensor.get("data"))
        if len(data) != shape[0] or (rows is not None and rows != shape[0]):
            raise _bad("data: its length differs from the shape or other inputs", "inputs", i)
        rows = shape[0]
        columns[feature.name] = data
    return columns, rows or 0


def _requested(doc: dict[str, Any], bundle: ModelBundle) -> list[str]:
    available = [o["name"] for o in _metadata(bundle)["outputs"]]
    asked = doc.get("outputs")
    if asked is None:
        return available
    if not isinstance(asked, list):
        raise _bad("outputs: expected a list", "outputs")
    names: list[str] = []
    for i, out in enumerate(asked):
        name = out.get("name") if isinstance(out, dict) else None
        if name not in available:
            raise _bad(f"unknown output: this model has {', '.join(available)}", "outputs", i)
        names.append(str(name))
    return names


async def _infer(request: Request, name: str, version: str | None) -> Response:
    bundle = _served(await current_bundle(request), name, version)
    svc = service(request)
    if request.headers.get("inference-header-content-length") is not None:
        raise UnsupportedMediaType(
            "the binary tensor data extension is not supported",
            hint="send tensor data as JSON (tritonclient: binary_data=False)",
        )
    media_type(request)
    doc = load_json(await read_body(request, svc.settings.max_body_bytes))
    columns, n = _columns(doc, bundle)
    outputs = _requested(doc, bundle)
    check_batch(n, svc.settings.max_batch)
    records = [{c: values[i] for c, values in columns.items()} for i in range(n)]
    rows = bundle.rows(validate_records(records, bundle, ("body",)))
    predictions, probabilities = await score(bundle, rows, "predict_proba" in outputs)
    log_predictions(svc, request, bundle, rows, predictions)
    meta = {o["name"]: o for o in _metadata(bundle)["outputs"]}
    tensors = []
    for out in outputs:
        if out == "predict":
            tensors.append(
                {"name": out, "datatype": meta[out]["datatype"], "shape": [n], "data": predictions}
            )
        else:
            width = len(bundle.classes or ())
            flat = [p for row in probabilities or () for p in row]
            tensors.append({"name": out, "datatype": "FP64", "shape": [n, width], "data": flat})
    answer: dict[str, Any] = {
        "model_name": bundle.name,
        "model_version": str(bundle.version),
        "outputs": tensors,
    }
    if isinstance(doc.get("id"), str):
        answer["id"] = doc["id"][:128]
    return json_response(200, answer, {VERSION_HEADER: bundle.version_header})
