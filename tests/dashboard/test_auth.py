"""API-key login, signed session cookies and CSRF protection of the dashboard's actions."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from hookline.adapters.dashboard import create_app
from hookline.adapters.dashboard._auth import COOKIE, Auth, fingerprint, load_keys
from hookline.adapters.web.keys import ApiKeys, parse_secret_ref

from .conftest import Project, build

KEYS = ["k-alpha-0123456789", "k-beta-9876543210"]
ALIAS = "registry/churn/aliases/production.json"


@pytest.fixture
def project(tmp_path) -> Project:
    return build(tmp_path / "store")


def make_client(project: Project, auth: Auth) -> TestClient:
    return TestClient(
        create_app(project.app.storage, config=project.config, auth=auth), follow_redirects=False
    )


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


def login(client: TestClient, key: str = KEYS[1], operator: str = "alice") -> None:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "key": key,
            "operator": operator,
            "next": "/models/churn",
            "csrf": csrf_of(page.text),
        },
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/models/churn"


def test_keys_come_from_the_environment_comma_separated() -> None:
    assert load_keys("K", {"K": " a, b ,,c "}).resolved() == (b"a", b"b", b"c")
    assert not load_keys("K", {}).enabled


def test_keys_in_a_secret_reference_protect_the_dashboard(project: Project, monkeypatch) -> None:
    # The Terraform modules pass HOOKLINE_API_KEYS_SECRET, never the comma-separated variable:
    # the dashboard must read it as serving does (it used to start with no keys at all).
    auth = Auth.from_env("HOOKLINE_API_KEYS", {"HOOKLINE_API_KEYS_SECRET": "aws-sm://ui-keys"})
    assert auth.required and auth.keys.secret is not None
    secret = parse_secret_ref("aws-sm://ui-keys")
    resolved = Auth(
        ApiKeys(secret=secret, resolver=lambda ref: "k-view"),
        admin_keys=ApiKeys(secret=secret, resolver=lambda ref: '["k-admin"]'),
    )
    client = make_client(project, resolved)
    assert client.get("/runs").status_code == 401
    login(client, key="k-admin")
    assert client.get("/runs").status_code == 200


def test_an_unreadable_key_secret_fails_closed(project: Project, monkeypatch) -> None:
    monkeypatch.setenv("HOOKLINE_API_KEYS_SECRET", "aws-sm://no-such-secret")
    monkeypatch.delenv("HOOKLINE_API_KEYS", raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    client = TestClient(create_app(project.app.storage, config=project.config))
    r = client.get("/runs")
    assert r.status_code == 503 and "API keys unavailable" in r.text
    assert project.config.storage not in r.text and str(project.root) not in r.text


def test_a_prediction_key_may_look_but_not_act(project: Project) -> None:
    client = make_client(project, Auth(KEYS, admin_keys=["k-admin-000"]))
    login(client, key=KEYS[0], operator="bob")
    page = client.get("/models/churn")
    assert page.status_code == 200 and "Actions need an administration key" in page.text
    assert "/approve" not in page.text
    token = csrf_of(page.text)
    before = project.app.storage.read(ALIAS)
    for action, data in (
        ("approve", {"version": "3"}),
        ("promote", {"version": "1", "expected": "2"}),
        ("rollback", {"expected": "2"}),
    ):
        r = client.post(f"/models/churn/{action}", data={**data, "csrf": token})
        assert r.status_code == 403 and "administration key" in r.text, action
    assert project.app.storage.read(ALIAS) == before
    admin = make_client(project, Auth(KEYS, admin_keys=["k-admin-000"]))
    login(admin, key="k-admin-000", operator="carol")
    token = csrf_of(admin.get("/models/churn").text)
    r = admin.post("/models/churn/rollback", data={"expected": "2", "csrf": token})
    assert r.status_code == 303
    assert project.app.registry.alias("churn", "production").version == 1


def test_every_page_needs_a_login_when_keys_are_configured(project: Project) -> None:
    client = make_client(project, Auth(KEYS))
    for path in ("/runs", "/models", "/models/churn", "/monitoring/churn", "/runs/x/record.json"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert 'name="key"' in r.text and 'type="password"' in r.text
    assert client.get("/healthz").status_code == 200


def test_login_with_a_wrong_key_is_refused(project: Project) -> None:
    client = make_client(project, Auth(KEYS))
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"key": "k-alpha", "operator": "eve", "csrf": token})
    assert r.status_code == 401 and "not one of the configured API keys" in r.text
    assert client.get("/runs").status_code == 401


def test_login_without_the_csrf_token_is_refused(project: Project) -> None:
    client = make_client(project, Auth(KEYS))
    client.get("/login")
    r = client.post("/login", data={"key": KEYS[0], "operator": "eve"})
    assert r.status_code == 403
    assert client.get("/runs").status_code == 401


def test_login_sets_a_strict_http_only_signed_cookie(project: Project) -> None:
    client = make_client(project, Auth(KEYS))
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"key": KEYS[0], "operator": "alice", "csrf": token})
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert KEYS[0] not in cookie
    assert "Secure" not in cookie  # plain http here; see the https test below
    page = client.get("/runs")
    assert page.status_code == 200 and "operator <strong>alice</strong>" in page.text
    assert csrf_of(page.text) != token  # a fresh token for the logged-in session


def test_cookie_is_secure_behind_https(project: Project) -> None:
    client = make_client(project, Auth(KEYS))
    r = client.get("/login", headers={"x-forwarded-proto": "https"})
    assert "Secure" in r.headers["set-cookie"]


def test_action_without_a_session_is_401_and_changes_nothing(project: Project) -> None:
    client = make_client(project, Auth(KEYS))
    before = project.app.storage.read(ALIAS)
    r = client.post("/models/churn/approve", data={"version": "3", "csrf": "x"})
    assert r.status_code == 401
    assert project.app.storage.read(ALIAS) == before


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_action_with_a_missing_or_invalid_csrf_token_is_403(
    project: Project, token: str | None
) -> None:
    client = make_client(project, Auth(admin_keys=KEYS))
    login(client)
    before = project.app.storage.read(ALIAS)
    data = {"version": "3"} | ({"csrf": token} if token is not None else {})
    for action in ("approve", "promote", "rollback"):
        r = client.post(f"/models/churn/{action}", data=data)
        assert r.status_code == 403, action
        assert "CSRF token is missing or invalid" in r.text
    assert project.app.storage.read(ALIAS) == before


def test_a_token_from_another_session_is_refused(project: Project) -> None:
    other = make_client(project, Auth(admin_keys=KEYS))
    login(other, operator="mallory")
    foreign = csrf_of(other.get("/models/churn").text)
    client = make_client(project, Auth(admin_keys=KEYS))
    login(client)
    r = client.post("/models/churn/approve", data={"version": "3", "csrf": foreign})
    assert r.status_code == 403


def test_cross_origin_post_is_refused_even_with_the_token(project: Project) -> None:
    client = make_client(project, Auth(admin_keys=KEYS))
    login(client)
    token = csrf_of(client.get("/models/churn").text)
    r = client.post(
        "/models/churn/approve",
        data={"version": "3", "csrf": token},
        headers={"origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert project.app.registry.alias("churn", "production").version == 2


def test_approve_and_roll_back_are_recorded_with_the_operator(project: Project) -> None:
    client = make_client(project, Auth(admin_keys=KEYS))
    login(client, key=KEYS[1], operator="alice")
    token = csrf_of(client.get("/models/churn").text)
    r = client.post(
        "/models/churn/approve",
        data={"version": "3", "csrf": token, "reason": "reviewed"},
        headers={"origin": "http://testserver"},
    )
    assert r.status_code == 303
    state = project.app.registry.alias("churn", "production")
    assert state.version == 3
    by = f"alice [dashboard, key {fingerprint(KEYS[1])}]"
    assert state.history[-1] | {"at": None} == state.history[-1] | {
        "action": "approve",
        "version": 3,
        "previous": 2,
        "by": by,
        "reason": "reviewed",
        "at": None,
    }
    r = client.post(
        "/models/churn/rollback", data={"alias": "production", "expected": "3", "csrf": token}
    )
    assert r.status_code == 303
    state = project.app.registry.alias("churn", "production")
    assert (state.version, state.history[-1]["action"], state.history[-1]["by"]) == (
        2,
        "rollback",
        by,
    )
    history = client.get("/models/churn").text
    assert history.count(by) == 2


def test_a_forged_or_expired_cookie_is_an_anonymous_session(project: Project, monkeypatch) -> None:
    auth = Auth(KEYS)
    client = make_client(project, auth)
    login(client)
    value = client.cookies.get(COOKIE)
    body, _, sig = value.partition(".")
    # replace the jar's cookie (httpx2, which starlette's TestClient prefers when installed,
    # would keep the server's cookie beside one set without its domain)
    client.cookies.clear()
    client.cookies.set(COOKIE, body + "." + sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB"))
    assert client.get("/runs").status_code == 401
    client.cookies.clear()
    client.cookies.set(COOKIE, value)
    assert client.get("/runs").status_code == 200
    later = time.time() + 13 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/runs").status_code == 401


def test_removing_a_key_ends_its_sessions(project: Project) -> None:
    secret = b"s" * 32
    client = make_client(project, Auth(KEYS, secret=secret))
    login(client, key=KEYS[0])
    cookie = client.cookies.get(COOKIE)
    rotated = make_client(project, Auth(KEYS[1:], secret=secret))
    rotated.cookies.set(COOKIE, cookie)
    assert rotated.get("/runs").status_code == 401
    kept = make_client(project, Auth(KEYS, secret=secret))
    kept.cookies.set(COOKIE, cookie)
    assert kept.get("/runs").status_code == 200


def test_instances_sharing_the_keys_accept_each_others_sessions(project: Project) -> None:
    first = make_client(project, Auth(KEYS))
    login(first)
    second = make_client(project, Auth(list(reversed(KEYS))))
    second.cookies.set(COOKIE, first.cookies.get(COOKIE))
    assert second.get("/runs").status_code == 200


def test_without_keys_pages_are_open_but_actions_disabled(project: Project) -> None:
    auth = Auth([])
    client = make_client(project, auth)
    page = client.get("/models/churn")
    assert page.status_code == 200
    assert "Actions are disabled" in page.text and "/approve" not in page.text
    token = auth.load(client.cookies.get(COOKIE)).csrf  # a valid token: still refused
    r = client.post("/models/churn/approve", data={"version": "3", "csrf": token})
    assert r.status_code == 403 and "no API key is configured" in r.text
    assert project.app.registry.alias("churn", "production").version == 2


def test_key_comparison_checks_every_key() -> None:
    auth = Auth(KEYS)
    assert auth.match_key(KEYS[0]) == (fingerprint(KEYS[0]), "viewer")
    assert auth.match_key(KEYS[1]) == (fingerprint(KEYS[1]), "viewer")
    assert auth.match_key(KEYS[0][:-1]) is None
    assert auth.match_key("") is None
