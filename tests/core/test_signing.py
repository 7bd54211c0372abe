"""Signed registry versions: off by default; with a key every version is signed, and a
version that is unsigned, signed with another key, or whose manifest changed after it was
signed is refused for loading and for every alias move."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hookline.errors import ConfigError, ModelIntegrityError, UsageError
from hookline.registry import Registry, open_registry
from hookline.signing import SigningKey, canonical, key_from_settings, signed_payload
from hookline.storage import LocalStorage

KEY = "k" * 20 + "0123456789abcdef"  # 36 characters
OTHER = "o" * 40


def estimator(value: float = 1.0):  # type: ignore[no-untyped-def]
    from sklearn.dummy import DummyRegressor

    return DummyRegressor(strategy="constant", constant=value).fit([[0], [1]], [0, 1])


def registry(tmp_path: Path, key: str | None = KEY) -> Registry:
    signing = SigningKey.from_text(key) if key else None
    return Registry(LocalStorage(tmp_path / "root"), signing_key=signing)


def test_canonical_bytes_and_what_is_signed() -> None:
    assert canonical({"b": 1, "a": [1.5, "é"]}) == '{"a":[1.5,"é"],"b":1}'.encode()
    manifest = {"artifacts": {"model.skops": {"sha256": "ab", "size": 2}}, "x": 1}
    payload = signed_payload("m", 3, manifest)
    assert payload == {
        "model": "m",
        "version": 3,
        "manifest_sha256": hashlib.sha256(canonical(manifest)).hexdigest(),
        "artifacts": {"model.skops": "ab"},
    }


def test_the_key_comes_from_the_environment_or_a_secret() -> None:
    assert key_from_settings({}, environ={}) is None  # off by default
    key = key_from_settings({}, environ={"HOOKLINE_SIGNING_KEY": f" {KEY}\n"})
    assert key is not None and key.secret == KEY.encode() and key.key_id.startswith("k-")
    assert KEY not in repr(key)
    read: list[str] = []

    def reader(ref: str) -> str:
        read.append(ref)
        return KEY

    ref = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:signing"
    key2 = key_from_settings(
        {"signing_key_env": "MY_KEY", "signing_key_id": "prod-2026"},
        environ={"MY_KEY_SECRET": ref},
        secret_reader=reader,
    )
    assert read == [ref] and key2 is not None and key2.key_id == "prod-2026"
    assert key2.secret == key.secret
    with pytest.raises(ConfigError, match="both \\$HOOKLINE_SIGNING_KEY and"):
        key_from_settings(
            {}, environ={"HOOKLINE_SIGNING_KEY": KEY, "HOOKLINE_SIGNING_KEY_SECRET": ref}
        )
    with pytest.raises(ConfigError, match="cannot read cloud secrets"):
        key_from_settings({}, environ={"HOOKLINE_SIGNING_KEY_SECRET": ref})
    with pytest.raises(ConfigError, match="at least 32 are needed"):
        key_from_settings({}, environ={"HOOKLINE_SIGNING_KEY": "short"})

    def broken(ref: str) -> str:
        raise PermissionError("AccessDenied")

    with pytest.raises(ConfigError, match="cannot read the signing key .*AccessDenied"):
        key_from_settings({}, environ={"HOOKLINE_SIGNING_KEY_SECRET": ref}, secret_reader=broken)


def test_every_version_is_signed_and_loads(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    mv = reg.register_estimator("m", estimator(), {"run_id": "r1"})
    doc = json.loads(reg.storage.read("registry/m/versions/000001/signature.json"))
    assert doc["schema"] == "hookline.signature/1" and doc["algorithm"] == "HMAC-SHA256"
    assert doc["key_id"] == reg.signing_key.key_id  # type: ignore[union-attr]
    assert doc["signed"] == signed_payload("m", 1, reg.get("m", 1).manifest)
    assert set(doc["signed"]["artifacts"]) == {"model.skops"}
    model, _ = reg.load_model("m", version=mv.version)
    assert model.predict([[0]])[0] == 1.0
    reg.move_alias("m", "production", 1)
    check = reg.verify("m", 1)
    assert check.ok and check.line() == "m v1 ok: 1 artifact(s) match, signature valid"


def test_unsigned_versions_are_refused_until_signed(tmp_path: Path) -> None:
    registry(tmp_path, key=None).register_estimator("m", estimator(), {"run_id": "r1"})
    reg = registry(tmp_path)
    with pytest.raises(ModelIntegrityError) as refused:
        reg.load_model("m", version=1)
    message = str(refused.value)
    assert message.startswith("model 'm' version 1 refused for loading: it is unsigned (file://")
    assert "hookline models verify m`" in message and "hookline models sign m 1" in message
    with pytest.raises(ModelIntegrityError, match="refused for promote to alias 'production'"):
        reg.move_alias("m", "production", 1)
    with pytest.raises(ModelIntegrityError, match="refused for reading"):
        reg.read_artifact("m", 1, "model.skops")
    assert reg.alias("m", "production") is None  # nothing moved
    assert reg.verify("m", 1).signature == "unsigned" and not reg.verify("m", 1).ok
    reg.sign("m", 1)
    reg.load_model("m", version=1)
    reg.move_alias("m", "production", 1)


def test_a_swapped_model_with_a_rewritten_manifest_is_refused(tmp_path: Path) -> None:
    """The attack of finding 6: the bytes swapped *and* the manifest's sha256 rewritten to
    match, which the checksum alone cannot see."""
    reg = registry(tmp_path)
    reg.register_estimator("m", estimator(1.0), {"run_id": "r1"})
    reg.register_estimator("m", estimator(2.0), {"run_id": "r2"})
    reg.move_alias("m", "production", 1)
    storage = reg.storage
    evil = storage.read("registry/m/versions/000002/model.skops")
    storage.write("registry/m/versions/000001/model.skops", evil)
    manifest = json.loads(storage.read("registry/m/versions/000001/manifest.json"))
    manifest["artifacts"]["model.skops"]["sha256"] = hashlib.sha256(evil).hexdigest()
    manifest["artifacts"]["model.skops"]["size"] = len(evil)
    storage.write("registry/m/versions/000001/manifest.json", json.dumps(manifest).encode())

    unsigned_view = Registry(storage)  # without signing, nothing can tell
    assert unsigned_view.load_model("m", version=1)[0].predict([[0]])[0] == 2.0
    assert unsigned_view.verify("m", 1).ok

    fresh = registry(tmp_path)  # a new process (no cache)
    with pytest.raises(ModelIntegrityError) as refused:
        fresh.load_model("m")
    assert "model 'm' version 1 refused for loading: its artifacts, manifest_sha256 changed" in (
        str(refused.value)
    )
    with pytest.raises(ModelIntegrityError, match="refused for rollback"):
        fresh.move_alias("m", "production", 1, action="rollback")
    assert "do not re-sign it unless you know why it changed" in str(refused.value)
    with pytest.raises(ModelIntegrityError, match="not re-signed: its artifacts, manifest"):
        fresh.sign("m", 1)  # the tampered manifest is never vouched for by accident
    check = fresh.verify("m", 1)
    assert not check.ok and check.signature == "invalid"
    assert check.line().startswith("m v1 FAILED: signature: its artifacts, manifest_sha256")


def test_another_key_or_a_copied_signature_is_refused(tmp_path: Path) -> None:
    registry(tmp_path, key=OTHER).register_estimator("m", estimator(), {"run_id": "r1"})
    reg = registry(tmp_path)
    with pytest.raises(ModelIntegrityError, match="signed with key 'k-[0-9a-f]+', not the conf"):
        reg.load_model("m", version=1)
    with pytest.raises(ModelIntegrityError, match="not re-signed: it is signed with key"):
        reg.sign("m", 1)  # a key rotation is a deliberate act
    reg.sign("m", 1, replace=True)
    reg.load_model("m", version=1)
    reg.register_estimator("m", estimator(3.0), {"run_id": "r2"})
    storage = reg.storage
    for name in ("manifest.json", "signature.json", "model.skops"):  # v1 replayed as v2
        storage.write(
            f"registry/m/versions/000002/{name}",
            storage.read(f"registry/m/versions/000001/{name}"),
        )
    with pytest.raises(ModelIntegrityError, match="its version changed after it was signed"):
        registry(tmp_path).load_model("m", version=2)
    assert "copied from another version" in registry(tmp_path).verify("m", 2).line()


def test_a_retried_run_signs_the_version_a_crash_left_unsigned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = registry(tmp_path)
    real = reg.storage.write

    def crash(key: str, data: bytes):  # type: ignore[no-untyped-def]
        if key.endswith("signature.json"):
            raise RuntimeError("killed between the manifest and the signature")
        return real(key, data)

    monkeypatch.setattr(reg.storage, "write", crash)
    with pytest.raises(RuntimeError):
        reg.register_estimator("m", estimator(), {"run_id": "run-1"})
    monkeypatch.undo()
    assert reg.verify("m", 1).signature == "unsigned"
    again = registry(tmp_path).register_estimator("m", estimator(), {"run_id": "run-1"})
    assert again.version == 1 and registry(tmp_path).verify("m", 1).ok


def test_sign_refuses_a_version_whose_bytes_changed(tmp_path: Path) -> None:
    registry(tmp_path, key=None).register_estimator("m", estimator(), {"run_id": "r1"})
    reg = registry(tmp_path)
    reg.storage.write("registry/m/versions/000001/model.skops", b"PK\x03\x04tampered")
    with pytest.raises(ModelIntegrityError, match="not signed: model.skops checksum mismatch"):
        reg.sign("m", 1)
    assert reg.storage.stat("registry/m/versions/000001/signature.json") is None
    with pytest.raises(UsageError, match="no signing key is configured"):
        registry(tmp_path, key=None).sign("m", 1)


def test_open_registry_reads_the_settings_table(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "root")
    reg = open_registry(
        storage,
        {"trusted_types": ["lightgbm.basic.Booster"], "signing_key_env": "K"},
        environ={"K": KEY},
    )
    assert reg.trusted_types == ("lightgbm.basic.Booster",)
    assert reg.signing_key is not None and reg.signing_key.secret == KEY.encode()
    assert open_registry(storage, {}, environ={}).signing_key is None
