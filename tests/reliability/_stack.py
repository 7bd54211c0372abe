"""A reliability test project: its ``hookline.toml``, the built-in plugins, uploads.

Every scenario runs the real runner with the real built-in plugins (``pandas`` ingest,
``sklearn`` train, ``gates``, ``registry`` deploy) against a storage root that is a local
folder or a bucket on one of the emulators. Settings keep a run cheap (a shallow
decision tree on 60 rows) without turning any safety off.
"""

from __future__ import annotations

import importlib
import random
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hookline._manager import PluginManager, make_plugin_manager
from hookline.cli._app import event_for
from hookline.config import Config, load_config
from hookline.events import StorageEvent
from hookline.registry import Registry
from hookline.runner import Hookline
from hookline.runs import RunStore
from hookline.storage import Storage, open_storage

__all__ = [
    "MODEL",
    "PLUGINS",
    "TRAIN_PREFIX",
    "Project",
    "make_project",
    "plugin_manager",
    "training_csv",
]

MODEL = "churn"
TRAIN_PREFIX = "landing/train/"
PLUGINS = {
    "pandas": "hookline.plugins.ingest",
    "sklearn": "hookline.plugins.train",
    "gates": "hookline.plugins.gates",
    "registry": "hookline.plugins.registry",
    "reports": "hookline.plugins.reports",
}
"""The built-in plugins a training pipeline uses, by entry-point name."""

CONFIG = """\
[project]
name = "reliability"
storage = "{storage}"

[runs]
claim_timeout_seconds = {claim_timeout}

[limits]
max_upload_bytes = {max_upload_bytes}

[pipelines.train]
model = "{model}"
stages = ["ingest", "train", "validate", "deploy"]
trigger = {{ prefix = "{prefix}", suffix = [".csv", ".parquet", ".jsonl", ".json"] }}
# deliveries of the same bytes under several keys must each run and train
skip_unchanged = false

[plugins.pandas]
target = "y"
max_columns = 1000

[plugins.sklearn]
estimator = "sklearn.tree.DecisionTreeClassifier"
params = {{ max_depth = 3 }}
min_rows = 10

[plugins.gates]
min_rows = 20
must_beat_production = {must_beat_production}
max_latency_ms_per_row = 1000.0
"""


def plugin_manager() -> PluginManager:
    """A plugin manager with exactly the built-in training plugins, registered by name."""
    plugins = {name: importlib.import_module(module) for name, module in PLUGINS.items()}
    return make_plugin_manager(plugins=plugins, entry_points_group=None)


def training_csv(seed: int, rows: int = 60) -> bytes:
    """A small, learnable, labelled CSV: ``x1, x2, plan, y`` (``y`` follows ``x1``)."""
    rng = random.Random(seed)
    lines = ["x1,x2,plan,y"]
    for i in range(rows):
        x1 = rng.random()
        label = int(x1 + rng.gauss(0, 0.15) > 0.5) if i > 1 else i  # both classes present
        lines.append(f"{x1:.4f},{rng.random():.4f},{rng.choice(['basic', 'pro', 'team'])},{label}")
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Project:
    """A project folder with ``hookline.toml`` whose storage root is ``root``.

    :param folder: where ``hookline.toml`` is.
    :param root: the storage root URI (a folder or ``s3://``/``gs://``/``az://`` bucket).
    """

    folder: Path
    root: str
    _storage: Storage | None = field(default=None, repr=False)

    @property
    def config_path(self) -> Path:
        return self.folder / "hookline.toml"

    def config(self) -> Config:
        return load_config(self.config_path)

    @property
    def storage(self) -> Storage:
        """The storage root as seen directly (no fault injection): the ground truth."""
        if self._storage is None:
            self._storage = open_storage(self.root)
        return self._storage

    @property
    def registry(self) -> Registry:
        return Registry(self.storage)

    @property
    def runs(self) -> RunStore:
        return RunStore(self.storage)

    def app(self, storage: Storage | None = None) -> Hookline:
        """A fresh runtime, like one function instance: its own plugin manager and, unless
        ``storage`` is given, its own storage client."""
        return Hookline(
            self.config(), pm=plugin_manager(), storage=storage or open_storage(self.root)
        )

    def upload(self, key: str, data: bytes) -> StorageEvent:
        """Write ``data`` at ``key`` (relative to the root) and return the event a cloud
        trigger would deliver for it."""
        info = self.storage.write(key, data)
        return event_for(self.storage, info)


def make_project(folder: Path, root: str, **options: Any) -> Project:
    """Write ``hookline.toml`` for the storage root ``root`` into ``folder``.

    :param options: ``claim_timeout`` (seconds, default 900), ``max_upload_bytes``,
        ``must_beat_production`` (``"true"``/``"false"``, default false).
    """
    folder.mkdir(parents=True, exist_ok=True)
    values = {
        "storage": root,
        "claim_timeout": 900,
        "max_upload_bytes": 16 * 1024 * 1024,
        "model": MODEL,
        "prefix": TRAIN_PREFIX,
        "must_beat_production": "false",
        **options,
    }
    (folder / "hookline.toml").write_text(textwrap.dedent(CONFIG.format(**values)))
    return Project(folder, root)
