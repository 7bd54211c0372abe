"""The registry: unique versions under concurrency, CAS aliases with history, verified loads."""

from __future__ import annotations

import json
import multiprocessing
import pickle
from pathlib import Path

import pytest
from hookline.errors import ModelIntegrityError, NotFound, PreconditionFailed, UsageError
from hookline.registry import Registry
from hookline.storage import LocalStorage


def _estimator(value: float = 1.0):
    from sklearn.dummy import DummyRegressor

    return DummyRegressor(strategy="constant", constant=value).fit([[0]], [0])


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(LocalStorage(tmp_path / "root"))


def test_register_writes_artifacts_before_the_manifest(registry: Registry) -> None:
    mv = registry.register_estimator(
        "m", _estimator(), {"metrics": {"r2": 0.9}}, extra={"schema.json": b"{}"}
    )
    keys = [i.key for i in registry.storage.list("registry/m/versions/000001/")]
    assert keys == [
        "registry/m/versions/000001/_claim.json",
        "registry/m/versions/000001/manifest.json",
        "registry/m/versions/000001/model.skops",
        "registry/m/versions/000001/schema.json",
    ]
    assert set(mv.artifacts) == {"model.skops", "schema.json"}
    est, loaded = registry.load_model("m", version=1)
    assert est.predict([[5]])[0] == 1.0 and loaded.metrics == {"r2": 0.9}


def test_a_version_without_manifest_is_invisible(registry: Registry) -> None:
    registry.storage.create("registry/m/versions/000001/_claim.json", b"{}")
    registry.storage.write("registry/m/versions/000001/model.skops", b"half")
    assert registry.versions("m") == []
    with pytest.raises(NotFound):
        registry.move_alias("m", "production", 1)
    # the next registration does not reuse the claimed number
    assert registry.register_estimator("m", _estimator(), {}).version == 2


def test_alias_history_and_rollback(registry: Registry) -> None:
    for value in (1.0, 2.0, 3.0):
        mv = registry.register_estimator("m", _estimator(value), {})
        registry.move_alias("m", "production", mv.version)
    state = registry.rollback("m", "production", by="ops")
    assert state.version == 2
    assert registry.rollback("m").version == 1
    with pytest.raises(UsageError, match="no earlier version"):
        registry.rollback("m")
    history = registry.alias("m", "production").history
    assert [h["seq"] for h in history] == [1, 2, 3, 4, 5]
    assert [(h["action"], h["previous"], h["version"]) for h in history] == [
        ("promote", None, 1),
        ("promote", 1, 2),
        ("promote", 2, 3),
        ("rollback", 3, 2),
        ("rollback", 2, 1),
    ]
    assert history[3]["by"] == "ops"


def test_compare_and_swap_refuses_a_stale_expectation(registry: Registry) -> None:
    mv = registry.register_estimator("m", _estimator(), {})
    registry.move_alias("m", "production", mv.version)
    with pytest.raises(PreconditionFailed, match="points at 1, expected None"):
        registry.move_alias("m", "production", mv.version, expected=None)


def test_tampered_artifact_is_refused(registry: Registry) -> None:
    registry.register_estimator("m", _estimator(), {})
    key = "registry/m/versions/000001/model.skops"
    data = bytearray(registry.storage.read(key))
    data[-10] ^= 0xFF
    registry.storage.write(key, bytes(data))
    with pytest.raises(ModelIntegrityError, match="checksum mismatch"):
        registry.load_model("m", version=1)


def test_pickled_model_is_never_loaded(registry: Registry) -> None:
    mv = registry.register("m", {"model.skops": pickle.dumps(_estimator())}, {})
    assert mv.version == 1
    with pytest.raises(ModelIntegrityError, match="this is a pickle; hookline never loads pickles"):
        registry.load_model("m", version=1)


def test_invalid_names_are_refused(registry: Registry) -> None:
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(UsageError):
            registry.register("m" if bad == "" else bad, {"x": b""} if bad else {"": b""}, {})


def _register_and_promote(root: str, n: int, out: multiprocessing.Queue) -> None:
    registry = Registry(LocalStorage(root))
    mv = registry.register("m", {"model.bin": f"model from worker {n}".encode()}, {"worker": n})
    registry.move_alias("m", "production", mv.version, reason=f"worker {n}")
    out.put((n, mv.version))


def test_eight_processes_register_and_promote_at_once(tmp_path: Path) -> None:
    root = str(tmp_path / "root")
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_register_and_promote, args=(root, n, out)) for n in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    results = dict(out.get(timeout=5) for _ in range(8))
    assert sorted(results.values()) == list(range(1, 9))  # 8 distinct versions
    registry = Registry(LocalStorage(root))
    for v in registry.versions("m"):  # every version complete and its bytes intact
        worker = v.manifest["worker"]
        assert results[worker] == v.version
        assert (
            registry.read_artifact("m", v.version, "model.bin")
            == f"model from worker {worker}".encode()
        )
    history = registry.alias("m", "production").history
    assert [h["seq"] for h in history] == list(range(1, 9))  # no gaps, no lost move
    assert sorted(h["version"] for h in history) == list(range(1, 9))
    for before, after in zip(history, history[1:]):
        assert after["previous"] == before["version"]  # a consistent chain of moves
    doc = json.loads(registry.storage.read("registry/m/aliases/production.json"))
    assert doc["version"] == history[-1]["version"]


def test_registration_and_promotion_are_idempotent_per_run(registry: Registry) -> None:
    first = registry.register_estimator("m", _estimator(), {"run_id": "train-abc"})
    registry.move_alias("m", "production", first.version, run_id="train-abc")
    again = registry.register_estimator("m", _estimator(), {"run_id": "train-abc"})
    state = registry.move_alias("m", "production", again.version, run_id="train-abc")
    assert again.version == first.version == 1
    assert [v.version for v in registry.versions("m")] == [1]
    assert [h["seq"] for h in state.history] == [1]
    other = registry.register_estimator("m", _estimator(), {"run_id": "train-def"})
    assert other.version == 2


def test_a_verified_model_is_loaded_once_per_registry(registry: Registry) -> None:
    registry.register_estimator("m", _estimator(2.0), {})
    first, _ = registry.load_model("m", version=1)
    key = "registry/m/versions/000001/model.skops"
    registry.storage.delete(key)  # a second load must not read the artifact again
    again, mv = registry.load_model("m", version=1)
    assert again is first and mv.version == 1
    with pytest.raises(NotFound):  # a fresh registry (a cold start) reads and verifies
        Registry(registry.storage).load_model("m", version=1)
