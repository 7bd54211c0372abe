"""The prediction service through functions-framework, started as a real server process,
with HTTP requests over the network."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ._server import free_port, request, server
from .conftest import RECORD, Project

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("asgi_flag", [True, False], ids=["--asgi", "auto-detected"])
def test_functions_framework_serves_the_app(served: Project, asgi_flag: bool) -> None:
    port = free_port()
    argv = [
        str(BIN / "functions-framework"),
        "--target",
        "serving",
        "--source",
        "functions/gcp_functions/main.py",
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
    ]
    if asgi_flag:
        argv.append("--asgi")
    env = {"HOOKLINE_CONFIG": str(served.config_path), "HOOKLINE_API_KEYS": "k1,k2"}
    with server(argv, port, env) as base:
        status, headers, body = request(base + "/health")
        assert status == 200 and body["version"] == 1
        status, headers, body = request(
            base + "/predict?proba=true", [RECORD, RECORD], headers={"X-API-Key": "k2"}
        )
        assert status == 200, body
        assert body["predictions"] == ["yes", "yes"] and body["classes"] == ["no", "yes"]
        assert headers["x-hookline-model-version"] == "1"
        status, _, body = request(
            base + "/predict", {**RECORD, "plan": 7}, headers={"Authorization": "Bearer k1"}
        )
        assert status == 422 and body["detail"][0]["loc"] == ["body", "plan"]
        status, _, body = request(base + "/predict", [RECORD] * 51, headers={"X-API-Key": "k1"})
        assert status == 413 and "limit of 50" in body["detail"]
        status, headers, body = request(base + "/predict", RECORD)
        assert status == 401 and headers["www-authenticate"] == "Bearer"
        status, _, body = request(base + "/model", headers={"X-API-Key": "k1"})
        assert status == 200 and body["features"][0]["name"] == "age"
        status, _, _ = request(base + "/openapi.json")
        assert status == 401  # the document follows the key rule
        status, _, doc = request(base + "/openapi.json", headers={"X-API-Key": "k1"})
        assert "Record" in doc["components"]["schemas"]


def test_main_py_defines_serving_without_building_the_app() -> None:
    import runpy

    from hookline.adapters.gcp import serving as gcp

    gcp.reset()
    module = runpy.run_path(
        str(Path(__file__).resolve().parents[2] / "functions" / "gcp_functions" / "main.py")
    )
    assert callable(module["serving"])
    assert gcp._app is None
