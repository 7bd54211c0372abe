"""`terraform fmt` on the whole tree; `init`/`validate`/`test` on every module and example.

Providers cannot be downloaded here: the provider modules and the examples are initialised
from a filesystem mirror of schema-only providers (tests/terraform/providers/schema_provider.py),
once with the lowest and once with the highest provider versions the constraints allow, and
their `terraform test` files use mock providers. Everything runs in a temporary copy of
terraform/, so no `.terraform` folder is left in the tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ._hcl import MODULES, TERRAFORM, load_dir
from .providers import plugins
from .providers.pins import PINS

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


# --- modules and examples with providers, offline ------------------------------------------

WITH_PROVIDERS = [
    "modules/aws",
    "modules/gcp",
    "modules/azure",
    "examples/aws",
    "examples/gcp",
    "examples/azure",
    "examples/hybrid",
]


def _copy_tree(tmp_path: Path) -> Path:
    work = tmp_path / "terraform"
    shutil.copytree(TERRAFORM, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    return work


def _selected_versions(folder: Path) -> dict[str, str]:
    """provider -> version, from the lock file `terraform init` wrote."""
    import re

    text = (folder / ".terraform.lock.hcl").read_text()
    return dict(
        re.findall(
            r'provider "registry.terraform.io/hashicorp/([a-z]+)" \{\s*version\s*=\s*"([0-9.]+)"',
            text,
        )
    )


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("end", ["low", "high"])
@pytest.mark.parametrize("rel", WITH_PROVIDERS)
def test_validates_and_tests_offline(rel: str, end: str, tmp_path: Path) -> None:
    import json

    folder = _copy_tree(tmp_path) / rel
    env = plugins.environment(end, tmp_path / ".tfdata")
    init = plugins.run(["init", "-backend=false", "-input=false", "-no-color"], folder, env)
    assert init.returncode == 0, f"terraform init failed:\n{init.stdout}{init.stderr}"
    wanted = {p.provider: p.version for p in PINS if p.end == end}
    selected = _selected_versions(folder)
    assert selected and all(wanted[p] == v for p, v in selected.items()), (selected, wanted)

    validate = plugins.run(["validate", "-json", "-no-color"], folder, env)
    report = json.loads(validate.stdout)
    assert report["valid"] and report["error_count"] == 0, json.dumps(
        report["diagnostics"], indent=1
    )
    assert report["warning_count"] == 0, json.dumps(report["diagnostics"], indent=1)

    if not (folder / "tests").is_dir() or not list((folder / "tests").glob("*.tftest.hcl")):
        pytest.fail(f"{rel} has no terraform test files")
    test = plugins.run(["test", "-no-color"], folder, env, timeout=900)
    assert test.returncode == 0, f"terraform test failed:\n{test.stdout}{test.stderr}"
    assert " 0 failed" in test.stdout and "passed" in test.stdout, test.stdout
