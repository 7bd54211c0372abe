"""Fixtures for the built-in plugins' tests (helpers live in _plugin_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _plugin_helpers import BUILTINS, Project
from hookline.storage import LocalStorage


@pytest.fixture(autouse=True)
def _one_thread():
    """One OpenMP/BLAS thread: the machine is shared, and oversubscribed OpenMP (histogram
    gradient boosting) slows down by orders of magnitude."""
    import sklearn.ensemble  # noqa: F401  (loads OpenMP first, or the limit cannot reach it)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "store")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A project that loads only the built-in plugins (another installed plugin could
    replace a stage, which is the point of plugins but not of these tests)."""
    monkeypatch.setenv("HOOKLINE_PLUGINS", BUILTINS)
    monkeypatch.setenv("HOOKLINE_LOG_LEVEL", "CRITICAL")
    monkeypatch.delenv("HOOKLINE_STORAGE", raising=False)
    monkeypatch.delenv("HOOKLINE_CONFIG", raising=False)
    return Project(tmp_path)
