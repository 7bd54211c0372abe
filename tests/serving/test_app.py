"""The prediction app in-process: every endpoint and every error path."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from .conftest import FEATURES, RECORD, Project, fitted, training_frame

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def expected(records: list[dict], kind: str = "classifier", flip: bool = False) -> list:
    import pandas as pd

    frame = pd.DataFrame(records, columns=list(training_frame().columns))
    return fitted(kind, flip).predict(frame).tolist()


# --- health and readiness ---------------------------------------------------------------


def test_health_ready_names_the_version(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["ready"] is True and body["live"] is True
    assert body["version"] == 1 and body["model"] == "churn" and body["alias"] == "production"
    assert r.headers["x-hookline-model-version"] == "1"


def test_nothing_promoted_answers_503_saying_so(project: Project) -> None:
    project.register()  # registered but never promoted
    with TestClient(project.app()) as c:
        r = c.post("/predict", json=RECORD)
        assert r.status_code == 503
        assert "no model is promoted yet" in r.json()["detail"]
        assert "'production'" in r.json()["detail"] and "churn" in r.json()["detail"]
        assert "hookline models promote churn" in r.json()["hint"]
        assert r.headers["retry-after"] == "1"
        h = c.get("/health")
        assert h.status_code == 503 and h.json()["ready"] is False and h.json()["live"] is True
        assert "no model is promoted yet" in h.json()["detail"]
        assert c.get("/model").status_code == 503


# --- predictions ------------------------------------------------------------------------


def test_one_record(client: TestClient) -> None:
    r = client.post("/predict", json=RECORD)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "model": "churn",
        "version": 1,
        "alias": "production",
        "predictions": expected([RECORD]),
    }
    assert r.headers["x-hookline-model-version"] == "1"


def test_batch_matches_the_model_row_by_row(client: TestClient) -> None:
    frame = training_frame(20, seed=3).head(20)
    records = json.loads(frame.to_json(orient="records"))
    r = client.post("/predict", json=records)
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == expected(records)
    assert len(r.json()["predictions"]) == 20


def test_nullable_features_may_be_null_or_left_out(client: TestClient) -> None:
    rec = {k: v for k, v in RECORD.items() if k not in ("income", "signup channel")}
    r = client.post("/predict", json=[rec, {**RECORD, "income": None, "signup channel": None}])
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == expected(
        [rec, {**rec, "income": None, "signup channel": None}]
    )


@pytest.mark.parametrize("how", ["query", "body"])
def test_probabilities_when_asked(client: TestClient, how: str) -> None:
    if how == "query":
        r = client.post("/predict?proba=true", json=[RECORD, RECORD])
    else:
        r = client.post("/predict", json={"records": [RECORD, RECORD], "proba": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["classes"] == ["no", "yes"]
    import pandas as pd

    want = fitted().predict_proba(pd.DataFrame([RECORD] * 2)).tolist()
    assert [p for row in body["probabilities"] for p in row] == pytest.approx(
        [p for row in want for p in row]
    )
    assert body["predictions"] == expected([RECORD, RECORD])


def test_no_probabilities_unless_asked(client: TestClient) -> None:
    body = client.post("/predict?proba=false", json={"records": [RECORD]}).json()
    assert "probabilities" not in body and "classes" not in body


def test_regressor_predicts_and_refuses_probabilities(project: Project) -> None:
    project.promote(project.register(fitted("regressor"), task="regression"))
    with TestClient(project.app()) as c:
        r = c.post("/predict", json=RECORD)
        assert r.status_code == 200
        assert r.json()["predictions"] == pytest.approx(expected([RECORD], "regressor"))
        r = c.post("/predict?proba=1", json=RECORD)
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["query", "proba"]
        assert "regression" in r.json()["detail"][0]["msg"]


# --- 422: each names the field ------------------------------------------------------------

CASES = [
    ("unknown field", {**RECORD, "colour": "red"}, ["body", "colour"], "extra_forbidden"),
    ("missing field", {k: v for k, v in RECORD.items() if k != "age"}, ["body", "age"], "missing"),
    ("string for a number", {**RECORD, "income": "52"}, ["body", "income"], "float_type"),
    ("float for an integer", {**RECORD, "age": 31.5}, ["body", "age"], "int_type"),
    ("string for an integer", {**RECORD, "age": "31"}, ["body", "age"], "int_type"),
    ("bool for an integer", {**RECORD, "age": True}, ["body", "age"], "int_type"),
    ("number for a boolean", {**RECORD, "active": 1}, ["body", "active"], "bool_type"),
    (
        "number for a string",
        {**RECORD, "signup channel": 3},
        ["body", "signup channel"],
        "string_type",
    ),
    ("null for a required field", {**RECORD, "plan": None}, ["body", "plan"], "string_type"),
    ("integer out of int64", {**RECORD, "age": 2**70}, ["body", "age"], "less_than_equal"),
]


@pytest.mark.parametrize(("case", "record", "loc", "kind"), CASES, ids=[c[0] for c in CASES])
def test_invalid_record_gets_422_naming_the_field(
    client: TestClient, case: str, record: dict, loc: list, kind: str
) -> None:
    r = client.post("/predict", json=record)
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    assert [e["loc"] for e in errors] == [loc]
    assert errors[0]["type"] == kind
    assert loc[-1] in r.json()["message"]
    assert r.headers["x-hookline-model-version"] == "1"


def test_an_unseen_category_is_scored_as_the_model_scores_it(client: TestClient) -> None:
    # the fixture's one-hot encoder has handle_unknown="ignore": the model takes it
    r = client.post("/predict", json={**RECORD, "plan": "gold"})
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == expected([{**RECORD, "plan": "gold"}])


def test_error_in_a_batch_names_the_record_and_field(client: TestClient) -> None:
    r = client.post("/predict", json=[RECORD, {**RECORD, "age": "old"}, RECORD])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", 1, "age"]
    assert r.json()["message"].startswith("1.age: ")


def test_values_are_not_echoed_in_errors(client: TestClient) -> None:
    r = client.post("/predict", json={**RECORD, "plan": "secret-value-123"})
    assert "secret-value-123" not in r.text


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "malformed JSON"),
        (b'{"age": NaN}', "malformed JSON"),
        (b"42", "expected a record"),
        (b"[]", "no record"),
        (b'{"records": {"age": 1}}', "list of records"),
        (b'{"records": [], "proba": "yes"}', "true or false"),
    ],
)
def test_malformed_bodies_get_422(client: TestClient, body: bytes, fragment: str) -> None:
    r = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert fragment in r.json()["message"]


def test_bad_proba_query_gets_422(client: TestClient) -> None:
    r = client.post("/predict?proba=maybe", json=RECORD)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "proba"]


# --- 500: a bug ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/predict", "/invocations", "/v2/models/churn/infer"])
def test_a_bug_is_a_500_with_only_the_request_id(
    served: Project, path: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from hookline.adapters.serving._loader import ModelBundle

    secret = f"{served.root}/store/registry/churn/v1/model.skops"

    def broken(self, rows, proba):  # a bug in the predictor, quoting a storage path
        raise RuntimeError(secret)  # (a ValueError, KeyError... is the model refusing: 422)

    monkeypatch.setattr(ModelBundle, "predict", broken)
    body: object = RECORD
    if path == "/invocations":
        body = {"dataframe_records": [RECORD]}
    elif path.startswith("/v2/"):
        from .test_protocols import v2_body

        body = v2_body([RECORD])
    with TestClient(served.app()) as c, caplog.at_level("ERROR", logger="hookline.http"):
        r = c.post(path, json=body, headers={"X-Request-Id": "req-bug-1"})
    assert r.status_code == 500, r.text
    assert r.headers["x-request-id"] == "req-bug-1"
    assert "internal error (request req-bug-1)" in r.text
    assert str(served.root) not in r.text and "RuntimeError" not in r.text
    assert "Traceback" not in r.text
    [logged] = [rec for rec in caplog.records if rec.name == "hookline.http"]
    assert "req-bug-1" in logged.getMessage() and path in logged.getMessage()
    assert logged.exc_info and logged.exc_info[0] is RuntimeError  # its traceback is logged


# --- 413: the limits ----------------------------------------------------------------------


def test_batch_over_the_limit_gets_413_stating_it(client: TestClient) -> None:
    r = client.post("/predict", json=[RECORD] * 51)
    assert r.status_code == 413
    assert "51 records" in r.json()["detail"] and "limit of 50" in r.json()["detail"]
    assert "serving.max_batch" in r.json()["detail"]
    assert client.post("/predict", json=[RECORD] * 50).status_code == 200


def test_body_over_the_limit_gets_413_stating_it(client: TestClient) -> None:
    body = json.dumps([RECORD] * 40 + [{**RECORD, "signup channel": "x" * 20000}]).encode()
    r = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert f"{len(body)} bytes" in r.json()["detail"]
    assert "limit of 20000 bytes" in r.json()["detail"]
    assert "serving.max_body_bytes" in r.json()["detail"]


def test_streamed_body_over_the_limit_is_cut_off(client: TestClient) -> None:
    def chunks():  # no content-length: chunked transfer
        for _ in range(30):
            yield b" " * 1000

    r = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "limit of 20000 bytes" in r.json()["detail"]


# --- /model and OpenAPI -------------------------------------------------------------------


def test_model_metadata(client: TestClient) -> None:
    r = client.get("/model")
    assert r.status_code == 200
    body = r.json()
    assert body["model"] == "churn" and body["version"] == 1 and body["alias"] == "production"
    assert body["task"] == "classification" and body["target"] == "churned"
    assert body["metrics"] == {"accuracy": 0.9}
    assert body["lineage"]["source"] == "s3://b/landing/train/x.csv"
    assert body["classes"] == ["no", "yes"]
    assert [f["name"] for f in body["features"]] == list(FEATURES)
    assert body["features"][2] == {
        "name": "plan",
        "dtype": "string",
        "nullable": False,
        "categories": ["basic", "pro", "team"],
    }
    assert r.headers["x-hookline-model-version"] == "1"


def test_openapi_shows_the_real_fields(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    record = doc["components"]["schemas"]["Record"]
    assert list(record["properties"]) == list(FEATURES)
    assert record["required"] == ["age", "plan", "active"]
    assert record["additionalProperties"] is False
    assert record["properties"]["plan"]["examples"] == ["basic", "pro", "team"]
    assert "enum" not in record["properties"]["plan"]  # unseen categories go to the model
    assert record["properties"]["age"]["type"] == "integer"
    body = doc["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    assert {"$ref": "#/components/schemas/Record"} in body["schema"]["anyOf"]
    assert body["example"]["plan"] == "basic"
    assert doc["info"]["x-hookline-model"]["version"] == 1
    assert "securitySchemes" not in doc["components"]
    assert client.get("/docs").status_code == 200


def test_docs_can_be_switched_off(tmp_path) -> None:
    from .conftest import make_project

    p = make_project(tmp_path / "p", extra="docs = false")
    p.promote(p.register())
    with TestClient(p.app()) as c:
        assert c.get("/openapi.json").status_code == 404
        assert c.get("/docs").status_code == 404
        assert c.post("/predict", json=RECORD).status_code == 200


# --- refusing models ----------------------------------------------------------------------


def test_a_pickle_is_never_loaded(project: Project) -> None:
    mv = project.registry.register(
        "churn", {"model.skops": pickle.dumps({"a": 1})}, {"features": FEATURES}
    )
    project.promote(mv.version)
    with TestClient(project.app()) as c:
        r = c.post("/predict", json=RECORD)
        assert r.status_code == 503
        assert "pickle" in r.json()["detail"] and "version 1" in r.json()["detail"]


def test_a_tampered_artifact_is_refused(project: Project) -> None:
    version = project.register()
    key = f"registry/churn/versions/{version:06d}/model.skops"
    data = bytearray(project.storage.read(key))
    data[-10] ^= 0xFF
    project.storage.write(key, bytes(data))
    project.promote(version)
    with TestClient(project.app()) as c:
        r = c.get("/health")
        assert r.status_code == 503
        assert "checksum mismatch" in r.json()["detail"]


def test_a_version_without_feature_schema_is_refused(project: Project) -> None:
    mv = project.registry.register_estimator("churn", fitted(), {"task": "classification"})
    project.promote(mv.version)
    with TestClient(project.app()) as c:
        r = c.post("/predict", json=RECORD)
        assert r.status_code == 503
        assert "no 'features' schema" in r.json()["detail"]


# --- cold start ---------------------------------------------------------------------------


def test_importing_serving_and_entry_files_stays_light() -> None:
    code = (
        "import sys, runpy\n"
        "import hookline.adapters.serving, hookline.adapters.serving.cli\n"
        "runpy.run_path('functions/aws_lambda/serving.py')\n"
        "heavy = [m for m in ('pandas', 'sklearn', 'fastapi', 'numpy', 'boto3') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "import hookline.adapters.serving.app\n"
        "assert 'fastapi' in sys.modules\n"
        "assert 'pandas' not in sys.modules and 'sklearn' not in sys.modules, 'pandas at import'\n"
    )
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_an_integral_number_is_an_integer(client: TestClient) -> None:
    r = client.post("/predict", json={**RECORD, "age": 31.0})
    assert r.status_code == 200 and r.json()["predictions"] == expected([RECORD])
