"""docs/serving.md: its configuration, Python sample, request bodies and curl commands are
run -- the local ones against a live ``hookline serve``, the cloud ones replayed through the
same adapter code the cloud runs (mangum for AWS URLs, the /api-prefix handling for Azure)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from hookline.adapters.aws.serving import LambdaHandler
from hookline.adapters.azure.serving import strip_route_prefix
from hookline.config import parse_config

from ._server import free_port, server
from .conftest import Project

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DOC = Path(__file__).resolve().parents[2] / "docs" / "serving.md"
TEXT = DOC.read_text()


def blocks(lang: str, text: str = TEXT) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def section(title: str) -> str:
    start = TEXT.index(title)
    end = TEXT.find("\n#", start + len(title))
    return TEXT[start : end if end > 0 else None]


def test_the_configuration_sample_validates() -> None:
    import tomllib

    (sample,) = blocks("toml")
    config = parse_config(tomllib.loads(sample), source="docs/serving.md")
    assert config.section("serving")["prediction_log"]["sample_rate"] == 0.1
    from hookline.adapters.serving._settings import ServingSettings

    settings = ServingSettings.from_config(config)
    assert settings.model == "churn" and settings.prediction_log is not None


def test_the_python_sample_builds_the_app(served: Project, monkeypatch) -> None:
    (sample,) = blocks("python", TEXT.split("\n## ONNX")[0])  # the ONNX sample: test_onnx_runtime
    monkeypatch.chdir(served.root)
    monkeypatch.delenv("HOOKLINE_API_KEYS", raising=False)
    namespace: dict[str, Any] = {}
    exec(sample, namespace)
    with TestClient(namespace["app"]) as c:
        assert c.get("/health").json()["version"] == 1


def test_the_request_bodies_are_accepted(served: Project) -> None:
    bodies = blocks("json", section("### The request"))
    assert len(bodies) == 3
    with TestClient(served.app()) as c:
        for body in bodies:
            r = c.post("/predict", content=body, headers={"content-type": "application/json"})
            assert r.status_code == 200, (body, r.text)


def curl_lines(title: str) -> list[str]:
    return [
        line
        for block in blocks("bash", section(title))
        for line in block.splitlines()
        if line.startswith("curl ")
    ]


def test_local_commands_against_hookline_serve(served: Project) -> None:
    (block,) = blocks("bash", section("### On your own machine"))
    serve = next(line for line in block.splitlines() if line.startswith("hookline serve"))
    port = free_port()
    argv = shlex.split(
        serve.replace("hookline.toml", str(served.config_path)).replace("8000", str(port))
    )
    argv[0] = str(Path(sys.executable).parent / "hookline")
    lines = curl_lines("### On your own machine")
    assert len(lines) == 3
    with server(argv, port, {"HOOKLINE_API_KEYS": ""}) as base:
        for line in lines:
            command = line.replace("http://localhost:8000", base)
            out = subprocess.run(
                ["bash", "-c", command], capture_output=True, text=True, check=True, timeout=60
            ).stdout
            answer = json.loads(out)
            assert answer["version"] == 1, answer
            if "/predict" in line:
                assert answer["predictions"] == ["yes"] and answer["classes"] == ["no", "yes"]


def parse_curl(line: str) -> dict[str, Any]:
    line = re.sub(r"\$\([^)]*\)", "identity-token", line)
    line = re.sub(r"\$[A-Z_]+", "x", line)
    words = shlex.split(line)[1:]
    out: dict[str, Any] = {"method": "GET", "headers": {}, "data": None, "url": None}
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-X":
            out["method"], i = words[i + 1], i + 2
        elif word == "-H":
            name, _, value = words[i + 1].partition(":")
            out["headers"][name.strip()] = value.strip()
            i += 2
        elif word == "-d":
            out["data"], i = words[i + 1], i + 2
            if out["method"] == "GET":
                out["method"] = "POST"
        elif word in ("--aws-sigv4", "--user"):
            i += 2
        elif word == "-s":
            i += 1
        else:
            out["url"], i = word, i + 1
    return out


@pytest.fixture
def keyed(served: Project) -> Any:
    return served.app(environ={"HOOKLINE_API_KEYS": "my-key"})


def check(status: int, body: Any) -> None:
    assert status == 200, body
    assert body["version"] == 1


def test_aws_commands_through_the_lambda_handler(keyed: Any) -> None:
    from .test_aws import answer, v2

    handler = LambdaHandler(keyed, base_path="")
    lines = curl_lines("### AWS Lambda")
    assert len(lines) == 3
    for line in lines:
        req = parse_curl(line)
        url = urlsplit(req["url"])
        fixture = "function_url.json" if "lambda-url" in url.netloc else "apigw_http_v2.json"
        path = url.path
        if fixture == "apigw_http_v2.json":
            assert path.startswith("/prod/")
            path = path[len("/prod") :]
        event = v2(
            req["method"],
            path,
            json.loads(req["data"]),
            fixture=fixture,
            query=url.query,
            headers={k.lower(): v for k, v in req["headers"].items()},
        )
        status, _, body = answer(handler(event, None))
        check(status, body)


@pytest.mark.parametrize("title", ["### Google Cloud Run functions", "### Azure Functions"])
def test_gcp_and_azure_commands(served: Project, keyed: Any, title: str) -> None:
    lines = curl_lines(title)
    assert len(lines) == 2
    for line in lines:
        req = parse_curl(line)
        app = keyed if "X-API-Key" in req["headers"] else served.app()  # cloud auth only
        url = urlsplit(req["url"])
        path = url.path
        if url.netloc.endswith("cloudfunctions.net"):
            path = "/" + path.split("/", 2)[2]  # the function name is not in the app's path
        with TestClient(strip_route_prefix(app), base_url="https://testserver") as c:
            r = c.request(
                req["method"],
                path + (f"?{url.query}" if url.query else ""),
                content=req["data"],
                headers=req["headers"],
            )
        check(r.status_code, r.json())


def test_documented_env_and_settings_exist() -> None:
    from hookline.adapters.serving.config import SECTION as SERVING

    documented = set(re.findall(r"^(\w+) = ", blocks("toml")[0].split("[serving]")[1], flags=re.M))
    assert documented <= set(SERVING) | {
        "sample_rate",
        "prefix",
        "batch_size",
        "max_age_seconds",
        "max_buffer",
    }
    if "[serving.prediction_log]" in blocks("toml")[0]:
        documented.add("prediction_log")
    assert set(SERVING) <= documented, "every [serving] key is documented"
    for name in (
        "HOOKLINE_API_KEYS_SECRET",
        "HOOKLINE_HTTP_AUTH_LEVEL",
        "HOOKLINE_API_BASE_PATH",
        "HOOKLINE_ROLE",
        "HOOKLINE_CONFIG",
    ):
        assert name in TEXT
    assert os.path.exists(DOC)


def test_protocol_commands_against_hookline_serve(served: Project) -> None:
    """The curl lines of "Other protocols" (MLflow and the Open Inference Protocol), run by
    bash against a live ``hookline serve``, and the documented v2 answer's shape."""
    lines = curl_lines("### MLflow's scoring protocol") + curl_lines(
        "### The Open Inference Protocol (v2)"
    )
    assert len(lines) == 6
    port = free_port()
    argv = [str(Path(sys.executable).parent / "hookline"), "serve", "--config"]
    argv += [str(served.config_path), "--port", str(port)]
    (documented,) = blocks("json", section("### The Open Inference Protocol (v2)"))
    with server(argv, port, {"HOOKLINE_API_KEYS": ""}) as base:
        for line in lines:
            command = line.replace("http://localhost:8000", base)
            out = subprocess.run(
                ["bash", "-c", command], capture_output=True, text=True, check=True, timeout=60
            ).stdout
            answer = json.loads(out)
            if "/invocations" in line:
                assert answer == {"predictions": ["yes"]}, (line, answer)
            elif line.endswith("/v2/models/churn"):
                assert answer["name"] == "churn" and answer["versions"] == ["1"]
            else:
                want = json.loads(documented)
                assert set(answer) == set(want) and answer["id"] == want["id"]
                assert [o["name"] for o in answer["outputs"]] == ["predict", "predict_proba"]
                assert answer["outputs"][0]["data"] == want["outputs"][0]["data"]
