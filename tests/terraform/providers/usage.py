"""What terraform/ uses: resource and data source types per provider, read with python-hcl2."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

REPO = Path(__file__).resolve().parents[3]
TERRAFORM = REPO / "terraform"
# Blocks kept explicit: `__is_block__` tells `foo { }` from `foo = [{ }]`.
OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=True, with_comments=False)

__all__ = ["OPTIONS", "TERRAFORM", "Block", "blocks_in", "provider_of", "tf_files", "used_types"]


@dataclass(frozen=True, slots=True)
class Block:
    """One resource, data source or provider block of a file."""

    kind: str  # "resource", "data" or "provider"
    type: str  # e.g. "aws_lambda_function", or the provider's local name
    name: str
    body: dict[str, Any]
    file: Path


def tf_files(root: Path = TERRAFORM) -> list[Path]:
    return sorted(p for p in root.rglob("*.tf") if ".terraform" not in p.parts)


@functools.cache
def _parse(path: Path) -> dict[str, Any]:
    with path.open() as fh:
        return hcl2.load(fh, serialization_options=OPTIONS)


def blocks_in(path: Path) -> Iterator[Block]:
    parsed = _parse(path)
    for kind in ("resource", "data"):
        for entry in parsed.get(kind, []):
            for type_, named in entry.items():
                if type_ == "__is_block__":
                    continue
                for name, body in named.items():
                    if name != "__is_block__":
                        yield Block(kind, type_, name, body, path)
    for entry in parsed.get("provider", []):
        for local, body in entry.items():
            if local != "__is_block__":
                yield Block("provider", local, local, body, path)


def provider_of(type_: str) -> str:
    """The provider local name of a resource type: the text before the first underscore."""
    return type_.split("_", 1)[0]


def used_types(root: Path = TERRAFORM) -> dict[str, dict[str, set[str]]]:
    """provider -> {"resource": {types}, "data": {types}} over every file under root."""
    out: dict[str, dict[str, set[str]]] = {}
    for path in tf_files(root):
        for block in blocks_in(path):
            if block.kind == "provider":
                out.setdefault(block.type, {"resource": set(), "data": set()})
                continue
            per = out.setdefault(provider_of(block.type), {"resource": set(), "data": set()})
            per[block.kind].add(block.type)
    return out
