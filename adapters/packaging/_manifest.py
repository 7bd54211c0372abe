"""The bundle manifest beside every artifact: ``OUT/<cloud>/<role>.manifest.json``.

The one source of truth the Terraform modules read (``jsondecode(file(...))``) for the
runtime, architecture, handler, hash and artifact path, so a module cannot disagree with
the bundle it deploys. Its shape (``hookline.bundle/1``) is documented in
docs/packaging.md, "The bundle manifest".
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hookline.adapters.packaging._spec import MANIFEST_LIBRARIES, runtime_id, split_requirement

__all__ = ["SCHEMA", "bundle_manifest", "file_sha256", "manifest_path", "write_manifest"]

SCHEMA = "hookline.bundle/1"
GCP_ENTRY_POINTS = {"pipeline": "pipeline", "serving": "serving"}


def manifest_path(out: Path, cloud: str, role: str) -> Path:
    return out / cloud / f"{role}.manifest.json"


def file_sha256(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.digest()


def handler_name(cloud: str, handler: tuple[str, str]) -> str:
    """What the platform is told to run: ``pipeline.handler`` (Lambda), ``main.py`` (the
    GCP source's entry file; the entry points are listed apart), ``function_app.py``."""
    if cloud == "aws":
        return f"{handler[0]}.{handler[1]}"
    return f"{handler[0]}.py"


def carried_libraries(pins: Mapping[str, str]) -> dict[str, str]:
    """The versions of :data:`MANIFEST_LIBRARIES` among ``pins`` (only those carried)."""
    norm = {split_requirement(k)[0]: v for k, v in pins.items()}
    return {name: norm[name] for name in MANIFEST_LIBRARIES if name in norm}


def bundle_manifest(
    *,
    cloud: str,
    role: str,
    fmt: str,
    artifact: Path,
    python: str,
    architecture: str,
    handler: tuple[str, str],
    unzipped_bytes: int,
    pins: Mapping[str, str],
    project: str,
    image: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The manifest document for one artifact (hashes computed from its bytes on disk)."""
    raw = file_sha256(artifact)
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "cloud": cloud,
        "role": role,
        "format": fmt,
        "artifact": artifact.name,
        "python": python,
        "runtime": runtime_id(cloud, python),
        "architecture": architecture,
        "handler": handler_name(cloud, handler),
        "sha256": raw.hex(),
        "sha256_base64": base64.b64encode(raw).decode(),
        "size_bytes": artifact.stat().st_size,
        "unzipped_bytes": unzipped_bytes,
        "libraries": carried_libraries(pins),
        "project": project,
    }
    if cloud == "gcp":
        doc["entry_points"] = dict(GCP_ENTRY_POINTS)
    if image is not None:
        doc["image"] = dict(image)
    return doc


def write_manifest(path: Path, doc: Mapping[str, Any]) -> None:
    """Write ``doc`` next to its artifact, atomically (a reader never sees half of it)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
