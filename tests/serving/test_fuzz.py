"""Fuzzing every route of the prediction service: hostile path segments (traversal-shaped,
NUL-bearing, oversized, percent-encoded), query strings, headers and bodies, with and
without API keys. Every answer is below 500 with no traceback and a bounded error body, and
every key the app touches in storage is inside the root (a recording storage checks).

The routes come from the app itself, so a new route is fuzzed without editing this file;
schemathesis adds requests generated from the app's own OpenAPI document for every operation.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hookline.adapters.serving import create_app
from hookline.project import Project as HooklineProject
from hookline.storage import LocalStorage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from ._fuzzing import (
    BODIES,
    CONTENT_TYPES,
    RecordingStorage,
    check_answer,
    examples,
    fill,
    query,
    record,
    route_templates,
    segments,
    send,
)
from .conftest import make_project

pytestmark = [pytest.mark.fuzz, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

KEY = "fuzz-key-0123456789"
LOG = "[serving.prediction_log]\nsample_rate = 1.0\nbatch_size = 5\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    project = make_project(tmp_path_factory.mktemp("fuzz") / "p", extra=LOG)
    project.promote(project.register())
    storage = RecordingStorage(LocalStorage(str(project.root / "store")))
    apps = {}
    for mode, environ in (("open", {}), ("keys", {"HOOKLINE_API_KEYS": KEY})):
        hp = HooklineProject(project.config, storage=storage)  # type: ignore[arg-type]
        app = create_app(project=hp, environ=environ)
        app.state.holder.load()
        apps[mode] = app
    return project, storage, apps


def _routes() -> list[tuple[str, str, list[str]]]:
    import tempfile
    from pathlib import Path

    project = make_project(Path(tempfile.mkdtemp()) / "p")
    return route_templates(project.app())


ROUTES = _routes()
PARAMS = {"name": ["churn", "other"], "version": ["1", "2", "0"]}
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "x-api-key": st.sampled_from([KEY, "wrong", "", KEY + "x", "\u00e9"]),
        "authorization": st.sampled_from([f"Bearer {KEY}", "Bearer", "Basic eA==", "bearer  x"]),
        "x-request-id": st.sampled_from(["ok-123", "", "x" * 500, "a b", "../x", "id\u00e9"]),
        "inference-header-content-length": st.sampled_from(["10", "-1", "x"]),
    },
)


@pytest.mark.parametrize("mode", ["open", "keys"])
@pytest.mark.parametrize(
    ("method", "path", "names"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_every_route_survives_hostile_requests(
    served: Any, mode: str, method: str, path: str, names: list[str]
) -> None:
    project, storage, apps = served
    client = TestClient(apps[mode], raise_server_exceptions=False)
    root = str(project.root)
    seen = [0]
    five_xx = [0]

    @settings(
        max_examples=examples(25),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        values=st.fixed_dictionaries({n: segments(PARAMS.get(n, [])) for n in names}),
        qs=query(["proba"]),
        headers=HEADERS,
        content_type=CONTENT_TYPES,
        body=BODIES,
    )
    def run(
        values: dict[str, str], qs: str, headers: dict[str, str], content_type: Any, body: bytes
    ) -> None:
        url = fill(path, values) + (f"?{qs}" if qs else "")
        sent = dict(headers)
        if content_type is not None:
            sent["content-type"] = content_type
        r = send(client, method, url, body if method == "POST" else None, sent)
        if r is None:
            return
        seen[0] += 1
        five_xx[0] += r.status_code >= 500
        check_answer(r.status_code, r.text, root, anonymous=False)
        storage.check_inside()

    try:
        run()
    finally:
        record("serving", f"{mode} {method} {path}", seen[0], five_xx[0])
    assert seen[0] > 0


@pytest.fixture(scope="module")
def contract(served: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", served[2]["open"])


def _operations() -> list[str]:
    return [f"{m} {p}" for m, p, _ in ROUTES if p not in ("/docs", "/openapi.json")]


@pytest.mark.parametrize("operation", _operations())
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_schemathesis_over_every_operation(
    served: Any, contract: Any, operation: str, mode: str
) -> None:
    """Requests generated from the OpenAPI document, valid and invalid, for every
    operation the document declares: none gets a 5xx."""
    from schemathesis.generation import GenerationMode

    method, path = operation.split(" ", 1)
    project, storage, _ = served
    op = contract[path][method]
    declared = contract.raw_schema["paths"][path][method.lower()]
    if mode == "negative" and not (declared.get("parameters") or declared.get("requestBody")):
        return  # nothing to make invalid: the positive run covers it
    generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    seen = [0]

    @given(case=op.as_strategy(generation_mode=generation))
    @settings(
        max_examples=examples(15),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call()
        seen[0] += 1
        check_answer(response.status_code, response.text, str(project.root), anonymous=False)
        storage.check_inside()

    try:
        check()
    except Unsatisfiable:
        assert mode == "negative"  # only string path parameters: nothing can be invalid
    finally:
        record("serving-schemathesis", f"{mode} {operation}", seen[0])
