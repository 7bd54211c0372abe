"""Security checks, on every storage back-end: a pickled model placed in the registry is
never loaded (not by the registry, not by the gates comparing against production, not by
serving); a tampered artifact is refused; no key escapes the storage root; serving
refuses requests without a valid key when keys are configured."""

from __future__ import annotations

import io
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
from hookline import modelio
from hookline.errors import InvalidKey, ModelIntegrityError, UsageError
from hookline.registry import Registry
from hookline.storage import open_storage, parse_uri

from ._audit import audit
from ._counters import record
from ._stack import MODEL, TRAIN_PREFIX, Project, make_project, training_csv
from .conftest import backend_params, root_for

FAST_ONLY_LOCAL = backend_params(fast=("local",))


class Touch:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Path.touch, (self.path,))


class Custom:
    """An estimator-shaped object of a type nobody trusted."""

    def predict(self, rows: Any) -> list[int]:
        return [0 for _ in rows]


def trained(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Project:
    project = make_project(tmp_path / "project", root_for(request, backend, tmp_path))
    [first] = project.app().handle(project.upload(f"{TRAIN_PREFIX}good.csv", training_csv(1)))
    assert first.status == "succeeded", first.message
    return project


def serve(project: Project, keys: str = "", **environ: str) -> Any:
    from fastapi.testclient import TestClient
    from hookline.adapters.serving import create_app

    app = create_app(
        project.config(),
        storage=project.storage,
        environ={**({"HOOKLINE_API_KEYS": keys} if keys else {}), **environ},
    )
    return TestClient(app)


ROW = {"x1": 0.7, "x2": 0.1, "plan": "pro"}


def plant(project: Project, data: bytes) -> int:
    """Register ``data`` as the model of a new version, with a matching sha256 (whoever
    can write to the bucket can write a manifest), and point production at it."""
    mv = project.registry.register(
        MODEL, {"model.skops": data}, {"run_id": "attacker", "format": "skops"}
    )
    project.registry.move_alias(MODEL, "production", mv.version, reason="planted")
    return mv.version


@pytest.mark.parametrize("backend", FAST_ONLY_LOCAL)
def test_a_pickled_model_is_never_loaded(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, clean_env: None
) -> None:
    project = trained(request, backend, tmp_path)
    marker = tmp_path / "unpickled"
    version = plant(project, pickle.dumps(Touch(marker)))

    with pytest.raises(ModelIntegrityError, match="pickle"):
        project.registry.load_model(MODEL)
    # The gates compare every candidate with production: that must not unpickle it either.
    with project.config_path.open("a") as toml:
        toml.write("\n[pipelines.train.plugins.gates]\nmust_beat_production = true\n")
    [result] = project.app().handle(project.upload(f"{TRAIN_PREFIX}next.csv", training_csv(2)))
    record("events_delivered", 2)
    assert result.status in ("succeeded", "rejected", "failed"), result.message
    response = serve(project).post("/predict", json=ROW)
    assert response.status_code >= 500 and "pickle" in response.text, response.text
    assert not marker.exists(), "a pickle was loaded"
    state = project.registry.alias(MODEL, "production")
    assert state is not None and (state.version == version or result.status == "succeeded")
    record("security_checks", 3)


@pytest.mark.parametrize("backend", FAST_ONLY_LOCAL)
def test_a_model_with_untrusted_types_is_refused(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, clean_env: None
) -> None:
    project = trained(request, backend, tmp_path)
    plant(project, modelio.dumps(Custom()))
    with pytest.raises(ModelIntegrityError, match="trusted"):
        project.registry.load_model(MODEL)
    response = serve(project).post("/predict", json=ROW)
    assert response.status_code >= 500, response.text
    record("security_checks", 2)


@pytest.mark.parametrize("backend", FAST_ONLY_LOCAL)
def test_a_tampered_artifact_is_refused(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, clean_env: None
) -> None:
    project = trained(request, backend, tmp_path)
    [second] = project.app().handle(project.upload(f"{TRAIN_PREFIX}more.csv", training_csv(3)))
    assert second.status == "succeeded"
    storage, prefix = project.storage, f"registry/{MODEL}/versions/"
    v1, v2 = prefix + "000001/", prefix + "000002/"
    project.registry.move_alias(MODEL, "production", 1, action="rollback")
    assert serve(project).post("/predict", json=ROW).status_code == 200

    # Swap in another version's perfectly valid model, then a one-byte change.
    for tampered in (
        storage.read(v2 + "model.skops"),
        bytes([storage.read(v1 + "model.skops")[0] ^ 1]) + storage.read(v1 + "model.skops")[1:],
    ):
        storage.write(v1 + "model.skops", tampered)
        with pytest.raises(ModelIntegrityError, match="checksum"):
            project.registry.load_model(MODEL)
        with pytest.raises(ModelIntegrityError):
            project.registry.read_artifact(MODEL, 1, "model.skops")
        response = serve(project).post("/predict", json=ROW)
        assert response.status_code == 503, response.text  # not ready, and why
        assert "checksum mismatch" in response.text, response.text
    storage.write(v1 + "schema.json", b'{"columns": {}}')
    with pytest.raises(ModelIntegrityError):
        project.registry.read_artifact(MODEL, 1, "schema.json")
    found = audit(project.storage, MODEL, load=False, count=False)  # planted, not lost
    assert len(found.problems) == 2, found.problems  # exactly the two tampered artifacts
    record("security_checks", 5)


ESCAPING = [
    "../escape.txt",
    "a/../../escape.txt",
    "/abs.txt",
    "a\\..\\..\\escape.txt",
    "nul\x00.txt",
    "a//b.txt",
    "./x.txt",
    "a/./b.txt",
    "..",
    "",
    "a/\n/b.txt",
]
OPERATIONS = {
    "read": lambda s, k: s.read(k),
    "read_with_info": lambda s, k: s.read_with_info(k),
    "open": lambda s, k: s.open(k),
    "stat": lambda s, k: s.stat(k),
    "write": lambda s, k: s.write(k, b"x"),
    "create": lambda s, k: s.create(k, b"x"),
    "replace": lambda s, k: s.replace(k, b"x", "etag"),
    "upload": lambda s, k: s.upload(k, io.BytesIO(b"x")),
    "delete": lambda s, k: s.delete(k),
    "url": lambda s, k: s.url(k),
}


@pytest.mark.parametrize("backend", backend_params())
def test_no_key_escapes_the_storage_root(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    root = root_for(request, backend, tmp_path)
    storage = open_storage(root)
    storage.write("inside.txt", b"ok")
    leaks = []
    for key in ESCAPING:
        for name, op in OPERATIONS.items():
            try:
                op(storage, key)
            except InvalidKey:
                continue
            except Exception as exc:  # noqa: BLE001
                leaks.append(f"{name}({key!r}): {type(exc).__name__}: {exc}")
                continue
            leaks.append(f"{name}({key!r}) was accepted")
    record("security_checks", len(ESCAPING) * len(OPERATIONS))
    assert not leaks, "\n".join(leaks)
    with pytest.raises(UsageError):
        Registry(storage).get("../../outside", 1)
    # Nothing landed outside the root: the bucket (or the folder around it) holds only it.
    parsed = parse_uri(root)
    if parsed.scheme == "file":
        around = {p.name for p in Path(parsed.path).parent.iterdir()}
        assert not {"escape.txt", "abs.txt", "x"} & around, around
    else:
        bucket = open_storage(f"{parsed.scheme}://{parsed.bucket}")
        keys = [info.key for info in bucket.list("")]
        assert keys == ["root/inside.txt"], keys


@pytest.mark.parametrize("backend", backend_params(fast=("local",)))
def test_serving_refuses_requests_without_a_valid_key(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, clean_env: None
) -> None:
    project = trained(request, backend, tmp_path)
    client = serve(project, keys="k-123,k-456")
    refused = [
        client.post("/predict", json=ROW),
        client.post("/predict", json=ROW, headers={"X-API-Key": "k-12"}),
        client.post("/predict", json=ROW, headers={"X-API-Key": "k-123 "}),
        client.post("/predict", json=ROW, headers={"Authorization": "Bearer "}),
        client.post("/predict", json=ROW, headers={"Authorization": "Basic k-123"}),
        client.get("/model"),
        client.get("/model", headers={"X-API-Key": "K-123"}),
    ]
    for response in refused:
        assert response.status_code in (401, 403), (response.status_code, response.text)
        assert "predictions" not in response.text and "lineage" not in response.text
    assert refused[0].headers.get("WWW-Authenticate") == "Bearer"
    ok = client.post("/predict", json=ROW, headers={"X-API-Key": "k-123"})
    assert ok.status_code == 200 and "predictions" in ok.json(), ok.text
    ok = client.get("/model", headers={"Authorization": "Bearer k-456"})
    assert ok.status_code == 200 and ok.json()["version"] == 1
    record("security_checks", len(refused) + 2)


@pytest.mark.parametrize("backend", FAST_ONLY_LOCAL)
def test_with_signing_a_swapped_model_with_a_rewritten_manifest_is_refused(
    request: pytest.FixtureRequest,
    backend: str,
    tmp_path: Path,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Finding 6: the attacker swaps production's model for another version's and rewrites
    the manifest's sha256 to match. With a signing key the pipeline, serving and the CLI
    refuse it; nothing is promoted meanwhile."""
    import hashlib
    import json

    from hookline.cli import main

    key = "signing-key-" + "x" * 32
    monkeypatch.setenv("HOOKLINE_SIGNING_KEY", key)
    project = trained(request, backend, tmp_path)
    [second] = project.app().handle(project.upload(f"{TRAIN_PREFIX}more.csv", training_csv(3)))
    assert second.status == "succeeded", second.message
    storage, v1 = project.storage, f"registry/{MODEL}/versions/000001/"
    assert storage.stat(v1 + "signature.json") is not None
    project.registry.move_alias(MODEL, "production", 1, action="rollback")
    assert serve(project, HOOKLINE_SIGNING_KEY=key).get("/health").status_code == 200

    evil = storage.read(f"registry/{MODEL}/versions/000002/model.skops")
    storage.write(v1 + "model.skops", evil)
    manifest = json.loads(storage.read(v1 + "manifest.json"))
    manifest["artifacts"]["model.skops"].update(
        sha256=hashlib.sha256(evil).hexdigest(), size=len(evil)
    )
    storage.write(v1 + "manifest.json", json.dumps(manifest).encode())

    assert serve(project).get("/health").status_code == 200  # without the key: served
    health = serve(project, HOOKLINE_SIGNING_KEY=key).get("/health")
    assert health.status_code == 503, health.text
    # refused whichever artifact is read first (the ONNX model, or the skops model)
    assert re.search(
        r"refused for (loading|reading): its artifacts, manifest_sha256 changed",
        health.json()["detail"],
    ), health.json()["detail"]
    with project.config_path.open("a") as toml:
        toml.write("\n[pipelines.train.plugins.gates]\nmust_beat_production = true\n")
    [third] = project.app().handle(project.upload(f"{TRAIN_PREFIX}third.csv", training_csv(4)))
    # production's schema cannot be vouched for: the run fails, naming the version
    assert third.status == "failed", third.message
    assert "model 'churn' version 1 refused for reading" in third.message
    state = project.registry.alias(MODEL, "production")
    assert state is not None and state.version == 1
    code = main(["models", "verify", MODEL, "--config", str(project.config_path)])
    assert code == 1
    record("security_checks", 4)
