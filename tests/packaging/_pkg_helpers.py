"""Shared constants and helpers of the packaging tests (a module name unique in tests/)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart" / "hookline.toml"
MINIMAL_CONFIG = """\
[project]
name = "packaging-test"

[pipelines.train]
model = "m"
stages = ["ingest", "train", "validate", "deploy"]
trigger = { prefix = "landing/train/", suffix = ".csv" }
"""


def require_entry_files(*relative: str) -> Path:
    """The real ``functions/`` folder; fail (not skip) naming any entry file still missing."""
    functions = REPO / "functions"
    missing = [r for r in relative if not (functions / r).is_file()]
    if missing:
        pytest.fail(
            "entry file(s) missing from the repository: "
            + ", ".join(f"functions/{m}" for m in missing)
            + " -- the bundle is built from the real entry files (issue 4 writes them)",
            pytrace=False,
        )
    return functions


def dist_versions(names: list[str], site: str = "") -> dict[str, str]:
    """``{normalised name: version}`` of every ``*.dist-info/METADATA`` among zip ``names``
    under ``site``, read from the names themselves (``numpy-2.2.6.dist-info``)."""
    import re

    out = {}
    for n in names:
        rel = n[len(site) :] if site and n.startswith(site) else n
        m = re.fullmatch(r"([^/]+)-([^-/]+)\.dist-info/METADATA", rel)
        if m:
            out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return out


def check_manifest(out: Path, cloud: str, role: str, python: str, arch: str = "x86_64") -> dict:
    """The manifest beside ``OUT/CLOUD/<artifact>`` agrees with the artifact's bytes and
    contents (docs/packaging.md, "The bundle manifest"); returns it."""
    import base64
    import hashlib
    import json
    import zipfile

    from hookline.adapters.packaging import runtime_id

    path = out / cloud / f"{role}.manifest.json"
    manifest = json.loads(path.read_text())
    artifact = path.parent / manifest["artifact"]
    data = artifact.read_bytes()
    digest = hashlib.sha256(data).digest()
    assert manifest["schema"] == "hookline.bundle/1"
    assert (manifest["cloud"], manifest["role"], manifest["format"]) == (cloud, role, "zip")
    assert manifest["python"] == python and manifest["runtime"] == runtime_id(cloud, python)
    assert manifest["architecture"] == arch
    assert manifest["sha256"] == digest.hex()
    assert base64.b64decode(manifest["sha256_base64"]) == digest
    assert manifest["size_bytes"] == len(data)
    with zipfile.ZipFile(artifact) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert manifest["unzipped_bytes"] == sum(i.file_size for i in infos)
        handler = manifest["handler"]
        if cloud == "aws":
            module, attr = handler.split(".")
            assert f"{attr} = " in zf.read(f"{module}.py").decode(), handler
        else:
            source = zf.read(handler).decode()
            for name in manifest.get("entry_points", {}).values():
                assert f"def {name}(" in source, name
        site = ".python_packages/lib/site-packages/" if cloud == "azure" else ""
        if cloud == "gcp":
            carried = {
                line.split("==")[0].lower(): line.split("==")[1]
                for line in zf.read("requirements.txt").decode().splitlines()
                if "==" in line and not line.startswith("#")
            }
        else:
            carried = dist_versions(names, site)
        carried["hookline"] = dist_versions(names, site)["hookline"]
    assert (cloud == "gcp") == ("entry_points" in manifest)
    expected = {
        k: carried[k]
        for k in ("hookline", "scikit-learn", "numpy", "skops", "pandas", "scipy", "onnxruntime")
        if k in carried
    }
    assert manifest["libraries"] == expected, (manifest["libraries"], expected)
    return manifest


def make_base_image(dest: Path, arch: str = "amd64", tag: str = "3.11") -> str:
    """A tiny synthetic Lambda-like base image, written as an OCI layout by hand (as
    ``skopeo copy docker://... oci:...`` writes one): ``/var/lang/bin/python3``
    (a link to this interpreter, so the unpacked tree can run), ``/lambda-entrypoint.sh``,
    ``/var/runtime``, ``/var/task`` and the Lambda base's environment. Returns
    ``oci:DEST:TAG``."""
    import gzip
    import hashlib
    import io
    import json
    import sys
    import tarfile

    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def blob(data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return f"sha256:{digest}"

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name in ("etc", "var", "var/lang", "var/lang/bin", "var/runtime", "var/task"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        link = tarfile.TarInfo("var/lang/bin/python3")
        link.type, link.linkname = tarfile.SYMTYPE, sys.executable
        tar.addfile(link)
        for name, text, mode in (
            ("etc/os-release", 'NAME="hookline test base"\n', 0o644),
            (
                "lambda-entrypoint.sh",
                '#!/bin/sh\nexec /var/lang/bin/python3 -m awslambdaric "$@"\n',
                0o755,
            ),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(text), mode
            tar.addfile(info, io.BytesIO(text.encode()))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config = {
        "architecture": arch,
        "os": "linux",
        "config": {
            "Env": [
                "PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin",
                "LANG=C.UTF-8",
                "LAMBDA_TASK_ROOT=/var/task",
                "LAMBDA_RUNTIME_DIR=/var/runtime",
            ],
            "Entrypoint": ["/lambda-entrypoint.sh"],
            "WorkingDir": "/var/task",
        },
        "rootfs": {
            "type": "layers",
            "diff_ids": [f"sha256:{hashlib.sha256(raw.getvalue()).hexdigest()}"],
        },
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "synthetic test base"}],
    }
    config_bytes = json.dumps(config).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": blob(config_bytes),
            "size": len(config_bytes),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": blob(layer),
                "size": len(layer),
            }
        ],
    }
    manifest_bytes = json.dumps(manifest).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": manifest["mediaType"],
                "digest": blob(manifest_bytes),
                "size": len(manifest_bytes),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (dest / "index.json").write_text(json.dumps(index))
    (dest / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return f"oci:{dest}:{tag}"


def require_tool(name: str) -> str:
    """The path of ``name``; fail (not skip) saying how to install it."""
    import shutil

    found = shutil.which(name)
    if not found:
        pytest.fail(
            f"{name} is not installed: run `make test-deps` "
            "(bash tests/packaging/install_image_tools.sh)",
            pytrace=False,
        )
    return found
