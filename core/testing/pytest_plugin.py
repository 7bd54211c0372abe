"""hookline's pytest plugin: fixtures for plugin authors.

Registered under the ``pytest11`` entry point, so it is active in every pytest session of
an environment where hookline is installed. It therefore imports nothing at module level
beyond pytest itself; each fixture imports what it needs when it is used.

Fixtures:

``hookline_pm``
    a fresh plugin manager with the hook specs and no plugins (no entry points are
    loaded); register yours with ``hookline_pm.register_plugin(obj, "name")``.
``hookline_storage``
    a :class:`~hookline.storage.LocalStorage` root in a temporary folder.
``hookline_dataset``
    a sample :class:`~hookline.types.Dataset`, parametrized over the task types: a test
    using it runs once for ``classification`` and once for ``regression``.
``hookline_classification_dataset`` / ``hookline_regression_dataset``
    one task type each.
``hookline_source``
    a :class:`~hookline.types.Source`: the classification table as an uploaded CSV.
``hookline_events``
    ``{"aws" | "gcp" | "azure" | "local": SampleEvent}``: each cloud's raw payload
    (``.payload``) and the :class:`~hookline.events.StorageEvent` it means (``.event``).
``hookline_context``
    a factory ``hookline_context(pipeline="train", plugins=None, task="classification",
    event=None)`` returning a :class:`~hookline.types.RunContext` over ``hookline_storage``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from hookline._manager import PluginManager
    from hookline.events import RunEvent
    from hookline.storage import LocalStorage
    from hookline.testing import SampleEvent
    from hookline.types import Dataset, RunContext, Source


@pytest.fixture
def hookline_pm() -> PluginManager:
    """A fresh plugin manager: the hook specs, no plugins, no entry points."""
    from hookline._manager import make_plugin_manager

    return make_plugin_manager(entry_points_group=None, pinned=(), disabled=())


@pytest.fixture
def hookline_storage(tmp_path: Path) -> LocalStorage:
    """A local storage root in a temporary folder."""
    from hookline.storage import LocalStorage

    return LocalStorage(tmp_path / "hookline-storage")


@pytest.fixture(params=["classification", "regression"])
def hookline_dataset(request: pytest.FixtureRequest) -> Dataset:
    """A sample dataset of each task type (the test runs once per type)."""
    from hookline.testing import sample_dataset

    return sample_dataset(request.param)


@pytest.fixture
def hookline_classification_dataset() -> Dataset:
    """The sample classification dataset (label ``churned``: ``yes``/``no``)."""
    from hookline.testing import sample_dataset

    return sample_dataset("classification")


@pytest.fixture
def hookline_regression_dataset() -> Dataset:
    """The sample regression dataset (label ``monthly_spend``)."""
    from hookline.testing import sample_dataset

    return sample_dataset("regression")


@pytest.fixture
def hookline_source(tmp_path: Path) -> Source:
    """The classification table as an uploaded CSV, fetched and checksummed."""
    from hookline.testing import sample_source

    return sample_source(tmp_path / "uploads")


@pytest.fixture
def hookline_events() -> dict[str, SampleEvent]:
    """Realistic storage events per cloud: raw payload and expected StorageEvent."""
    from hookline.testing import sample_events

    return sample_events()


@pytest.fixture
def hookline_context(hookline_storage: LocalStorage, tmp_path: Path) -> Callable[..., RunContext]:
    """A factory of run contexts over ``hookline_storage``.

    ``hookline_context(pipeline="train", plugins={"mine": {...}}, task="classification",
    event=None)``: ``pipeline`` is ``train`` or ``monitor``; unless ``event`` is given, the
    sample table of ``task`` is uploaded to the pipeline's landing prefix and the context's
    event points at it.
    """
    from hookline.testing import make_context, sample_source

    def make(
        *,
        pipeline: str = "train",
        plugins: Mapping[str, Mapping[str, Any]] | None = None,
        task: str = "classification",
        event: RunEvent | None = None,
    ) -> RunContext:
        upload = None
        if event is None:
            upload = sample_source(tmp_path / "uploads", task).path  # type: ignore[arg-type]
        return make_context(
            hookline_storage, pipeline=pipeline, plugins=plugins, event=event, upload=upload
        )

    return make
