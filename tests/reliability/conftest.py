"""Fixtures of the reliability suite.

* ``scale``: ``fast`` (what ``make test`` runs) or ``soak`` (marked ``soak``: what
  ``make soak`` runs, the same scenarios with more events, more workers, every case).
* ``backend``: the storage root's kind, ``local``, ``s3``, ``gcs`` or ``azure`` (the
  emulators from tests/emulators, started once per worker).
* ``project``: a project on a fresh storage root of that kind (a fresh bucket).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ._stack import Project, make_project

T = TypeVar("T")

BACKENDS = ("local", "s3", "gcs", "azure")
SERVERS = {"s3": "s3_server", "gcs": "gcs_server", "azure": "azurite_server"}


@dataclass(frozen=True)
class Scale:
    name: str

    @property
    def soak(self) -> bool:
        return self.name == "soak"

    def pick(self, fast: T, soak: T) -> T:
        return soak if self.soak else fast


def backend_params(fast: Sequence[str] = BACKENDS, only: Sequence[str] = BACKENDS) -> list[Any]:
    """``backend`` parameters for the kinds in ``only``; those not in ``fast`` run only in
    the soak suite (``make test`` keeps a cheap, representative subset)."""
    return [
        pytest.param(
            name,
            marks=[
                *([] if name == "local" else [pytest.mark.emulator]),
                *([] if name in fast else [pytest.mark.soak]),
            ],
            id=name,
        )
        for name in only
    ]


@pytest.fixture(params=["fast", pytest.param("soak", marks=pytest.mark.soak)])
def scale(request: pytest.FixtureRequest) -> Scale:
    return Scale(request.param)


@pytest.fixture(params=backend_params())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def root_for(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """A fresh storage root of kind ``backend``: a folder, or a prefix in a new bucket."""
    if backend == "local":
        return str(tmp_path / "root")
    server = request.getfixturevalue(SERVERS[backend])
    return f"{server.scheme}://{server.new_bucket('rel')}/root"


@pytest.fixture
def root(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    return root_for(request, backend, tmp_path)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HOOKLINE_STORAGE",
        "HOOKLINE_CONFIG",
        "HOOKLINE_PLUGINS",
        "HOOKLINE_DISABLE_PLUGINS",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(root: str, tmp_path: Path, clean_env: None) -> Project:
    return make_project(tmp_path / "project", root)
