"""Fuzzing every route of the dashboard: hostile path segments (traversal-shaped,
NUL-bearing, oversized, percent-encoded), query strings, headers and form bodies; with and
without keys, anonymous, logged in with a prediction key and with an administration key.
Every answer is below 500 with no traceback and a bounded error body; an anonymous visitor
never sees the storage root; every key the app touches is inside the root."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hookline.adapters.dashboard import create_app
from hookline.adapters.dashboard._auth import COOKIE, Auth
from hookline.project import Project as HooklineProject
from hookline.storage import LocalStorage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serving._fuzzing import (  # tests/ is on sys.path: its folders are packages
    CONTENT_TYPES,
    VALUES,
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

from .conftest import build, run_id

pytestmark = pytest.mark.fuzz

VIEW, ADMIN = "fuzz-view-key-0001", "fuzz-admin-key-0002"
MODES = ["open", "anonymous", "viewer", "admin"]


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Any:
    project = build(tmp_path_factory.mktemp("dash-fuzz") / "store")
    storage = RecordingStorage(LocalStorage(str(project.root)))
    clients: dict[str, tuple[TestClient, str]] = {}
    for mode in MODES:
        auth = (
            Auth(local_operator="fuzzer")
            if mode == "open"
            else Auth([VIEW], admin_keys=[ADMIN], secret=b"fuzz")
        )
        hp = HooklineProject(project.config, storage=storage)  # type: ignore[arg-type]
        client = TestClient(
            create_app(hp, auth=auth), follow_redirects=False, raise_server_exceptions=False
        )
        client.get("/login")
        if mode in ("viewer", "admin"):
            token = auth.load(client.cookies.get(COOKIE)).csrf
            key = VIEW if mode == "viewer" else ADMIN
            r = client.post("/login", data={"key": key, "operator": "fz", "csrf": token})
            assert r.status_code == 303
        token = auth.load(client.cookies.get(COOKIE)).csrf
        clients[mode] = (client, token)
    storage.touched.clear()
    return project, storage, clients


def _routes() -> list[tuple[str, str, list[str]]]:
    import tempfile
    from pathlib import Path

    return route_templates(create_app(str(Path(tempfile.mkdtemp()) / "s"), auth=Auth()))


ROUTES = _routes()
FORM_KEYS = ["version", "alias", "expected", "reason", "csrf", "key", "operator", "next"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("method", "path", "names"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_every_route_survives_hostile_requests(
    dash: Any, mode: str, method: str, path: str, names: list[str]
) -> None:
    project, storage, clients = dash
    client, token = clients[mode]
    valid = {
        "rid": [run_id(project, "v1"), run_id(project, "failed"), "nope"],
        "model": ["churn", "nope"],
    }
    seen, five_xx = [0], [0]
    form = st.dictionaries(
        st.sampled_from(FORM_KEYS), VALUES | st.sampled_from(["1", "2", "3", "production", token])
    )

    @settings(
        max_examples=examples(20),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        values=st.fixed_dictionaries({n: segments(valid.get(n, [])) for n in names}),
        qs=query(
            ["pipeline", "status", "model", "since", "until", "after", "next", "done", "alias", "v"]
        ),
        fields=form,
        content_type=CONTENT_TYPES,
        origin=st.sampled_from([None, "http://testserver", "https://evil.example", "null", "::"]),
        request_id=st.sampled_from([None, "rid-1", "x" * 300, "a\tb"]),
    )
    def run(values, qs, fields, content_type, origin, request_id) -> None:
        url = fill(path, values) + (f"?{qs}" if qs else "")
        headers = {}
        if origin is not None:
            headers["origin"] = origin
        if request_id is not None:
            headers["x-request-id"] = request_id
        body = None
        if method == "POST":
            body = urlencode(fields).encode()
            headers["content-type"] = content_type or "application/x-www-form-urlencoded"
        r = send(client, method, url, body, headers)
        if r is None:
            return
        seen[0] += 1
        five_xx[0] += r.status_code >= 500
        check_answer(r.status_code, r.text, str(project.root), anonymous=mode == "anonymous")
        if mode == "anonymous" and path not in ("/login", "/healthz"):
            assert r.status_code in (401, 400, 404, 405), (url, r.status_code)
        storage.check_inside()

    try:
        run()
    finally:
        record("dashboard", f"{mode} {method} {path}", seen[0], five_xx[0])
    assert seen[0] > 0


@pytest.mark.parametrize(
    "path",
    [
        "/runs/%2e%2e",
        "/runs/%2e%2e/record.json",
        "/runs/%00/record.json",
        "/runs/%2e%2e/report.html",
        "/runs/" + "r" * 5000,
        "/runs/" + "r" * 5000 + "/record.json",
        "/models/%2e%2e",
        "/monitoring/%00",
        "/registry/%2e%2e/index.html",
    ],
)
def test_traversal_shaped_and_oversized_ids_are_404_with_nothing_read(dash: Any, path: str) -> None:
    project, storage, clients = dash
    client, _ = clients["open"]
    storage.touched.clear()
    r = client.get(path)
    assert r.status_code == 404, (path, r.status_code)
    assert "InvalidKey" not in r.text and str(project.root) not in r.text
    assert len(r.text) < 16_000
    assert storage.touched == [], storage.touched  # refused before any key was built
