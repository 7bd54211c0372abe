"""MLflow's scoring protocol: ``POST /invocations`` and ``GET /ping``, so clients written
for ``mlflow models serve`` (or MLflow's deployment clients) score against hookline.

``/invocations`` takes ``application/json`` with exactly one of

* ``dataframe_split``: ``{"columns": [...], "data": [[...], ...]}`` (pandas' split orient;
  ``index`` is ignored);
* ``dataframe_records``: ``[{"col": value, ...}, ...]``;
* ``instances``: a list of records, or of rows in the feature order of ``GET /model``;
* ``inputs``: ``{"col": [values...], ...}`` (columns), or a list as for ``instances``;

or ``text/csv`` with a header row. The answer is ``{"predictions": [...]}``; errors are
MLflow's ``{"error_code": "BAD_REQUEST", "message": "..."}`` (bad input is 400, as in
MLflow). Records are validated against the same schema as ``/predict``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Depends
from hookline.adapters.serving._loader import ModelBundle
from hookline.adapters.serving._request import (
    InvalidRecords,
    check_batch,
    load_json,
    media_type,
    read_body,
    validate_records,
)
from hookline.adapters.serving._schema import FeatureSchema
from hookline.adapters.serving._service import (
    VERSION_HEADER,
    authorised,
    current_bundle,
    json_response,
    service,
)
from hookline.adapters.serving.routes.predict import log_predictions, score
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["FORMATS", "records_from_csv", "records_from_json", "router"]

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
router = APIRouter()


@router.get("/ping", summary="MLflow's health check: 200 once a verified model is loaded")
async def ping(request: Request) -> Response:
    holder = service(request).holder
    if holder.get_nowait() is None:
        await current_bundle(request)  # loads, or answers 503 saying why
    return Response("\n", 200, media_type="application/json")


@router.post(
    "/invocations",
    summary="Score with MLflow's scoring protocol (JSON or CSV)",
    dependencies=[Depends(authorised)],
)
async def invocations(request: Request, bundle: ModelBundle = Depends(current_bundle)) -> Response:
    svc = service(request)
    kind = media_type(request, ("application/json", "text/csv"))
    body = await read_body(request, svc.settings.max_body_bytes)
    if kind == "text/csv":
        records: list[Any] = records_from_csv(body, bundle.schema)
    else:
        records = records_from_json(load_json(body), bundle.schema)
    check_batch(len(records), svc.settings.max_batch)
    rows = bundle.rows(validate_records(records, bundle, ("body",)))
    predictions, _ = await score(bundle, rows, False)
    log_predictions(svc, request, bundle, rows, predictions)
    return json_response(200, {"predictions": predictions}, {VERSION_HEADER: bundle.version_header})


def _bad(msg: str, *loc: str | int) -> InvalidRecords:
    return InvalidRecords.one(("body", *loc), msg, "mlflow_format")


def records_from_json(doc: Any, schema: FeatureSchema) -> list[Any]:
    """The records of an MLflow JSON body (values not yet validated)."""
    if not isinstance(doc, dict):
        raise _bad(f"expected a JSON object with exactly one of {', '.join(FORMATS)}")
    present = [k for k in FORMATS if k in doc]
    unknown = sorted(set(doc) - {*FORMATS, "params"})
    if len(present) != 1 or unknown:
        raise _bad(f"expected exactly one of {', '.join(FORMATS)} (and optionally params)")
    if doc.get("params"):
        raise _bad("this model takes no params", "params")
    key = present[0]
    data = doc[key]
    if key == "dataframe_split":
        return _from_split(data, schema)
    if key == "dataframe_records":
        if not isinstance(data, list):
            raise _bad("expected a list of records", key)
        return data
    if key == "inputs" and isinstance(data, dict):
        return _from_columns(data)
    return _from_instances(data, schema, key)


def _from_split(data: Any, schema: FeatureSchema) -> list[Any]:
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise _bad('expected {"columns": [...], "data": [[...], ...]}', "dataframe_split")
    columns = data.get("columns", list(schema.names))
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise _bad("columns: expected a list of column names", "dataframe_split", "columns")
    out = []
    for i, row in enumerate(data["data"]):
        if not isinstance(row, list) or len(row) != len(columns):
            raise _bad(f"expected a row of {len(columns)} values", "dataframe_split", "data", i)
        out.append(dict(zip(columns, row, strict=True)))
    return out


def _from_columns(data: Mapping[str, Any]) -> list[Any]:
    lengths = {len(v) if isinstance(v, list) else -1 for v in data.values()}
    if len(lengths) != 1 or -1 in lengths:
        raise _bad("expected a list of values per column, all of one length", "inputs")
    (n,) = lengths
    return [{name: values[i] for name, values in data.items()} for i in range(n)]


def _from_instances(data: Any, schema: FeatureSchema, key: str) -> list[Any]:
    if not isinstance(data, list):
        raise _bad("expected a list of records or rows", key)
    names = schema.names
    out: list[Any] = []
    for i, item in enumerate(data):
        if isinstance(item, dict):
            out.append(item)
        elif isinstance(item, list) and len(item) == len(names):
            out.append(dict(zip(names, item, strict=True)))
        elif len(names) == 1 and not isinstance(item, dict | list):
            out.append({names[0]: item})
        else:
            raise _bad(f"expected a record or a row of {len(names)} values", key, i)
    return out


_BOOLS = {"true": True, "1": True, "false": False, "0": False}


def _cell(text: str, dtype: str) -> Any:
    """A CSV cell as the JSON value its feature's type takes (empty: missing)."""
    if text == "":
        return None
    if dtype == "string":
        return text
    if dtype == "boolean":
        return _BOOLS.get(text.strip().lower(), text)
    try:
        number = float(text)
    except ValueError:
        return text  # refused by validation, naming the field
    if dtype == "integer" and number.is_integer():
        return int(number)
    return number


def records_from_csv(body: bytes, schema: FeatureSchema) -> list[Any]:
    """The records of a CSV body with a header row (``pandas.DataFrame.to_csv`` output;
    a leading unnamed index column is dropped)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad("the CSV body is not UTF-8") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise _bad("the CSV body has no header row")
    skip_index = header[0] == "" and "" not in schema.names
    columns: Sequence[str] = header[1:] if skip_index else header
    dtypes = {f.name: f.dtype for f in schema.features}
    out = []
    for i, row in enumerate(reader):
        cells = row[1:] if skip_index else row
        if len(cells) != len(columns):
            raise _bad(f"expected {len(columns)} values", i)
        out.append(
            {c: _cell(v, dtypes.get(c, "string")) for c, v in zip(columns, cells, strict=True)}
        )
    return out
