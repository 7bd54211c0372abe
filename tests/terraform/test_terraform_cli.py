"""`terraform fmt` on the whole tree; `init`/`validate`/`test` on the provider-free modules.

Providers cannot be downloaded here, so only modules without providers are initialised. They
run in a temporary copy, so no `.terraform` folder is left in the tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ._hcl import MODULES, TERRAFORM, load_dir

TF = shutil.which("terraform")
pytestmark = pytest.mark.skipif(TF is None, reason="the terraform binary is not installed")

# Modules with no provider: everything in them can be validated and tested offline.
PROVIDER_FREE = ["common"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CLI_CONFIG_FILE"}
    env.update(CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", TF_DATA_DIR=str(tmp_path / ".tfdata"))
    return env


def _tf(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert TF is not None
    return subprocess.run(
        [TF, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_fmt_check_whole_tree(tmp_path: Path) -> None:
    result = _tf(
        ["fmt", "-check", "-recursive", "-diff", str(TERRAFORM)], TERRAFORM, _env(tmp_path)
    )
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("name", PROVIDER_FREE)
def test_provider_free_module_declares_no_provider(name: str) -> None:
    module = load_dir(MODULES / name)
    assert "provider" not in module
    for block in module.get("terraform", []):
        assert "required_providers" not in block, f"modules/{name} must stay provider-free"
    assert not module.get("resource") and not module.get("data"), (
        f"modules/{name} must hold only variables, locals and outputs"
    )


@pytest.mark.parametrize("name", PROVIDER_FREE)
def test_provider_free_module_validates_and_tests(name: str, tmp_path: Path) -> None:
    work = tmp_path / name
    shutil.copytree(MODULES / name, work, ignore=shutil.ignore_patterns(".terraform*"))
    env = _env(tmp_path)
    for args in (
        ["init", "-backend=false", "-input=false", "-no-color"],
        ["validate", "-no-color"],
        ["test", "-no-color"],
    ):
        result = _tf(args, work, env)
        assert result.returncode == 0, (
            f"terraform {args[0]} failed:\n{result.stdout}{result.stderr}"
        )
    assert " 0 failed" in result.stdout and "passed" in result.stdout, result.stdout


def test_validation_messages_are_helpful(tmp_path: Path) -> None:
    """A trigger on the framework's own outputs is rejected with a message that says why."""
    work = tmp_path / "common"
    shutil.copytree(MODULES / "common", work, ignore=shutil.ignore_patterns(".terraform*", "tests"))
    (work / "bad.auto.tfvars").write_text(
        'cloud = "aws"\nname = "demo"\nbucket = "demo-bucket"\n'
        'pipelines = { loop = { prefix = "registry/models/" } }\n'
    )
    env = _env(tmp_path)
    assert _tf(["init", "-backend=false", "-input=false", "-no-color"], work, env).returncode == 0
    result = _tf(["plan", "-input=false", "-no-color"], work, env)
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    assert "Loop safety" in message and 'loop="registry/models/"' in message, message
