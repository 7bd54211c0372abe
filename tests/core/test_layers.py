"""The layer contracts in pyproject.toml cannot silently miss a module."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def contracts() -> dict[str, dict]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    return {c["name"]: c for c in data["tool"]["importlinter"]["contracts"]}


def core_modules() -> set[str]:
    names = set()
    for path in (REPO / "core").iterdir():
        if path.name.startswith("__"):
            continue
        if path.suffix == ".py" or (path / "__init__.py").exists():
            names.add(f"hookline.{path.stem}")
    return names


def test_the_core_contract_covers_every_core_module() -> None:
    contract = next(c for n, c in contracts().items() if n.startswith("The core imports neither"))
    assert set(contract["source_modules"]) == core_modules()


def test_every_adapter_package_is_held_to_the_sdk_contracts() -> None:
    adapters = {
        f"hookline.adapters.{p.name}"
        for p in (REPO / "adapters").iterdir()
        if (p / "__init__.py").exists()
    }
    for cloud, sdk_contract in (
        ("aws", "AWS SDK"),
        ("gcp", "Google Cloud SDK"),
        ("azure", "Azure SDK"),
    ):
        contract = next(c for n, c in contracts().items() if n.startswith(sdk_contract))
        assert set(contract["source_modules"]) >= adapters - {f"hookline.adapters.{cloud}"}
