"""API keys: off by default, from the environment or a secret reference, constant-time
comparison against every key, /health always open."""

from __future__ import annotations

import sys

import pytest
from fastapi.testclient import TestClient
from hookline.adapters.web.keys import (
    ApiKeys,
    KeysUnavailable,
    SecretRef,
    keys_from_env,
    parse_keys,
    parse_secret_ref,
)
from hookline.errors import ConfigError

from .conftest import RECORD, Project

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_auth_off_without_keys(served: Project) -> None:
    with TestClient(served.app(environ={})) as c:
        assert c.post("/predict", json=RECORD).status_code == 200
        assert c.get("/model").status_code == 200


@pytest.fixture
def locked(served: Project) -> TestClient:
    with TestClient(served.app(environ={"HOOKLINE_API_KEYS": " alpha , beta-key ,"})) as c:
        yield c


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "alpha"},
        {"x-api-key": "beta-key"},
        {"Authorization": "Bearer alpha"},
        {"authorization": "bearer   beta-key"},
    ],
)
def test_a_configured_key_is_accepted(locked: TestClient, headers: dict) -> None:
    assert locked.post("/predict", json=RECORD, headers=headers).status_code == 200
    assert locked.get("/model", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "missing API key"),
        ({"X-API-Key": ""}, "missing API key"),
        ({"Authorization": "Basic YWxwaGE6"}, "missing API key"),
        ({"X-API-Key": "alph"}, "invalid API key"),
        ({"X-API-Key": "alpha "}, "invalid API key"),
        ({"Authorization": "Bearer gamma"}, "invalid API key"),
    ],
)
def test_a_wrong_or_missing_key_gets_401(locked: TestClient, headers: dict, detail: str) -> None:
    for r in (
        locked.post("/predict", json=RECORD, headers=headers),
        locked.get("/model", headers=headers),
    ):
        assert r.status_code == 401
        assert r.json()["detail"] == detail
        assert r.headers["www-authenticate"] == "Bearer"
        assert "x-hookline-model-version" not in r.headers


def test_health_stays_open(locked: TestClient) -> None:
    assert locked.get("/health").status_code == 200


def test_auth_is_checked_before_the_body_is_read(locked: TestClient) -> None:
    r = locked.post("/predict", content=b"{broken", headers={"content-type": "application/json"})
    assert r.status_code == 401


def test_openapi_declares_the_schemes(locked: TestClient) -> None:
    assert locked.get("/openapi.json").status_code == 401
    assert locked.get("/docs").status_code == 401
    doc = locked.get("/openapi.json", headers={"X-API-Key": "alpha"}).json()
    assert doc["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    assert doc["paths"]["/predict"]["post"]["security"] == [{"ApiKey": []}, {"Bearer": []}]
    assert "security" not in doc["paths"]["/health"]["get"]
    assert doc["paths"]["/invocations"]["post"]["security"] == [{"ApiKey": []}, {"Bearer": []}]


def test_docs_can_be_public_by_choice(tmp_path) -> None:
    from .conftest import make_project

    project = make_project(tmp_path / "p", extra="docs_public = true")
    project.promote(project.register())
    app = project.app(environ={"HOOKLINE_API_KEYS": "alpha"})
    with TestClient(app) as c:
        assert c.get("/openapi.json").status_code == 200
        assert c.get("/docs").status_code == 200
        assert c.post("/predict", json=RECORD).status_code == 401


def test_the_env_variable_name_is_configurable(tmp_path) -> None:
    from .conftest import make_project

    p = make_project(tmp_path / "p", extra='api_keys_env = "CHURN_KEYS"')
    p.promote(p.register())
    with TestClient(p.app(environ={"CHURN_KEYS": "s3cret", "HOOKLINE_API_KEYS": "other"})) as c:
        assert c.post("/predict", json=RECORD, headers={"X-API-Key": "other"}).status_code == 401
        assert c.post("/predict", json=RECORD, headers={"X-API-Key": "s3cret"}).status_code == 200


def test_every_key_is_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append(b)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    keys = ApiKeys(("k1", "k2", "k3"))
    keys.check({"x-api-key": "k1"})
    assert calls == [b"k1", b"k2", b"k3"]  # no early exit on the first match


# --- secret references ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "want"),
    [
        ("aws-sm://hookline/api-keys", SecretRef("aws-sm", "hookline/api-keys")),
        (
            "aws-sm://arn:aws:secretsmanager:eu-west-1:123456789012:secret:keys-AbCdEf",
            SecretRef("aws-sm", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:keys-AbCdEf"),
        ),
        (
            "gcp-sm://projects/p1/secrets/keys/versions/latest",
            SecretRef("gcp-sm", "projects/p1/secrets/keys/versions/latest"),
        ),
        (
            "gcp-sm://projects/p1/secrets/keys",
            SecretRef("gcp-sm", "projects/p1/secrets/keys/versions/latest"),
        ),
        ("azure-kv://my-vault/api-keys", SecretRef("azure-kv", "api-keys", vault="my-vault")),
        # each cloud's native name for a secret, as the Terraform modules pass it
        (
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:keys-AbCdEf",
            SecretRef("aws-sm", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:keys-AbCdEf"),
        ),
        (
            "projects/p1/secrets/keys/versions/latest",
            SecretRef("gcp-sm", "projects/p1/secrets/keys/versions/latest"),
        ),
        (
            "https://my-vault.vault.azure.net/secrets/api-keys/0123abcd",
            SecretRef("azure-kv", "api-keys", vault="my-vault.vault.azure.net"),
        ),
    ],
)
def test_secret_references_parse(ref: str, want: SecretRef) -> None:
    got = parse_secret_ref(ref)
    assert (got.scheme, got.name, got.vault) == (want.scheme, want.name, want.vault)
    assert got.raw == ref


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ("vault://x", "not a secret reference"),
        ("aws-sm://", "not a secret reference"),
        ("s3://bucket/keys", "not a secret reference"),
        ("gcp-sm://secrets/keys", "malformed Google Secret Manager reference"),
        ("gcp-sm://projects/p/secrets/s/versions", "malformed Google Secret Manager reference"),
        ("azure-kv://vault-only", "malformed Azure Key Vault reference"),
        ("azure-kv://vault/a/b", "malformed Azure Key Vault reference"),
    ],
)
def test_malformed_references_are_config_errors(ref: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        keys_from_env("HOOKLINE_API_KEYS", {"HOOKLINE_API_KEYS_SECRET": ref})
    assert fragment in str(info.value)
    assert "$HOOKLINE_API_KEYS_SECRET" in str(info.value)


def test_keys_and_a_reference_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="both"):
        keys_from_env(
            "HOOKLINE_API_KEYS",
            {"HOOKLINE_API_KEYS": "a", "HOOKLINE_API_KEYS_SECRET": "aws-sm://x"},
        )


def test_a_reference_turns_auth_on_and_resolves_lazily(served: Project) -> None:
    fetched = []

    def resolver(ref: SecretRef) -> str:
        fetched.append(ref.raw)
        return '["one", "two"]'

    keys = ApiKeys(secret=parse_secret_ref("aws-sm://keys"), resolver=resolver)
    with TestClient(served.app(api_keys=keys)) as c:
        assert fetched == []  # nothing fetched at start-up
        assert c.get("/health").status_code == 200 and fetched == []
        assert c.post("/predict", json=RECORD).status_code == 401
        assert c.post("/predict", json=RECORD, headers={"X-API-Key": "two"}).status_code == 200
        assert fetched == ["aws-sm://keys"]  # once, then cached


@pytest.mark.parametrize("failure", [RuntimeError("AccessDeniedException"), ""])
def test_an_unreadable_secret_fails_closed(served: Project, failure) -> None:
    def resolver(ref: SecretRef) -> str:
        if isinstance(failure, Exception):
            raise failure
        return failure

    keys = ApiKeys(secret=parse_secret_ref("gcp-sm://projects/p/secrets/k"), resolver=resolver)
    with TestClient(served.app(api_keys=keys)) as c:
        r = c.post("/predict", json=RECORD, headers={"X-API-Key": "anything"})
        assert r.status_code == 503
        assert "API keys unavailable" in r.json()["detail"]
        assert "gcp-sm://projects/p/secrets/k" in r.json()["detail"]
        assert c.get("/health").status_code == 200


def test_a_missing_cloud_sdk_is_named(served: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes the import fail as if the package were absent.
    monkeypatch.setitem(sys.modules, "azure.keyvault.secrets", None)
    keys = ApiKeys(secret=parse_secret_ref("azure-kv://vault/keys"))
    with pytest.raises(KeysUnavailable) as info:
        keys.check({"x-api-key": "k"})
    assert info.value.http_status == 503
    assert "pip install azure-keyvault-secrets" in str(info.value)


def test_parse_keys() -> None:
    assert parse_keys("a, b,,c ") == ("a", "b", "c")
    assert parse_keys('["x", " y "]') == ("x", "y")
    assert parse_keys("  ") == ()
    assert not ApiKeys(parse_keys("")).enabled


def test_open_health_does_not_reveal_storage_details_when_keys_are_on(project: Project) -> None:
    project.register()
    with TestClient(project.app(environ={"HOOKLINE_API_KEYS": "k"})) as c:
        r = c.get("/health")
        assert r.status_code == 503
        assert "store" not in r.text and "last_error" not in r.json()
        r = c.post("/predict", json=RECORD, headers={"X-API-Key": "k"})
        assert r.status_code == 503 and "no model is promoted yet" in r.json()["detail"]
