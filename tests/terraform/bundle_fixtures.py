"""Bundle fixtures for the modules' `terraform test` runs: manifests exactly as
docs/packaging.md ("The bundle manifest") describes them (what `hookline package` writes),
beside tiny but real artifacts.

    python -m tests.terraform.bundle_fixtures    # (re)write terraform/modules/*/tests/fixtures

Each cloud gets a deployable set (``ok``) and one set per mutation the modules must refuse at
plan time: another Python, another CPU, another cloud, an archive that is not the one the
manifest describes. tests/terraform/test_bundle_fixtures.py checks the committed files are what
this script writes, so a fixture cannot drift from the contract by hand.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
MODULES = REPO / "terraform" / "modules"
LIBRARIES = {"hookline": "0.1.0", "scikit-learn": "1.7.2", "numpy": "2.2.6", "skops": "0.13.0"}
DIGEST = "sha256:" + hashlib.sha256(b"hookline fixture image").hexdigest()
JOB_DIGEST = "sha256:" + hashlib.sha256(b"hookline fixture job image").hexdigest()

# cloud -> role -> (artifact name, handler, entry file)
ROLES = {
    "aws": {
        "pipeline": ("pipeline.zip", "pipeline.handler", "pipeline.py"),
        "serving": ("serving.zip", "serving.handler", "serving.py"),
    },
    "gcp": {"source": ("source.zip", "main.py", "main.py")},
    "azure": {
        "pipeline": ("pipeline.zip", "function_app.py", "function_app.py"),
        "serving": ("serving.zip", "function_app.py", "function_app.py"),
    },
}
RUNTIME = {"aws": "python{v}", "gcp": "python{n}", "azure": "{v}"}


def _zip(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        zf.writestr(info, text)
    return buffer.getvalue()


def manifest(
    cloud: str, role: str, data: bytes, python: str = "3.12", arch: str = "x86_64", fmt: str = "zip"
) -> dict[str, Any]:
    artifact, handler, _ = ROLES[cloud][role]
    digest = hashlib.sha256(data).digest()
    out: dict[str, Any] = {
        "schema": "hookline.bundle/1",
        "cloud": cloud,
        "role": role,
        "format": fmt,
        "artifact": artifact if fmt == "zip" else f"{role}.oci.tar",
        "python": python,
        "runtime": RUNTIME[cloud].format(v=python, n=python.replace(".", "")),
        "architecture": arch,
        "handler": handler,
        "sha256": digest.hex(),
        "sha256_base64": base64.b64encode(digest).decode(),
        "size_bytes": len(data),
        "unzipped_bytes": 64,
        "libraries": LIBRARIES,
        "project": "quickstart",
    }
    if cloud == "gcp":
        out["entry_points"] = {"pipeline": "pipeline", "serving": "serving"}
    if fmt == "image":
        out["image"] = {
            "digest": DIGEST,
            "oci_layout": f"{role}.oci",
            "archive": f"{role}.oci.tar",
            "base": "public.ecr.aws/lambda/python:3.12",
        }
    return out


def _write_set(folder: Path, cloud: str, **change: Any) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stale = change.pop("stale", False)
    fields = change.pop("fields", {})
    for role, (artifact, _, entry) in ROLES[cloud].items():
        data = _zip(entry, f"# hookline {cloud} {role} fixture\n")
        m = manifest(cloud, role, data, **change)
        m.update(fields)
        if m["format"] == "zip":
            (folder / artifact).write_bytes(
                _zip(entry, "# changed after packaging\n") if stale else data
            )
        (folder / f"{role}.manifest.json").write_text(
            json.dumps(m, indent=2, sort_keys=True) + "\n"
        )
    if cloud == "aws" and change.get("fmt") == "image":
        # Run offload's job image: the pipeline bundle with `hookline job run` as entry point.
        job = manifest(cloud, "pipeline", b"job", **change)
        job.update(fields, role="job", artifact="job.oci.tar", handler="hookline job run")
        job["image"] = {
            "digest": JOB_DIGEST,
            "oci_layout": "job.oci",
            "archive": "job.oci.tar",
            "base": "public.ecr.aws/lambda/python:3.12",
            "entrypoint": ["python3", "-m", "hookline", "job", "run"],
        }
        (folder / "job.manifest.json").write_text(json.dumps(job, indent=2, sort_keys=True) + "\n")


# cloud -> case -> changes from a deployable set
CASES: dict[str, dict[str, dict[str, Any]]] = {
    "aws": {
        "ok": {},
        "arm64": {"arch": "arm64"},
        "image": {"fmt": "image"},
        "python-3.10": {"python": "3.10"},
        "runtime-mismatch": {"fields": {"runtime": "python3.12", "python": "3.11"}},
        "arch-aarch64": {"arch": "aarch64"},
        "other-cloud": {"fields": {"cloud": "gcp"}},
        "stale-zip": {"stale": True},
    },
    "gcp": {
        "ok": {},
        "python-3.10": {"python": "3.10"},
        "other-cloud": {"fields": {"cloud": "aws"}},
        "arch-arm64": {"arch": "arm64"},
        "stale-zip": {"stale": True},
    },
    "azure": {
        "ok": {},
        "python-3.10": {"python": "3.10"},
        "arch-arm64": {"arch": "arm64"},
        "other-cloud": {"fields": {"cloud": "aws"}},
        "stale-zip": {"stale": True},
    },
}


def write(root: Path = MODULES) -> list[Path]:
    folders = []
    for cloud, cases in CASES.items():
        base = root / cloud / "tests" / "fixtures"
        if base.exists():
            shutil.rmtree(base)
        for case, change in cases.items():
            _write_set(base / case, cloud, **dict(change))
            folders.append(base / case)
    return folders


if __name__ == "__main__":
    for folder in write():
        print(folder.relative_to(REPO))
