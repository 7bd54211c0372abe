"""Fixtures for the plugin kit's own tests: plugins that follow the rules, and a fresh
virtual environment factory for the install tests."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hookline import CheckResult, Deployment, MonitorReport, hookimpl


class GoodPlugin:
    """Implements every hook the way the docs say, writing only through ctx.storage."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.registered: list[tuple[str, int]] = []
        self.moves: list[tuple[str, int | None, int | None]] = []
        self.updated: list[tuple[int, tuple[str, ...]]] = []

    @hookimpl
    def before_pipeline_run(self, ctx):
        self.calls.append("before_pipeline_run")

    @hookimpl
    def before_stage_run(self, ctx, stage):
        self.calls.append(f"before_stage_run:{stage}")

    @hookimpl
    def ingest(self, ctx, source):
        if source is None or source.suffix != ".csv":
            return None
        import pandas as pd
        from hookline import Dataset
        from hookline.testing import describe_frame

        frame = pd.read_csv(source.path)
        target = frame.columns[-1]
        schema, profile = describe_frame(frame, target)
        return Dataset(frame=frame, schema=schema, profile=profile, target=target, source=source)

    @hookimpl
    def train(self, ctx, dataset):
        from hookline.testing import sample_model

        return sample_model(dataset)

    @hookimpl
    def validate(self, ctx, dataset, model):
        rows = len(dataset.frame)
        checks = [
            CheckResult(
                name="good.min_rows",
                passed=rows >= 10,
                observed=rows,
                threshold=10,
                message="" if rows >= 10 else "too few rows",
            )
        ]
        if model is not None:
            checks.append(
                CheckResult(
                    name="good.has_metrics",
                    passed=bool(model.metrics),
                    observed=len(model.metrics),
                    threshold=1,
                    kind="model",
                    blocking=False,
                    message="no metrics",
                )
            )
        return checks

    @hookimpl
    def deploy(self, ctx, model, checks):
        version = ctx.registry.register_estimator(
            ctx.model_name, model.estimator, {"metrics": dict(model.metrics), "run_id": ctx.run_id}
        )
        return Deployment(
            target="registry",
            model=ctx.model_name,
            version=version.version,
            alias=None,
            status="registered",
        )

    @hookimpl
    def monitor(self, ctx, dataset):
        nulls = {k: int(v) for k, v in dataset.frame.isna().sum().items()}
        uri = ctx.write_output("nulls.json", json.dumps(nulls).encode())
        return MonitorReport(
            name="good.nulls",
            model=ctx.model_name,
            version=None,
            drifted=False,
            features={k: {"nulls": v} for k, v in nulls.items()},
            uri=uri,
        )

    @hookimpl
    def after_stage_run(self, ctx, stage, result, seconds):
        ctx.notes.setdefault("stages", []).append(stage)

    @hookimpl
    def on_stage_error(self, ctx, stage, error):
        ctx.notes["failed_stage"] = stage

    @hookimpl
    def after_pipeline_run(self, ctx, record):
        ctx.write_output("good-summary.json", json.dumps({"status": record["status"]}).encode())

    @hookimpl
    def on_pipeline_error(self, ctx, error, record):
        ctx.log.warning("run failed: %s", error)

    @hookimpl
    def after_version_registered(self, ctx, version):
        self.registered.append((version.model, version.version))

    @hookimpl
    def after_alias_moved(self, ctx, move):
        self.moves.append((move.alias, move.version, move.previous))

    @hookimpl
    def after_version_updated(self, ctx, version, meta):
        self.updated.append((meta.version, meta.changed))


@pytest.fixture
def good_plugin() -> GoodPlugin:
    return GoodPlugin()


def replace(obj: Any, **changes: Any) -> Any:
    return dataclasses.replace(obj, **changes)


# --- fresh virtual environments ------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
DEV_SITE = Path(sysconfig.get_paths()["purelib"])
_BUILD_LOCK = Path(tempfile.gettempdir()) / "hookline-editable-build.lock"


@dataclass
class Venv:
    """A virtual environment created for one test.

    How it avoids downloading anything: it is created with ``python -m venv --without-pip``
    (so no old pip/setuptools of its own shadow anything), and a ``.pth`` file in its
    site-packages appends the project .venv's site-packages to ``sys.path``. pandas,
    scikit-learn, pytest, pip and setuptools are then importable from there. The .venv's own
    ``.pth`` files are *not* executed (Python only processes .pth files in site directories,
    not in folders a .pth line adds), so the .venv's editable hookline is invisible: hookline
    is installed into the new environment from the checkout with
    ``pip install --no-deps --no-build-isolation -e /work/main``. Everything pip installs
    lands in the new environment's own site-packages, which comes first on ``sys.path``;
    pip leaves the .venv alone ("outside environment").
    """

    path: Path

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HOOKLINE_", "PYTHON", "PYTEST", "VIRTUAL_ENV", "PIP_"))
        }
        env.update(
            VIRTUAL_ENV=str(self.path),
            PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '')}",
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PIP_NO_INDEX="1",
            PIP_NO_INPUT="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        env.update(extra)
        return env

    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        timeout: float = 600,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command of this environment (``python``, ``hookline``...)."""
        exe = args[0] if os.path.isabs(args[0]) else str(self.bin / args[0])
        return subprocess.run(
            [exe, *args[1:]],
            cwd=cwd,
            env=env or self.env(),
            text=True,
            capture_output=True,
            timeout=timeout,
        )

    def pip_install(self, target: Path | str, *, editable: bool = False) -> None:
        args = ["python", "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q"]
        result = self.run(*args, *(["-e"] if editable else []), str(target))
        assert result.returncode == 0, f"pip install {target} failed:\n{result.stderr[-3000:]}"


def make_venv(path: Path) -> Venv:
    """Create the environment and install hookline from the checkout into it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    venv = Venv(path)
    site = subprocess.run(
        [venv.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    Path(site.stdout.strip(), "_hookline_dev_site.pth").write_text(f"{DEV_SITE}\n")
    with open(_BUILD_LOCK, "w") as lock:  # two xdist workers must not build the checkout at once
        fcntl.flock(lock, fcntl.LOCK_EX)
        venv.pip_install(ROOT, editable=True)
    check = venv.run("python", "-c", "import hookline, sys; print(hookline.__file__)")
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == str(ROOT / "core" / "__init__.py")
    return venv


@pytest.fixture
def fresh_venv(tmp_path: Path) -> Venv:
    return make_venv(tmp_path / "venv")
