"""pyarrow is the `parquet` extra: without it, a Parquet upload says how to install it,
and CSV still works."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart"

# Run in a fresh interpreter where `import pyarrow` fails as it does when pyarrow is not
# installed (pandas then never takes its pyarrow paths), then drive the real CLI.
WITHOUT_PYARROW = textwrap.dedent(
    """
    import sys

    class NoPyarrow:
        def find_spec(self, name, path=None, target=None):
            if name == "pyarrow" or name.startswith("pyarrow."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NoPyarrow())
    from hookline.cli import main

    sys.exit(main(sys.argv[1:]))
    """
)


def test_pyarrow_is_an_extra_not_a_base_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("pyarrow") for d in project["dependencies"])
    assert any(d.startswith("pyarrow") for d in project["optional-dependencies"]["parquet"])
    assert "parquet" in project["optional-dependencies"]["all"][0]


def _hookline(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env["HOOKLINE_PLUGINS"] = "pandas,sklearn,gates,registry,drift"
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_PYARROW, *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_parquet_upload_without_pyarrow_says_how_to_install_it(tmp_path: Path) -> None:
    toml = (QUICKSTART / "hookline.toml").read_text()
    toml = toml.replace(
        'trigger = { prefix = "landing/train/", suffix = ".csv" }',
        'trigger = { prefix = "landing/train/", suffix = [".csv", ".parquet"] }',
    )
    (tmp_path / "hookline.toml").write_text(toml)
    shutil.copy(QUICKSTART / "batch1.csv", tmp_path / "batch1.csv")
    pd.read_csv(QUICKSTART / "batch2.csv").to_parquet(tmp_path / "batch2.parquet")

    done = _hookline(tmp_path, "run", "batch2.parquet", "--json")
    assert done.returncode == 1, done.stderr
    [result] = json.loads(done.stdout)
    assert result["status"] == "failed"
    done = _hookline(tmp_path, "runs", "show", result["run_id"], "--json")
    error = json.loads(done.stdout)["error"]
    assert (
        "batch2.parquet: reading Parquet needs pyarrow, which is not installed"
        in (error["message"])
    )
    assert "pip install 'hookline[parquet]'" in error["hint"]
    assert "hookline package --parquet" in error["hint"]
    landed = tmp_path / ".hookline" / "landing" / "train" / "batch2.parquet"
    assert landed.read_bytes() == (tmp_path / "batch2.parquet").read_bytes()  # nothing lost

    done = _hookline(tmp_path, "run", "batch1.csv", "--json")  # CSV needs no pyarrow
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["status"] == "succeeded"
