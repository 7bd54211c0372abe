"""Run terraform offline against the schema-only providers of one end of the constraints.

A filesystem mirror per end ("low", "high") holds, for each provider, a launcher of
schema_provider.py with that version's extract; a CLI configuration installs
registry.terraform.io/hashicorp/* from it and nothing from the network. `terraform init`
then records the exact version it picked in .terraform.lock.hcl, which the tests read back.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from .pins import PINS
from .usage import REPO

SCHEMAS = Path(__file__).resolve().parent / "schemas"
PROVIDER = Path(__file__).resolve().parent / "schema_provider.py"
SETUP = REPO / "tests" / "terraform" / "setup_provider.sh"
VENV = REPO / ".cache" / "tf-provider-venv"
MIRRORS = REPO / ".cache" / "terraform-mirror"
TERRAFORM = shutil.which("terraform")

__all__ = ["TERRAFORM", "cli_config", "environment", "run"]


def _python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        result = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{SETUP} failed:\n{result.stdout}{result.stderr}"
    return python


def cli_config(end: str) -> Path:
    """Write (idempotently) the mirror and the CLI configuration of one end; return the config."""
    mirror = MIRRORS / end
    python = _python()
    for pin in (p for p in PINS if p.end == end):
        folder = mirror / "registry.terraform.io" / pin.source / pin.version / "linux_amd64"
        folder.mkdir(parents=True, exist_ok=True)
        launcher = folder / f"terraform-provider-{pin.provider}_v{pin.version}"
        text = f'#!/bin/sh\nexec "{python}" "{PROVIDER}" "{SCHEMAS / (pin.key + ".json")}" "$@"\n'
        if not launcher.exists() or launcher.read_text() != text:
            launcher.write_text(text)
            launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    config = MIRRORS / f"{end}.tfrc"
    config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n'
    )
    return config


def environment(end: str, data_dir: Path) -> dict[str, str]:
    """The environment of an offline terraform run (never the machine's own CLI config)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update(
        CHECKPOINT_DISABLE="1",
        TF_IN_AUTOMATION="1",
        TF_CLI_CONFIG_FILE=str(cli_config(end)),
        TF_DATA_DIR=str(data_dir),
    )
    return env


def run(
    args: list[str], cwd: Path, env: dict[str, str], timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    assert TERRAFORM is not None, "terraform is not installed"
    return subprocess.run(
        [TERRAFORM, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
