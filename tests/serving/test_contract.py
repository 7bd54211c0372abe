"""Property-based tests of the OpenAPI contract: schemathesis generates requests from the
app's own OpenAPI document (valid and invalid bodies, query flags), and hypothesis generates
arbitrary JSON bodies; the app never answers 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import FEATURES, RECORD, make_project

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    project = make_project(tmp_path_factory.mktemp("contract") / "p")
    project.promote(project.register())
    app = project.app(environ={})
    app.state.holder.load()
    return app


@pytest.fixture(scope="module")
def contract(app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


CASES = [
    ("/predict", "POST", "positive"),
    ("/predict", "POST", "negative"),
    ("/model", "GET", "positive"),
    ("/health", "GET", "positive"),
]


@pytest.mark.parametrize(("path", "method", "mode"), CASES, ids=[f"{p}-{m}" for p, _, m in CASES])
def test_no_request_from_the_contract_gets_a_500(
    contract: Any, path: str, method: str, mode: str
) -> None:
    """Requests generated from the app's own OpenAPI document: valid ones (``positive``)
    are answered 200, invalid ones (``negative``) get a 4xx that says why; none a 5xx."""
    from schemathesis.generation import GenerationMode

    operation = contract[path][method]
    generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    seen: dict[int, int] = {}

    @given(case=operation.as_strategy(generation_mode=generation))
    @settings(
        max_examples=60 if path == "/predict" else 10,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call()
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, (case.body, case.query, response.text)
        if mode == "positive":
            assert response.status_code == 200, (case.body, case.query, response.text)
            assert response.headers["x-hookline-model-version"] in ("1", ["1"])
        elif response.status_code == 422:
            assert response.json()["detail"], "a 422 names what was wrong"

    check()
    assert seen, "no request was generated"
    if path == "/predict" and mode == "negative":
        assert seen.get(422, 0) > 0, seen  # the generator did reach the validation


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _record_like() -> st.SearchStrategy[dict[str, Any]]:
    values = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.text(max_size=5)
        | st.sampled_from(["basic", "pro", "team", "web"])
    )
    keys = st.sampled_from([*FEATURES, "extra", "records", "proba"])
    return st.dictionaries(keys, values, max_size=7)


@given(
    body=st.one_of(
        JSON,
        _record_like(),
        st.lists(_record_like(), max_size=5),
        st.builds(
            lambda r, p: {"records": r, "proba": p}, st.lists(_record_like(), max_size=3), JSON
        ),
    ),
    proba=st.sampled_from([None, "true", "false", "x", ""]),
)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_arbitrary_bodies_never_get_a_500(app: Any, body: Any, proba: str | None) -> None:
    with TestClient(app) as client:
        url = "/predict" if proba is None else f"/predict?proba={proba}"
        r = client.post(url, content=json.dumps(body), headers={"content-type": "application/json"})
    assert r.status_code in (200, 413, 422), (body, r.text)
    if r.status_code == 422:
        detail = r.json()["detail"]
        assert all(e["loc"][0] in ("body", "query") for e in detail)


def test_a_valid_record_passes_the_contract(app: Any) -> None:
    with TestClient(app) as client:
        assert client.post("/predict", json=RECORD).status_code == 200
