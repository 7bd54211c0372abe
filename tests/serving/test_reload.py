"""Model reload: the alias is followed, checked at most every reload_seconds, and a new
version is swapped in only once fully loaded -- every response names a version that was."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hookline.adapters.serving._loader import ModelHolder, build_bundle

from .conftest import RECORD, Project, fitted, make_project

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# v1 answers "yes" for RECORD; v2 has its labels flipped and answers "no".
ANSWER = {1: "yes", 2: "no", 3: "yes"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_503_before_promotion_then_served_after(project: Project) -> None:
    version = project.register()
    with TestClient(project.app()) as c:
        assert c.post("/predict", json=RECORD).status_code == 503
        project.promote(version)
        r = c.post("/predict", json=RECORD)
        assert r.status_code == 200 and r.json()["version"] == version


def test_alias_checked_at_most_every_reload_seconds(project: Project) -> None:
    project.promote(project.register())
    clock = Clock()
    holder = ModelHolder(project.registry, "churn", "production", 30, clock=clock)
    reads = []
    real = project.registry.alias

    class CountingRegistry:
        def __getattr__(self, name: str) -> Any:
            return getattr(holder_registry, name)

        def alias(self, *a: Any) -> Any:
            reads.append(clock.now)
            return real(*a)

    holder_registry = project.registry
    holder.registry = CountingRegistry()  # type: ignore[assignment]
    assert holder.load().version == 1
    assert reads == [1000.0]
    project.promote(project.register(fitted(flip=True)))
    for _ in range(50):
        assert holder.get_nowait().version == 1  # type: ignore[union-attr]
    clock.now += 29.9
    holder.get_nowait()
    assert reads == [1000.0]  # not due yet
    clock.now += 0.2
    assert holder.get_nowait().version == 1  # type: ignore[union-attr]  # answered at once
    deadline = time.monotonic() + 10
    while holder.current().version != 2:  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the background reload never swapped"
        time.sleep(0.01)
    assert len(reads) == 2


def test_no_model_is_rechecked_only_when_due(project: Project) -> None:
    clock = Clock()
    holder = ModelHolder(project.registry, "churn", "production", 10, clock=clock)
    from hookline.adapters.serving._loader import ModelUnavailable

    with pytest.raises(ModelUnavailable, match="no model is promoted yet"):
        holder.load()
    project.promote(project.register())
    with pytest.raises(ModelUnavailable):
        holder.load()  # checked 0 s ago: still the cached answer
    clock.now += 10
    assert holder.load().version == 1


def test_promotion_under_load_never_serves_a_half_loaded_model(tmp_path) -> None:
    project = make_project(tmp_path / "p", reload=0)
    project.promote(project.register())
    v2 = project.register(fitted(flip=True))
    loaded_at: dict[int, float] = {}
    started = threading.Event()

    def slow_loader(registry: Any, name: str, alias: str, version: int) -> Any:
        if version != 1:
            started.set()
            time.sleep(0.5)  # a large model: requests keep coming meanwhile
        bundle = build_bundle(registry, name, alias, version)
        loaded_at[version] = time.monotonic()
        return bundle

    holder = ModelHolder(project.registry, "churn", "production", 0.05, loader=slow_loader)
    app = project.app(holder=holder)
    stop = threading.Event()
    results: list[list[tuple[float, int, str, str]]] = []

    def worker() -> None:
        seen: list[tuple[float, int, str, str]] = []
        results.append(seen)
        with TestClient(app) as c:
            while not stop.is_set():
                r = c.post("/predict", json=RECORD)
                assert r.status_code == 200, r.text
                body = r.json()
                seen.append(
                    (
                        time.monotonic(),
                        body["version"],
                        body["predictions"][0],
                        r.headers["x-hookline-model-version"],
                    )
                )

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(worker) for _ in range(4)]
        time.sleep(0.3)
        project.promote(v2)
        assert started.wait(10), "the new version was never loaded"
        deadline = time.monotonic() + 20
        while not all(s and s[-1][1] == v2 for s in results):
            assert time.monotonic() < deadline, "version 2 was never served by every thread"
            time.sleep(0.05)
        time.sleep(0.2)
        stop.set()
        for f in futures:
            f.result()
    total = sum(len(s) for s in results)
    assert total > 40
    for seen in results:
        versions = [v for _, v, _, _ in seen]
        assert set(versions) == {1, 2}
        assert versions == sorted(versions), "a thread went back to the old version"
        for at, version, answer, header in seen:
            assert header == str(version)
            assert answer == ANSWER[version], "the response names a version that did not make it"
            assert at >= loaded_at[version], "served before the version was fully loaded"


def test_a_broken_new_version_keeps_the_old_one_serving(project: Project) -> None:
    project.promote(project.register())
    holder = ModelHolder(project.registry, "churn", "production", 0)
    with TestClient(project.app(holder=holder)) as c:
        assert c.post("/predict", json=RECORD).json()["version"] == 1
        bad = project.register(fitted(flip=True))
        key = f"registry/churn/versions/{bad:06d}/model.skops"
        project.storage.write(key, project.storage.read(key)[:-5])
        project.promote(bad)
        holder.check_now()
        r = c.post("/predict", json=RECORD)
        assert r.status_code == 200 and r.json()["version"] == 1
        health = c.get("/health").json()
        assert health["version"] == 1
        assert "version 2" in health["last_error"] and "checksum mismatch" in health["last_error"]
        fixed = project.register(fitted(flip=True))
        project.promote(fixed)
        holder.check_now()
        assert c.post("/predict", json=RECORD).json() == {
            "model": "churn",
            "version": fixed,
            "alias": "production",
            "predictions": ["no"],
        }
        assert c.get("/health").json()["last_error"] is None


def test_rollback_and_unpromote_are_followed(project: Project) -> None:
    project.promote(project.register())
    project.promote(project.register(fitted(flip=True)))
    holder = ModelHolder(project.registry, "churn", "production", 0)
    with TestClient(project.app(holder=holder)) as c:
        assert c.post("/predict", json=RECORD).json()["version"] == 2
        project.registry.rollback("churn")
        holder.check_now()
        assert c.post("/predict", json=RECORD).json()["predictions"] == ["yes"]
        project.promote(None)
        holder.check_now()
        r = c.post("/predict", json=RECORD)
        assert r.status_code == 503 and "no model is promoted" in r.json()["detail"]


def test_storage_trouble_keeps_serving(project: Project) -> None:
    project.promote(project.register())
    holder = ModelHolder(project.registry, "churn", "production", 0)
    holder.load()

    def broken(*a: Any) -> Any:
        raise OSError("bucket unreachable")

    holder.registry.alias = broken  # type: ignore[method-assign]
    holder.check_now()
    assert holder.current().version == 1  # type: ignore[union-attr]
    assert "bucket unreachable" in (holder.last_error or "")
