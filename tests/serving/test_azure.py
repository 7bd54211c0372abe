"""The prediction service through Azure Functions' Python v2 model: function_app.py indexed
the way the worker indexes it, and requests sent to the function object as
``func.HttpRequest``."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func
import pytest

from .conftest import RECORD, Project

ROOT = Path(__file__).resolve().parents[2] / "functions" / "azure_functions"


def load_function_app(
    monkeypatch: pytest.MonkeyPatch, project: Project, role: str = "serving", **env: str
) -> ModuleType:
    """Import function_app.py as the worker does: by file, in a fresh module."""
    monkeypatch.setenv("HOOKLINE_ROLE", role)
    monkeypatch.setenv("HOOKLINE_CONFIG", str(project.config_path))
    monkeypatch.delenv("HOOKLINE_API_KEYS", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    name = f"function_app_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, ROOT / "function_app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def index(module: ModuleType) -> list[Any]:
    """What the worker's loader does: find the one FunctionRegister in the module and list
    its functions (each must produce valid function.json metadata)."""
    apps = [v for v in vars(module).values() if isinstance(v, func.FunctionRegister)]
    assert len(apps) == 1, "the worker requires exactly one function app per script"
    functions = apps[0].get_functions()
    for fn in functions:
        json.loads(fn.get_function_json())
    return functions


def call(
    fn: Any, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    req = func.HttpRequest(
        method=method,
        url=url,
        body=json.dumps(body).encode() if body is not None else b"",
        headers={"content-type": "application/json", **(headers or {})},
    )
    resp = asyncio.run(fn.get_user_function()(req, None))
    raw = resp.get_body()
    try:
        data = json.loads(raw)
    except ValueError:
        data = raw.decode()
    return resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, data


def test_worker_indexing_finds_the_http_function(
    monkeypatch: pytest.MonkeyPatch, served: Project
) -> None:
    functions = index(load_function_app(monkeypatch, served))
    assert [f.get_function_name() for f in functions] == ["http_app_func"]
    meta = json.loads(functions[0].get_function_json())
    trigger = next(b for b in meta["bindings"] if b["type"] == "httpTrigger")
    assert trigger["route"] == "/{*route}"
    assert trigger["authLevel"].lower() == "function"
    assert set(m.upper() for m in trigger["methods"]) >= {"GET", "POST"}


def test_auth_level_from_app_setting(monkeypatch: pytest.MonkeyPatch, served: Project) -> None:
    functions = index(load_function_app(monkeypatch, served, HOOKLINE_HTTP_AUTH_LEVEL="anonymous"))
    trigger = next(
        b
        for b in json.loads(functions[0].get_function_json())["bindings"]
        if b["type"] == "httpTrigger"
    )
    assert trigger["authLevel"].lower() == "anonymous"
    from hookline.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown auth level 'public'"):
        load_function_app(monkeypatch, served, HOOKLINE_HTTP_AUTH_LEVEL="public")


def test_other_roles_do_not_import_the_serving_app(
    monkeypatch: pytest.MonkeyPatch, served: Project
) -> None:
    module = load_function_app(monkeypatch, served, role="pipeline")
    assert "function_app" not in vars(module)  # the serving factory was never imported


@pytest.mark.parametrize("prefix", ["", "/api"], ids=["routePrefix-empty", "default-/api"])
def test_requests_through_the_function_object(
    monkeypatch: pytest.MonkeyPatch, served: Project, prefix: str
) -> None:
    fn = index(load_function_app(monkeypatch, served, HOOKLINE_API_KEYS="azkey"))[0]
    base = f"https://hookline-serving.azurewebsites.net{prefix}"
    status, headers, body = call(fn, "GET", base + "/health")
    assert status == 200 and body["ready"] is True
    status, headers, body = call(
        fn, "POST", base + "/predict?proba=true", [RECORD], {"x-api-key": "azkey"}
    )
    assert status == 200, body
    assert body["predictions"] == ["yes"] and len(body["probabilities"]) == 1
    assert headers["x-hookline-model-version"] == "1"
    status, _, body = call(fn, "POST", base + "/predict", {"age": "x"}, {"x-api-key": "azkey"})
    assert status == 422 and {e["loc"][-1] for e in body["detail"]} >= {"age", "plan"}
    status, _, body = call(fn, "POST", base + "/predict", RECORD, {"x-api-key": "wrong"})
    assert status == 401
    status, _, _ = call(fn, "GET", base + "/docs")
    assert status == 401  # the docs follow the key rule
    status, _, html = call(fn, "GET", base + "/docs", None, {"x-api-key": "azkey"})
    assert status == 200 and f"{prefix}/openapi.json" in html


def test_host_json_removes_the_api_route_prefix() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["extensions"]["http"]["routePrefix"] == ""
