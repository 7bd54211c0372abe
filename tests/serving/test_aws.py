"""The same requests through the Lambda handler (mangum), driven by real API Gateway HTTP
API (v2, with a stage), REST API (v1, with a stage) and Function URL event payloads."""

from __future__ import annotations

import base64
import copy
import json
import runpy
from pathlib import Path
from typing import Any

import pytest
from hookline.adapters.aws.serving import LambdaHandler, http_event_kind
from hookline.errors import UsageError

from .conftest import RECORD, Project, load_event

REPO = Path(__file__).resolve().parents[2]


def v2(
    method: str,
    path: str,
    body: Any = None,
    *,
    fixture: str = "apigw_http_v2.json",
    query: str = "",
    headers: dict[str, str] | None = None,
    b64: bool = False,
) -> dict:
    event = copy.deepcopy(load_event(fixture))
    stage = event["requestContext"]["stage"]
    full = path if stage == "$default" else f"/{stage}{path}"
    event["rawPath"] = full
    event["requestContext"]["http"]["path"] = full
    event["requestContext"]["http"]["method"] = method
    event["rawQueryString"] = query
    event["headers"].update(headers or {})
    _set_body(event, body, b64)
    return event


def v1(
    method: str,
    path: str,
    body: Any = None,
    *,
    query: dict | None = None,
    headers: dict[str, str] | None = None,
) -> dict:
    event = copy.deepcopy(load_event("apigw_rest_v1.json"))
    event["path"] = path
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["requestContext"]["path"] = f"/{event['requestContext']['stage']}{path}"
    event["pathParameters"] = {"proxy": path.lstrip("/")}
    if query:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    for k, v in (headers or {}).items():
        event["headers"][k] = v
        event["multiValueHeaders"][k] = [v]
    _set_body(event, body, False)
    return event


def _set_body(event: dict, body: Any, b64: bool) -> None:
    if body is None:
        event["body"] = None if "httpMethod" in event else ""
        return
    raw = json.dumps(body).encode()
    event["body"] = base64.b64encode(raw).decode() if b64 else raw.decode()
    event["isBase64Encoded"] = b64
    for name in list(event["headers"]):
        if name.lower() == "content-length":
            event["headers"][name] = str(len(raw))


@pytest.fixture
def handler(served: Project) -> LambdaHandler:
    return LambdaHandler(served.app(), base_path="")


def answer(result: dict) -> tuple[int, dict, Any]:
    body = result["body"]
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    try:
        return result["statusCode"], headers, json.loads(body)
    except ValueError:
        return result["statusCode"], headers, body


@pytest.mark.parametrize("fixture", ["apigw_http_v2.json", "function_url.json"])
def test_predict_through_v2_events(handler: LambdaHandler, fixture: str) -> None:
    status, headers, body = answer(handler(v2("POST", "/predict", RECORD, fixture=fixture), None))
    assert status == 200, body
    assert body["version"] == 1 and body["predictions"] == ["yes"]
    assert headers["x-hookline-model-version"] == "1"
    status, _, body = answer(
        handler(
            v2("POST", "/predict", [RECORD, RECORD], fixture=fixture, query="proba=true", b64=True),
            None,
        )
    )
    assert status == 200 and len(body["probabilities"]) == 2


def test_predict_through_rest_v1_with_stage(handler: LambdaHandler) -> None:
    status, headers, body = answer(
        handler(v1("POST", "/predict", RECORD, query={"proba": "true"}), None)
    )
    assert status == 200, body
    assert body["predictions"] == ["yes"] and body["classes"] == ["no", "yes"]
    assert headers["x-hookline-model-version"] == "1"
    status, _, body = answer(handler(v1("GET", "/health"), None))
    assert status == 200 and body["ready"] is True


@pytest.mark.parametrize(
    "make",
    [
        lambda: v2("POST", "/predict", {**RECORD, "plan": 7}),
        lambda: v1("POST", "/predict", {**RECORD, "plan": 7}),
        lambda: v2("POST", "/predict", {**RECORD, "plan": 7}, fixture="function_url.json"),
    ],
)
def test_errors_travel_unchanged(handler: LambdaHandler, make: Any) -> None:
    status, _, body = answer(handler(make(), None))
    assert status == 422 and body["detail"][0]["loc"] == ["body", "plan"]


def test_limits_through_lambda(handler: LambdaHandler) -> None:
    status, _, body = answer(handler(v2("POST", "/predict", [RECORD] * 51), None))
    assert status == 413 and "limit of 50" in body["detail"]


def test_stage_prefix_becomes_root_path_for_the_docs(handler: LambdaHandler) -> None:
    status, _, html = answer(handler(v2("GET", "/docs"), None))
    assert status == 200 and "/prod/openapi.json" in html
    status, _, html = answer(handler(v1("GET", "/docs"), None))
    assert status == 200 and "/prod/openapi.json" in html
    status, _, doc = answer(handler(v2("GET", "/openapi.json"), None))
    assert status == 200 and "Record" in doc["components"]["schemas"]


def test_custom_domain_base_path(served: Project) -> None:
    handler = LambdaHandler(served.app(), base_path="/ml")
    event = v2("GET", "/health", fixture="function_url.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/ml/health"
    assert answer(handler(event, None))[0] == 200
    event = v1("GET", "/ml/model")
    assert answer(handler(event, None))[2]["version"] == 1


def test_unknown_path_is_404(handler: LambdaHandler) -> None:
    assert answer(handler(v2("GET", "/nope"), None))[0] == 404


@pytest.mark.parametrize(
    "event",
    [
        load_event("s3_put.json"),
        {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}},
        {"key1": "value1"},
        "not even a dict",
    ],
)
def test_non_http_events_get_a_clear_error_and_never_reach_mangum(
    served: Project, event: Any
) -> None:
    handler = LambdaHandler(lambda: pytest.fail("the app must not be built"))  # type: ignore
    with pytest.raises(UsageError) as info:
        handler(event, None)
    assert "not an HTTP request" in str(info.value)
    assert "pipeline function" in str(info.value)
    assert handler._mangum is None
    assert http_event_kind(event) is None


def test_event_kinds() -> None:
    assert http_event_kind(load_event("apigw_http_v2.json")) == "v2"
    assert http_event_kind(load_event("function_url.json")) == "v2"
    assert http_event_kind(load_event("apigw_rest_v1.json")) == "v1"


def test_entry_file_builds_the_app_on_first_invocation(
    served: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKLINE_CONFIG", str(served.config_path))
    monkeypatch.delenv("HOOKLINE_API_KEYS", raising=False)
    module = runpy.run_path(str(REPO / "functions" / "aws_lambda" / "serving.py"))
    entry = module["handler"]
    assert entry._mangum is None  # nothing built at import
    status, _, body = answer(
        entry(v2("POST", "/predict", RECORD, fixture="function_url.json"), None)
    )
    assert status == 200 and body["version"] == 1
    status, _, body = answer(entry(v1("POST", "/predict", [RECORD]), None))
    assert status == 200 and body["predictions"] == ["yes"]


def test_entry_file_finds_the_bundled_config(
    served: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without $HOOKLINE_CONFIG, the hookline.toml next to the entry file is used."""
    import shutil

    monkeypatch.delenv("HOOKLINE_CONFIG", raising=False)
    monkeypatch.delenv("HOOKLINE_API_KEYS", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./hookline.toml here
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    shutil.copy(REPO / "functions" / "aws_lambda" / "serving.py", bundle / "serving.py")
    text = served.config_path.read_text().replace(
        'storage = "store"', f'storage = "{served.root / "store"}"'
    )
    (bundle / "hookline.toml").write_text(text)
    entry = runpy.run_path(str(bundle / "serving.py"))["handler"]
    status, _, body = answer(entry(v2("GET", "/health", fixture="function_url.json"), None))
    assert status == 200 and body["version"] == 1
