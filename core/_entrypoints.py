"""A lean reader of installed entry points, for the cold-start path.

``importlib.metadata`` pulls in the ``email`` package and friends on import (about 15 ms on
a function's cold start). Finding entry points needs none of that: each installed
distribution's ``*.dist-info/entry_points.txt`` is a small INI file, and the folder's name
carries the distribution's name and version. This module reads just those, in ``sys.path``
order, first distribution of a name wins -- the same rules as ``importlib.metadata``.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from typing import Any

__all__ = ["EntryPoint", "entry_points"]


@dataclass(frozen=True, slots=True)
class EntryPoint:
    name: str
    value: str
    group: str
    dist_name: str | None = None
    dist_version: str | None = None

    @property
    def module(self) -> str:
        return self.value.partition(":")[0].strip()

    def load(self) -> Any:
        module, _, attrs = self.value.partition(":")
        obj: Any = importlib.import_module(module.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def _normalise(name: str) -> str:
    return name.replace("-", "_").replace(".", "_").lower()


def _parse(text: str, wanted: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            continue
        if group == wanted and "=" in line:
            name, _, value = line.partition("=")
            found.append((name.strip(), value.strip()))
    return found


def _metadata_dirs(entry: str) -> list[str]:
    try:
        names = os.listdir(entry or ".")
    except OSError:
        return []
    return sorted(n for n in names if n.endswith((".dist-info", ".egg-info")))


def entry_points(group: str) -> list[EntryPoint]:
    """Every entry point in ``group`` of the distributions importable from ``sys.path``."""
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for entry in sys.path:
        for folder in _metadata_dirs(entry):
            stem = folder.rsplit(".", 1)[0]
            dist, _, version = stem.partition("-")
            key = _normalise(dist)
            if key in seen:
                continue
            seen.add(key)
            path = os.path.join(entry or ".", folder, "entry_points.txt")
            try:
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:
                continue
            if f"[{group}]" not in text:
                continue
            meta_name, meta_version = _name_and_version(os.path.join(entry or ".", folder))
            dist_version = meta_version or version.partition("-")[0] or None
            for name, value in _parse(text, group):
                found.append(EntryPoint(name, value, group, meta_name or dist, dist_version))
    return found


def _name_and_version(folder: str) -> tuple[str | None, str | None]:
    """The ``Name:`` and ``Version:`` headers of the distribution's METADATA (or PKG-INFO,
    for ``.egg-info`` folders, whose names carry no version)."""
    found: dict[str, str] = {}
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(folder, filename), encoding="utf-8") as fh:
                for line in fh:
                    if not line.strip():
                        break
                    key, _, value = line.partition(":")
                    if key in ("Name", "Version"):
                        found.setdefault(key, value.strip())
        except OSError:
            continue
        if found:
            break
    return found.get("Name"), found.get("Version")
