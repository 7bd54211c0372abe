"""Fixtures for the packaging tests: one real build per bundle kind per session.

Builds use the real entry files in ``functions/`` and a frozen copy of the project source
(so another engineer's edit during the session cannot make two builds differ). pip's
downloads are cached in ``.cache/pip`` at the repository root, so a second session is fast.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _lambda_runtime import RuntimeAPI
from _pkg_helpers import MINIMAL_CONFIG, QUICKSTART, REPO


@pytest.fixture(scope="session", autouse=True)
def _pip_cache() -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    if not os.environ.get("PIP_CACHE_DIR"):
        patch.setenv("PIP_CACHE_DIR", str(REPO / ".cache" / "pip"))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hookline source, copied once: what every build of the session packages."""
    dest = tmp_path_factory.mktemp("project")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("core", "plugins", "adapters", "functions"):
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    return dest


@pytest.fixture(scope="session")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart's hookline.toml (a minimal one while the quickstart is missing)."""
    if QUICKSTART.is_file():
        return QUICKSTART
    path = tmp_path_factory.mktemp("config") / "hookline.toml"
    path.write_text(MINIMAL_CONFIG)
    return path


@pytest.fixture
def runtime_api() -> Iterator[RuntimeAPI]:
    servers: list[RuntimeAPI] = []

    def make(event: dict[str, Any]) -> RuntimeAPI:
        server = RuntimeAPI(event)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield make  # type: ignore[misc]
    for server in servers:
        server.closing.set()
        server.shutdown()
        server.server_close()
