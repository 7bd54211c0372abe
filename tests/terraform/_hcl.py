"""Read the Terraform tree with python-hcl2 for structural tests."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
MODULES = TERRAFORM / "modules"
EXAMPLES = TERRAFORM / "examples"
_OPTIONS = SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)
_REF = re.compile(r"^\$\{(local|var)\.([A-Za-z0-9_]+)\}$")


@functools.cache
def load_dir(path: Path) -> dict[str, list[Any]]:
    """Parse every ``*.tf`` file of one module folder and merge the top-level lists."""
    merged: dict[str, list[Any]] = {}
    for tf in sorted(path.glob("*.tf")):
        with tf.open() as fh:
            parsed = hcl2.load(fh, serialization_options=_OPTIONS)
        for key, value in parsed.items():
            merged.setdefault(key, []).extend(value if isinstance(value, list) else [value])
    return merged


def blocks(module: dict[str, list[Any]], kind: str, type_: str) -> dict[str, dict[str, Any]]:
    """Resources (kind="resource") or data sources (kind="data") of one type, by name."""
    out: dict[str, dict[str, Any]] = {}
    for entry in module.get(kind, []):
        for name, body in entry.get(type_, {}).items():
            out[name] = body
    return out


def locals_of(module: dict[str, list[Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in module.get("locals", []):
        out.update(entry)
    return out


def variables_of(module: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entry in module.get("variable", []):
        out.update(entry)
    return out


def outputs_of(module: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entry in module.get("output", []):
        out.update(entry)
    return out


def module_calls(module: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entry in module.get("module", []):
        out.update(entry)
    return out


def resolve(module: dict[str, list[Any]], value: Any) -> Any:
    """Follow a bare ``${local.x}`` or ``${var.x}`` (to its default) until a plain value."""
    for _ in range(10):
        if not isinstance(value, str):
            return value
        match = _REF.match(value)
        if not match:
            return value
        kind, name = match.groups()
        if kind == "local":
            value = locals_of(module)[name]
        else:
            value = variables_of(module)[name].get("default")
    return value


def statements(policy: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every statement of an aws_iam_policy_document, dynamic ones included."""
    yield from policy.get("statement", [])
    for dyn in policy.get("dynamic", []):
        yield from dyn.get("statement", {}).get("content", [])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
