"""Check every resource, data source and provider block of terraform/ against provider schemas.

    python -m tests.terraform.providers.check     # prints the figures per provider version

Three kinds of finding, each a failure:

- ``unknown``: a type, argument or block the provider version does not have (or an attribute
  written as a block, a block as an argument, a read-only attribute set);
- ``missing``: a required argument or block that is not given;
- ``deprecated``: an argument, block or type the provider deprecates (message included).
"""

from __future__ import annotations

import functools
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .pins import PINS, Pin
from .usage import REPO, TERRAFORM, Block, blocks_in, provider_of, tf_files

SCHEMAS = Path(__file__).resolve().parent / "schemas"
META = {
    "resource": {
        "count",
        "for_each",
        "depends_on",
        "provider",
        "lifecycle",
        "provisioner",
        "connection",
    },
    "data": {"count", "for_each", "depends_on", "provider", "lifecycle"},
    "provider": {"alias"},
}
KINDS = ("unknown", "missing", "deprecated")
EXTRACT = "python -m tests.terraform.providers.extract"

__all__ = ["KINDS", "Finding", "check_block", "check_tree", "figures", "load_schema", "used_paths"]


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # one of KINDS
    pin: str  # provider-version
    where: str  # file:address
    path: str  # argument path inside the block, "" for the block itself
    message: str

    def __str__(self) -> str:
        at = f" {self.path}" if self.path else ""
        return f"[{self.kind}] {self.pin} {self.where}{at}: {self.message}"


@functools.cache
def load_schema(key: str, root: Path = SCHEMAS) -> dict[str, Any]:
    return json.loads((root / f"{key}.json").read_text())


def _is_block(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and v.get("__is_block__") for v in value)
    )


def _walk(
    body: dict[str, Any],
    schema: dict[str, Any],
    meta: set[str],
    path: str,
    seen: set[str] | None = None,
) -> Iterator[tuple[str, str, str]]:
    """(kind, path, message) for one block body against one block schema; the paths of the
    arguments and blocks it sets are added to ``seen``."""
    seen = set() if seen is None else seen
    attributes = schema.get("attributes", {})
    blocks = schema.get("blocks", {})
    present: set[str] = set()
    for key, value in body.items():
        if key == "__is_block__" or key in meta:
            continue
        here = f"{path}.{key}" if path else key
        if key == "dynamic" and isinstance(value, list):
            for entry in value:
                for name, dyn in entry.items():
                    if name == "__is_block__":
                        continue
                    present.add(name)
                    dyn_path = f"{path}.{name}" if path else name
                    seen.add(dyn_path)
                    if name not in blocks:
                        yield (
                            "unknown",
                            dyn_path,
                            _unknown(name, attributes, blocks, "dynamic block"),
                        )
                        continue
                    if "deprecated" in blocks[name]:
                        yield "deprecated", dyn_path, blocks[name]["deprecated"]
                    for content in dyn.get("content", []):
                        yield from _walk(content, blocks[name], set(), dyn_path, seen)
            continue
        present.add(key)
        seen.add(here)
        if _is_block(value):
            if key not in blocks:
                yield "unknown", here, _unknown(key, attributes, blocks, "block")
                continue
            if "deprecated" in blocks[key]:
                yield "deprecated", here, blocks[key]["deprecated"]
            if (
                blocks[key].get("nesting") in ("single", "list")
                and blocks[key].get("max_items") == 1
                and len(value) > 1
            ):
                yield "unknown", here, f"at most one {key} block is allowed"
            for item in value:
                yield from _walk(item, blocks[key], set(), here, seen)
            continue
        if key not in attributes:
            yield "unknown", here, _unknown(key, attributes, blocks, "argument")
            continue
        if attributes[key].get("read_only"):
            yield (
                "unknown",
                here,
                f"{key} is read-only (computed by the provider): it cannot be set",
            )
            continue
        if "deprecated" in attributes[key]:
            yield "deprecated", here, attributes[key]["deprecated"]
    for name, attr in sorted(attributes.items()):
        if attr.get("required") and name not in present:
            yield (
                "missing",
                f"{path}.{name}" if path else name,
                f"required argument {name} is not set",
            )
    for name, block in sorted(blocks.items()):
        if block.get("min_items", 0) > 0 and name not in present:
            yield (
                "missing",
                f"{path}.{name}" if path else name,
                f"required block {name} is not given",
            )


def _unknown(name: str, attributes: dict[str, Any], blocks: dict[str, Any], what: str) -> str:
    if what != "argument" and name in attributes:
        return f"{name} is an argument, not a block: write `{name} = ...`"
    if what == "argument" and name in blocks:
        return f"{name} is a block, not an argument: write `{name} {{ ... }}`"
    import difflib

    near = difflib.get_close_matches(name, [*attributes, *blocks], n=3)
    hint = f" (did you mean {', '.join(near)}?)" if near else ""
    return f"the provider has no {what} {name}{hint}"


def check_block(block: Block, pin: Pin, schemas: Path = SCHEMAS) -> list[Finding]:
    schema = load_schema(pin.key, schemas)
    where = f"{block.file.relative_to(REPO) if block.file.is_relative_to(REPO) else block.file}:"
    if block.kind == "provider":
        where += f"provider.{block.name}"
        found = _walk(block.body, schema["provider_schema"], META["provider"], "")
        return [Finding(k, pin.key, where, p, m) for k, p, m in found]
    where += ("data." if block.kind == "data" else "") + f"{block.type}.{block.name}"
    names, table = (
        ("resource_types", "resources")
        if block.kind == "resource"
        else ("data_source_types", "data_sources")
    )
    if block.type not in schema[table]:
        if block.type in schema[names]:
            message = f"{block.type} is not in the extract: run {EXTRACT}"
        else:
            what = "resource" if block.kind == "resource" else "data source"
            message = f"{pin.provider} {pin.version} has no {what} type {block.type}"
        return [Finding("unknown", pin.key, where, "", message)]
    type_schema = schema[table][block.type]
    out = []
    if "deprecated" in type_schema:
        out.append(Finding("deprecated", pin.key, where, "", type_schema["deprecated"]))
    out += [
        Finding(k, pin.key, where, p, m)
        for k, p, m in _walk(block.body, type_schema, META[block.kind], "")
    ]
    return out


def check_tree(end: str, root: Path = TERRAFORM, schemas: Path = SCHEMAS) -> list[Finding]:
    """Every finding for one end ("low" or "high") of the version constraints."""
    pins = {p.provider: p for p in PINS if p.end == end}
    findings: list[Finding] = []
    for path in tf_files(root):
        for block in blocks_in(path):
            provider = block.type if block.kind == "provider" else provider_of(block.type)
            if provider not in pins:
                findings.append(
                    Finding(
                        "unknown",
                        f"{provider}-?",
                        str(path),
                        block.type,
                        f"no schema pinned for provider {provider}",
                    )
                )
                continue
            findings.extend(check_block(block, pins[provider], schemas))
    return findings


def used_paths(end: str, root: Path = TERRAFORM, schemas: Path = SCHEMAS) -> dict[str, set[str]]:
    """pin -> every "<type>.<argument path>" the tree sets (resources and data sources)."""
    pins = {p.provider: p for p in PINS if p.end == end}
    out: dict[str, set[str]] = {}
    for path in tf_files(root):
        for block in blocks_in(path):
            if block.kind == "provider" or provider_of(block.type) not in pins:
                continue
            pin = pins[provider_of(block.type)]
            table = "resources" if block.kind == "resource" else "data_sources"
            type_schema = load_schema(pin.key, schemas)[table].get(block.type)
            if type_schema is None:
                continue
            seen: set[str] = set()
            for _ in _walk(block.body, type_schema, META[block.kind], "", seen):
                pass
            out.setdefault(pin.key, set()).update(f"{block.type}.{p}" for p in seen)
    return out


def figures(findings: list[Finding]) -> dict[str, dict[str, int]]:
    """pin -> {kind: count}, with every pin and kind present."""
    counts = Counter((f.pin, f.kind) for f in findings)
    return {p.key: {k: counts[(p.key, k)] for k in KINDS} for p in PINS}


def main() -> int:
    findings = check_tree("low") + check_tree("high")
    for f in findings:
        print(f)
    table = figures(findings)
    print(f"{'provider':<18}{'end':<6}" + "".join(f"{k:>12}" for k in KINDS))
    for pin in PINS:
        print(f"{pin.key:<18}{pin.end:<6}" + "".join(f"{table[pin.key][k]:>12}" for k in KINDS))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
