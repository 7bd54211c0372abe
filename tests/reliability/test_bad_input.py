"""Bad input: every file of the reliability corpus (tests/data/bad/rel_*, plus large cases
built here) and every hostile object key goes through the real runner and the built-in
plugins, and ends in a clear ``failed`` record (or ``ignored``, for keys that are
refused) -- never a crash, never a promotion. The project already has a healthy
production model, which must stay exactly where it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from hookline import errors
from hookline.events import StorageEvent
from hookline.storage import parse_uri

from ._audit import audit
from ._corpus import CORPUS, GENERATED, committed
from ._counters import record
from ._stack import MODEL, TRAIN_PREFIX, Project, make_project, training_csv
from .conftest import backend_params, root_for

# The errors a bad upload may end in: hookline's own, which say what and where.
CLEAR = {name for name in errors.__all__ if isinstance(getattr(errors, name), type)}
# Outcomes other than "failed" that are right for a file (nothing is promoted by them).
OTHER = {"rel_bom_only.csv": {"failed", "rejected"}}
LONG_KEY = "landing/train/" + "a" * 2000 + ".csv"


def corpus() -> dict[str, bytes]:
    on_disk = {p.name: p.read_bytes() for p in sorted(CORPUS.glob("rel_*")) if p.is_file()}
    assert set(committed()) <= set(on_disk), "run: python -m reliability._corpus"
    return {**on_disk, **{name: make() for name, make in GENERATED.items()}}


def trained_project(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Project:
    project = make_project(
        tmp_path / "project", root_for(request, backend, tmp_path), max_upload_bytes=4 * 1024 * 1024
    )
    [first] = project.app().handle(project.upload(f"{TRAIN_PREFIX}good.csv", training_csv(1)))
    assert first.status == "succeeded", first.message
    return project


@pytest.mark.parametrize("backend", backend_params(fast=("local",)))
def test_every_bad_file_fails_clearly_and_promotes_nothing(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, clean_env: None
) -> None:
    project = trained_project(request, backend, tmp_path)
    app = project.app()
    problems: dict[str, str] = {}
    files = corpus()
    for name, data in files.items():
        key = f"{TRAIN_PREFIX}{name}"
        try:
            [result] = app.handle(project.upload(key, data))
        except Exception as exc:  # noqa: BLE001 - a crash is exactly what we look for
            problems[name] = f"handle raised {type(exc).__name__}: {exc}"
            continue
        state = project.registry.alias(MODEL, "production")
        if state is None or state.version != 1:
            problems[name] = f"production moved to {state and state.version}"
            break  # every later file would be judged against the wrong model
        error = (result.record or {}).get("error") or {}
        if result.status not in OTHER.get(name, {"failed"}):
            problems[name] = f"{result.status}: {result.message[:200]}"
        elif result.status == "failed" and error.get("type") not in CLEAR:
            problems[name] = f"not a clear error: {error.get('type')}: {error['message'][:300]}"
        elif result.status == "failed" and name not in error.get("message", ""):
            problems[name] = f"the error does not name the file: {error['message'][:300]}"
    record("bad_files_tried", len(files))
    found = audit(project.storage, MODEL)
    assert found and found.versions == [1], found.problems or found.versions
    assert not problems, "\n".join(f"{name}: {why}" for name, why in problems.items())


HOSTILE_KEYS = [
    "landing/train/../../outside.csv",
    "landing/train/../../../outside.csv",
    "landing/train/..%2F..%2Foutside.csv",
    "landing/train/%2e%2e/%2e%2e/outside.csv",
    "landing/train/./../../outside.csv",
    "/landing/train/abs.csv",
    "landing/train/..\\..\\outside.csv",
    "landing/train/nul\x00.csv",
    "landing/train/line\nbreak.csv",
    "landing/train//double.csv",
    LONG_KEY,
]


def hostile_event(project: Project, key: str) -> StorageEvent:
    """The event a cloud parser would build for an object named ``key`` (relative to the
    root), without any validation of its own."""
    root = parse_uri(project.root)
    if root.scheme == "file":
        from urllib.parse import quote

        return StorageEvent(
            uri=f"file://{quote(root.path + '/' + key)}",
            bucket="",
            key=key,
            etag="x",
            source="local",
        )
    full = f"{root.path}/{key}"
    return StorageEvent(
        uri=f"{root.scheme}://{root.bucket}/{full}",
        bucket=root.bucket,
        key=full,
        etag="x",
        source=root.scheme,
    )


@pytest.mark.parametrize("backend", backend_params(fast=("local",)))
def test_hostile_keys_are_refused_and_never_read(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, clean_env: None
) -> None:
    project = trained_project(request, backend, tmp_path)
    # Healthy training data waits just outside the root: reading it through any of these
    # keys would train and promote a model from it.
    outside = training_csv(99)
    root = parse_uri(project.root)
    if root.scheme == "file":
        Path(root.path).parent.joinpath("outside.csv").write_bytes(outside)
    else:
        from hookline.storage import open_storage

        open_storage(f"{root.scheme}://{root.bucket}").write("outside.csv", outside)
    app = project.app()
    problems: dict[str, str] = {}
    for key in HOSTILE_KEYS:
        try:
            results = app.handle(hostile_event(project, key))
        except Exception as exc:  # noqa: BLE001
            problems[key] = f"handle raised {type(exc).__name__}: {exc}"
            continue
        for result in results:
            error = (result.record or {}).get("error") or {}
            if result.status == "failed" and error.get("type") in CLEAR:
                continue
            if result.status != "ignored":
                problems[key] = f"{result.status}: {result.message[:200]}"
    record("bad_keys_tried", len(HOSTILE_KEYS))
    found = audit(project.storage, MODEL)
    assert found and found.versions == [1], "a hostile key trained a model: " + str(
        found.problems or found.versions
    )
    assert not problems, "\n".join(f"{key!r}: {why}" for key, why in problems.items())
