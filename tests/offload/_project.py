"""An offloading test project: a ``hookline.toml`` whose training pipeline hands its runs to
a compute backend, the built-in plugins, uploads, and helpers to watch jobs.

Jobs of the ``local`` backend are real processes (``python -m hookline job run`` under a
supervisor); they load the built-in plugins through the installed entry points, pinned by
``[project] plugins``. A shallow tree on a few hundred rows keeps a run to a few seconds;
``slow_rows`` makes training take long enough to kill a job in the middle of it.
"""

from __future__ import annotations

import json
import os
import random
import textwrap
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hookline import jsonio, layout
from hookline.cli._app import event_for
from hookline.events import StorageEvent
from hookline.project import Project
from hookline.registry import Registry
from hookline.runner import Hookline
from hookline.storage import Storage, open_storage

MODEL = "churn"
PREFIX = "landing/train/"

CONFIG = """\
[project]
name = "offload"
storage = "{storage}"
plugins = ["pandas", "sklearn", "gates", "registry"]

[runs]
claim_timeout_seconds = {claim_timeout}

[pipelines.train]
model = "{model}"
stages = ["ingest", "train", "validate", "deploy"]
trigger = {{ prefix = "{prefix}", suffix = ".csv" }}

[pipelines.train.compute]
{compute}

[plugins.pandas]
target = "y"

[plugins.sklearn]
estimator = "{estimator}"
params = {params}
min_rows = 10

[plugins.gates]
min_rows = 20
must_beat_production = false
max_latency_ms_per_row = 1000.0
"""


def training_csv(seed: int, rows: int = 200) -> bytes:
    """A learnable labelled CSV: ``x1, x2, plan, y`` (``y`` follows ``x1``)."""
    rng = random.Random(seed)
    lines = ["x1,x2,plan,y"]
    for i in range(rows):
        x1 = rng.random()
        label = int(x1 + rng.gauss(0, 0.15) > 0.5) if i > 1 else i
        lines.append(f"{x1:.4f},{rng.random():.4f},{rng.choice(['basic', 'pro', 'team'])},{label}")
    return ("\n".join(lines) + "\n").encode()


def toml_table(values: Mapping[str, Any]) -> str:
    """``key = value`` lines for a TOML table (strings, numbers, lists, inline tables)."""
    return "\n".join(f"{k} = {_toml(v)}" for k, v in values.items())


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


@dataclass
class OffloadProject:
    """A project folder whose ``train`` pipeline offloads; see the module docstring."""

    folder: Path
    root: str
    state_dir: Path
    _storage: Storage | None = field(default=None, repr=False)

    @property
    def config_path(self) -> Path:
        return self.folder / "hookline.toml"

    @property
    def storage(self) -> Storage:
        if self._storage is None:
            self._storage = open_storage(self.root)
        return self._storage

    @property
    def registry(self) -> Registry:
        return Registry(self.storage)

    def app(self, **project: Any) -> Hookline:
        """A fresh runtime, like one function instance."""
        return Hookline(Project.open(str(self.config_path), **project))

    def upload(self, name: str, data: bytes) -> StorageEvent:
        info = self.storage.write(PREFIX + name, data)
        return event_for(self.storage, info)

    def dispatch(self, run_id: str) -> dict[str, Any]:
        return dict(jsonio.loads(self.storage.read(layout.run_dispatch_key(run_id))))

    def record(self, run_id: str) -> dict[str, Any] | None:
        try:
            return dict(jsonio.loads(self.storage.read(layout.run_record_key(run_id))))
        except Exception:
            return None

    def claim(self, run_id: str) -> dict[str, Any] | None:
        try:
            return dict(jsonio.loads(self.storage.read(layout.run_claim_key(run_id))))
        except Exception:
            return None

    def open_jobs(self) -> list[str]:
        return [layout.job_name_of(i.key) for i in self.storage.list(layout.JOBS)]

    def versions(self) -> list[int]:
        """Registered versions, read off storage (a manifest is written last)."""
        found = []
        for info in self.storage.list(layout.versions_prefix(MODEL)):
            number = layout.version_number(MODEL, info.key)
            if number is not None and number[1] == layout.MANIFEST:
                found.append(number[0])
        return sorted(found)

    # -- the local backend's jobs ---------------------------------------------------------

    def local_jobs(self) -> dict[str, dict[str, Any]]:
        """The local backend's job state files, by job name."""
        out = {}
        for path in sorted(self.state_dir.glob("*.json")):
            try:
                out[path.stem] = json.loads(path.read_text())
            except ValueError:
                continue  # being replaced
        return out

    def wait(
        self, what: Callable[[], Any], *, timeout: float = 120, every: float = 0.2, why: str = ""
    ) -> Any:
        """Poll ``what`` until it is truthy; fail with the jobs' logs after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = what()
            if value:
                return value
            time.sleep(every)
        raise AssertionError(f"timed out waiting for {why or what}:\n{self.logs()}")

    def settled(self, run_id: str, *, timeout: float = 180) -> dict[str, Any]:
        """The run's final record, once every local job of it has ended and reported."""

        def done() -> dict[str, Any] | None:
            record = self.record(run_id)
            jobs = self.local_jobs().values()
            busy = [
                j
                for j in jobs
                if j.get("run_id") == run_id and j.get("state") in ("pending", "running")
            ]
            return (
                record
                if record
                and record.get("status") in ("succeeded", "rejected", "failed")
                and not busy
                else None
            )

        record = self.wait(done, timeout=timeout, why=f"run {run_id} to settle")
        time.sleep(0.5)  # the last supervisor delivers its event after its state file
        return record

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.state_dir.glob("*.log"))
        )

    def kill_all(self) -> None:
        """End every local job process this project started (test teardown)."""
        import signal

        for doc in self.local_jobs().values():
            for key in ("pid", "supervisor_pid"):
                pid = doc.get(key)
                if pid:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass


def make_project(
    folder: Path,
    root: str | None = None,
    *,
    compute: Mapping[str, Any] | None = None,
    claim_timeout: int = 900,
    estimator: str = "sklearn.tree.DecisionTreeClassifier",
    params: Mapping[str, Any] | None = None,
) -> OffloadProject:
    """Write ``hookline.toml`` into ``folder`` with the ``train`` pipeline's ``compute``
    table (default: the local backend, always, 1-second heartbeats)."""
    folder.mkdir(parents=True, exist_ok=True)
    state_dir = folder / "jobs"
    root = root or str(folder / "store")
    table = {
        "backend": "local",
        "when": "always",
        "heartbeat_seconds": 1,
        "max_attempts": 3,
        **(compute or {}),
    }
    if table["backend"] == "local":
        table.setdefault("state_dir", str(state_dir))
    (folder / "hookline.toml").write_text(
        CONFIG.format(
            storage=root,
            claim_timeout=claim_timeout,
            model=MODEL,
            prefix=PREFIX,
            compute=toml_table(table),
            estimator=estimator,
            params=_toml(dict(params or {"max_depth": 3})),
        )
    )
    return OffloadProject(folder, root, state_dir)


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()
