"""The protocols clients already speak, beside /predict: MLflow's scoring protocol
(``/invocations``, ``/ping``; payloads as MLflow's documentation gives them) and the Open
Inference Protocol v2 (driven by Triton's own HTTP client, ``tritonclient``, against the app
served by uvicorn on loopback). The answers equal the model's own predictions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ._server import free_port, server
from .conftest import FEATURES, RECORD, Project, fitted, training_frame

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HOOKLINE = str(Path(sys.executable).parent / "hookline")
OTHER = {"age": 70, "income": None, "plan": "team", "active": False, "signup channel": None}


def expected(records: list[dict], proba: bool = False) -> Any:
    import pandas as pd

    frame = pd.DataFrame(records, columns=list(training_frame().columns))
    model = fitted()
    return model.predict_proba(frame).tolist() if proba else model.predict(frame).tolist()


# --- MLflow ----------------------------------------------------------------------------------

NAMES = list(FEATURES)
ROWS = [[RECORD[n] for n in NAMES], [OTHER[n] for n in NAMES]]
MLFLOW_BODIES = {
    "dataframe_split": {"dataframe_split": {"columns": NAMES, "data": ROWS}},
    "dataframe_split with index": {
        "dataframe_split": {"index": [0, 1], "columns": NAMES, "data": ROWS}
    },
    "dataframe_records": {"dataframe_records": [RECORD, OTHER]},
    "instances (records)": {"instances": [RECORD, OTHER]},
    "instances (rows)": {"instances": ROWS},
    "inputs (columns)": {"inputs": {n: [RECORD[n], OTHER[n]] for n in NAMES}},
    "inputs (records)": {"inputs": [RECORD, OTHER]},
}


@pytest.mark.parametrize("form", list(MLFLOW_BODIES))
def test_invocations_takes_every_mlflow_json_format(client: TestClient, form: str) -> None:
    r = client.post("/invocations", json=MLFLOW_BODIES[form])
    assert r.status_code == 200, r.text
    assert r.json() == {"predictions": expected([RECORD, OTHER])}
    assert r.headers["x-hookline-model-version"] == "1"


def test_invocations_takes_csv_as_pandas_writes_it(client: TestClient) -> None:
    import pandas as pd

    body = pd.DataFrame([RECORD, OTHER], columns=NAMES).to_csv(index=False)
    r = client.post("/invocations", content=body, headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json() == {"predictions": expected([RECORD, OTHER])}
    with_index = pd.DataFrame([RECORD, OTHER], columns=NAMES).to_csv()  # a leading index
    r = client.post(
        "/invocations", content=with_index, headers={"content-type": "text/csv; charset=utf-8"}
    )
    assert r.status_code == 200 and r.json()["predictions"] == expected([RECORD, OTHER])


def test_ping_answers_once_a_model_is_loaded(client: TestClient, tmp_path: Path) -> None:
    from .conftest import make_project

    assert client.get("/ping").status_code == 200
    with TestClient(make_project(tmp_path / "empty").app()) as empty:  # nothing promoted
        r = empty.get("/ping")
        assert r.status_code == 503


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"dataframe_records": [RECORD], "instances": [RECORD]}, "exactly one of"),
        ([RECORD], "exactly one of"),
        ({"dataframe_split": {"columns": NAMES, "data": [[1, 2]]}}, "row of 5 values"),
        ({"dataframe_records": [{**RECORD, "age": "old"}]}, "age"),
        ({"inputs": {"age": [1, 2], "plan": ["pro"]}}, "all of one length"),
        ({"dataframe_records": [RECORD], "params": {"k": 1}}, "takes no params"),
    ],
)
def test_invocations_errors_are_mlflows_shape(client: TestClient, body: Any, words: str) -> None:
    r = client.post("/invocations", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error_code"] == "BAD_REQUEST" and words in r.json()["message"]


def test_invocations_refuses_other_content_types(client: TestClient) -> None:
    r = client.post("/invocations", content=b"<x/>", headers={"content-type": "application/xml"})
    assert r.status_code == 415 and r.json()["error_code"] == "BAD_REQUEST"
    r = client.post(
        "/invocations", content=b"{}", headers={"content-type": "application/json; charset=latin-1"}
    )
    assert r.status_code == 415


def test_invocations_needs_the_key_when_keys_are_set(served: Project) -> None:
    with TestClient(served.app(environ={"HOOKLINE_API_KEYS": "k1"})) as c:
        body = MLFLOW_BODIES["dataframe_records"]
        r = c.post("/invocations", json=body)
        assert r.status_code == 401 and r.json()["error_code"] == "UNAUTHENTICATED"
        assert c.post("/invocations", json=body, headers={"X-API-Key": "k1"}).status_code == 200
        assert c.get("/ping").status_code == 200  # a probe, open like /health


# --- Open Inference Protocol v2 ------------------------------------------------------------


def v2_body(records: list[dict], outputs: list[str] | None = None) -> dict[str, Any]:
    types = {"integer": "INT64", "number": "FP64", "string": "BYTES", "boolean": "BOOL"}
    body: dict[str, Any] = {
        "id": "req-1",
        "inputs": [
            {
                "name": n,
                "shape": [len(records)],
                "datatype": types[spec["dtype"]],
                "data": [r.get(n) for r in records],
            }
            for n, spec in FEATURES.items()
        ],
    }
    if outputs is not None:
        body["outputs"] = [{"name": o} for o in outputs]
    return body


def test_v2_health_metadata_and_infer_as_the_spec_writes_them(client: TestClient) -> None:
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get("/v2").json()["name"] == "hookline"
    meta = client.get("/v2/models/churn").json()
    assert meta["name"] == "churn" and meta["versions"] == ["1"]
    assert [i["name"] for i in meta["inputs"]] == list(FEATURES)
    assert {o["name"] for o in meta["outputs"]} == {"predict", "predict_proba"}
    assert client.get("/v2/models/churn/versions/1").json() == meta
    assert client.get("/v2/models/churn/ready").json() == {"name": "churn", "ready": True}
    r = client.post("/v2/models/churn/versions/1/infer", json=v2_body([RECORD, OTHER]))
    assert r.status_code == 200, r.text
    out = {o["name"]: o for o in r.json()["outputs"]}
    assert r.json()["id"] == "req-1" and r.json()["model_version"] == "1"
    assert out["predict"] == {
        "name": "predict",
        "datatype": "BYTES",
        "shape": [2],
        "data": expected([RECORD, OTHER]),
    }
    proba = expected([RECORD, OTHER], proba=True)
    assert out["predict_proba"]["shape"] == [2, 2]
    assert out["predict_proba"]["data"] == pytest.approx([p for row in proba for p in row])
    only = client.post("/v2/models/churn/infer", json=v2_body([RECORD], ["predict"])).json()
    assert [o["name"] for o in only["outputs"]] == ["predict"]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v2/models/other/infer", v2_body([RECORD]), 404),
        ("/v2/models/churn/versions/7/infer", v2_body([RECORD]), 404),
        ("/v2/models/churn/infer", {"inputs": "x"}, 422),
        ("/v2/models/churn/infer", {**v2_body([RECORD]), "outputs": [{"name": "x"}]}, 422),
        (
            "/v2/models/churn/infer",
            {"inputs": [{"name": "age", "shape": [2], "datatype": "INT64", "data": [1]}]},
            422,
        ),
        (
            "/v2/models/churn/infer",
            {"inputs": [{"name": "age", "shape": [1], "datatype": "BYTES", "data": ["1"]}]},
            422,
        ),
    ],
)
def test_v2_errors_are_the_specs_shape(
    client: TestClient, path: str, body: Any, status: int
) -> None:
    r = client.post(path, json=body)
    assert r.status_code == status, r.text
    assert set(r.json()) == {"error"} and r.json()["error"]


def test_v2_with_tritons_own_client_over_http(served: Project) -> None:
    """``tritonclient.http`` against ``hookline serve`` (uvicorn) on loopback."""
    np = pytest.importorskip("numpy")
    httpclient = pytest.importorskip("tritonclient.http")
    port = free_port()
    argv = [HOOKLINE, "serve", "--config", str(served.config_path), "--port", str(port)]
    with server(argv, port, {"HOOKLINE_API_KEYS": "tk"}):
        client = httpclient.InferenceServerClient(url=f"127.0.0.1:{port}")
        auth = {"X-API-Key": "tk"}
        assert client.is_server_live() and client.is_server_ready()
        assert client.is_model_ready("churn", headers=auth)
        meta = client.get_model_metadata("churn", headers=auth)
        assert meta["versions"] == ["1"]
        records = [RECORD, {**OTHER, "income": 61.5, "signup channel": "shop"}]  # JSON has no NaN
        inputs = []
        for spec in meta["inputs"]:
            values = [r[spec["name"]] for r in records]
            if spec["datatype"] == "BYTES":
                array = np.array([v.encode() for v in values], dtype=object)
            elif spec["datatype"] == "FP64":
                array = np.array(values, dtype=np.float64)
            elif spec["datatype"] == "BOOL":
                array = np.array(values, dtype=bool)
            else:
                array = np.array(values, dtype=np.int64)
            tensor = httpclient.InferInput(spec["name"], [len(records)], spec["datatype"])
            tensor.set_data_from_numpy(array, binary_data=False)
            inputs.append(tensor)
        outputs = [httpclient.InferRequestedOutput(o, binary_data=False) for o in OUTPUTS]
        result = client.infer("churn", inputs, outputs=outputs, headers=auth)
        blanks = [
            {
                k: (v if v is not None else ("" if isinstance(RECORD[k], str) else v))
                for k, v in r.items()
            }
            for r in records
        ]
        got = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("predict")]
        assert got == expected(blanks)
        assert result.as_numpy("predict_proba").shape == (2, 2)
        with pytest.raises(Exception, match="401|API key"):
            client.infer("churn", inputs)


OUTPUTS = ("predict", "predict_proba")


# --- what every route refuses the same way ---------------------------------------------------


@pytest.mark.parametrize("path", ["/predict", "/invocations", "/v2/models/churn/infer"])
def test_json_nested_deeper_than_the_limit_is_400(client: TestClient, path: str) -> None:
    for depth in (40, 100_000):
        body = b"[" * depth + b"]" * depth
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code in (400, 413), (depth, r.text)
        if r.status_code == 400:
            assert "nested" in r.text
    wrapped = json.dumps(
        {
            "records": [
                {"age": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}
            ]
        }
    )
    r = client.post("/predict", content=wrapped, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "nested more than 32" in r.json()["detail"]


@pytest.mark.parametrize("kind", ["text/plain", "application/xml", "multipart/form-data"])
def test_unsupported_content_types_are_415(client: TestClient, kind: str) -> None:
    r = client.post("/predict", content=json.dumps(RECORD), headers={"content-type": kind})
    assert r.status_code == 415 and "application/json" in r.json()["hint"]


def test_error_bodies_are_bounded_and_do_not_echo_values(client: TestClient) -> None:
    secret = "4111-1111-1111-1111"
    batch = [{**RECORD, "age": secret, "plan": 5, "x" * 500: 1}] * 900
    r = client.post("/predict", json=batch[:20])  # 60 errors
    assert r.status_code == 422 and len(r.json()["detail"]) == 50  # the first 50 errors
    assert len(r.content) < 16_000 and secret not in r.text and "x" * 65 not in r.text
    r = client.post("/invocations", json={"dataframe_records": batch[:20]})
    assert r.status_code == 400 and secret not in r.text and len(r.content) < 4_000


def test_request_ids_are_checked_and_sent_back(client: TestClient) -> None:
    r = client.post("/predict", json=RECORD, headers={"x-request-id": "order-42:try.1"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "order-42:try.1"
    assert len(client.post("/predict", json=RECORD).headers["x-request-id"]) == 32
    for bad in ("a b", "x" * 129, "../etc", "=cmd|' /C calc'!A0"):
        r = client.post("/predict", json=RECORD, headers={"x-request-id": bad})
        assert r.status_code == 400 and "X-Request-Id" in r.json()["detail"], bad
