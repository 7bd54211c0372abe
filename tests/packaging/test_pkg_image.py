"""The OCI image builder on a small bundle and a synthetic base: reproducible, and accepted
by the standard tools (skopeo inspect / copy, umoci unpack)."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from _pkg_helpers import make_base_image, require_tool
from hookline.adapters.packaging import ImageError, build_image

BUNDLE = {
    "pipeline.py": "def handler(event, context):\n    return {'ok': True}\n",
    "hookline.toml": "[project]\nname = 't'\n",
    "hookline/__init__.py": "",
    "hookline-0.1.0.dist-info/METADATA": "Name: hookline\nVersion: 0.1.0\n",
    "numpy/__init__.py": "",
    "numpy/core/ünïcode name with spaces.py": "",
    "numpy-2.2.6.dist-info/METADATA": "Name: numpy\nVersion: 2.2.6\n",
    "bin/tool": "#!/bin/sh\n",
}


def _bundle(root: Path, mtime: int) -> Path:
    import os

    for name, text in sorted(BUNDLE.items(), reverse=mtime % 2 == 1):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755 if name.startswith("bin/") else 0o600 + (mtime % 2) * 0o060)
        os.utime(path, (mtime, mtime))
    return root


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_base_image(tmp_path_factory.mktemp("base") / "layout")


def _skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("skopeo"), "--insecure-policy", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _build(tmp_path: Path, base: str, name: str, mtime: int):
    return build_image(
        _bundle(tmp_path / f"{name}-bundle", mtime),
        base,
        tmp_path / name / "pipeline.oci",
        cmd=["pipeline.handler"],
        env={"LAMBDA_TASK_ROOT": "/var/task", "HOOKLINE_ROLE": "pipeline"},
        tag="pipeline",
    )


def test_the_same_bundle_gives_the_same_image_bytes(tmp_path, base, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    one = _build(tmp_path, base, "one", 1_700_000_000)
    two = _build(tmp_path, base, "two", 1_500_000_001)  # other mtimes, modes and order
    assert one.digest == two.digest and one.digest.startswith("sha256:")
    assert one.archive.read_bytes() == two.archive.read_bytes()
    blobs = sorted(p.name for p in (one.layout / "blobs" / "sha256").iterdir())
    assert blobs == sorted(p.name for p in (two.layout / "blobs" / "sha256").iterdir())
    assert len(blobs) == 5  # the base layer, two bundle layers, the config, the manifest
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    three = _build(tmp_path, base, "three", 1_700_000_000)
    assert three.digest != one.digest, "SOURCE_DATE_EPOCH is the one timestamp inside"


def test_layers_config_and_manifest(tmp_path, base):
    result = _build(tmp_path, base, "img", 1_700_000_000)
    blobs = result.layout / "blobs" / "sha256"
    [entry] = json.loads((result.layout / "index.json").read_text())["manifests"]
    assert entry["digest"] == result.digest
    assert entry["annotations"]["org.opencontainers.image.ref.name"] == "pipeline"
    manifest = json.loads((blobs / result.digest.split(":")[1]).read_bytes())
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert {layer["mediaType"] for layer in manifest["layers"]} == {
        "application/vnd.oci.image.layer.v1.tar+gzip"
    }
    assert manifest["annotations"]["org.opencontainers.image.base.name"] == base
    config = json.loads((blobs / manifest["config"]["digest"].split(":")[1]).read_bytes())
    run = config["config"]
    assert run["Cmd"] == ["pipeline.handler"]
    assert run["Entrypoint"] == ["/lambda-entrypoint.sh"], "the base's entrypoint is kept"
    assert run["WorkingDir"] == "/var/task"
    assert "HOOKLINE_ROLE=pipeline" in run["Env"] and "LANG=C.UTF-8" in run["Env"]
    assert len(config["rootfs"]["diff_ids"]) == len(manifest["layers"]) == 3
    deps, app = (blobs / layer["digest"].split(":")[1] for layer in manifest["layers"][1:])
    with tarfile.open(deps) as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
    assert names == sorted(names)
    assert "var/task/numpy/__init__.py" in names and "var/task/pipeline.py" not in names
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", 0)}
    modes = {m.name: m.mode for m in members}
    assert modes["var/task/bin/tool"] == 0o755 and modes["var/task/numpy/__init__.py"] == 0o644
    with tarfile.open(app) as tar:
        app_names = set(tar.getnames())
    assert {"var/task/pipeline.py", "var/task/hookline.toml", "var/task/hookline/__init__.py"} <= (
        app_names
    )
    assert not any(n.startswith("var/task/numpy") for n in app_names)
    assert result.uncompressed_bytes > sum(len(t) for t in BUNDLE.values())


def test_skopeo_inspects_and_copies_it_and_umoci_unpacks_it(tmp_path, base):
    result = _build(tmp_path, base, "img", 1_700_000_000)
    inspected = _skopeo("inspect", f"oci:{result.layout}:pipeline")
    assert inspected.returncode == 0, inspected.stderr
    info = json.loads(inspected.stdout)
    assert info["Digest"] == result.digest and info["Architecture"] == "amd64"
    from_archive = _skopeo("inspect", f"oci-archive:{result.archive}")
    assert from_archive.returncode == 0, from_archive.stderr
    assert json.loads(from_archive.stdout)["Digest"] == result.digest
    copied = tmp_path / "copied.tar"
    proc = _skopeo("copy", f"oci:{result.layout}:pipeline", f"oci-archive:{copied}")
    assert proc.returncode == 0, proc.stderr
    raw = _skopeo("inspect", "--raw", f"oci-archive:{copied}")
    assert (
        raw.returncode == 0
        and json.loads(raw.stdout)["layers"]
        == json.loads(
            (result.layout / "blobs" / "sha256" / result.digest.split(":")[1]).read_text()
        )["layers"]
    ), "skopeo copies the layers as they are"

    unpacked = tmp_path / "unpacked"
    proc = subprocess.run(
        [require_tool("umoci"), "unpack", "--image", f"{result.layout}:pipeline", str(unpacked)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rootfs = unpacked / "rootfs"
    assert (rootfs / "var/task/pipeline.py").read_text() == BUNDLE["pipeline.py"]
    assert (rootfs / "etc/os-release").is_file(), "the base layer is under the bundle's"
    runtime = json.loads((unpacked / "config.json").read_text())["process"]
    assert runtime["args"] == ["/lambda-entrypoint.sh", "pipeline.handler"]
    assert runtime["cwd"] == "/var/task"


def test_a_base_from_an_archive_and_a_multi_platform_index(tmp_path, base):
    archive = tmp_path / "base.tar"
    proc = _skopeo("copy", base, f"oci-archive:{archive}:3.11")
    assert proc.returncode == 0, proc.stderr
    from_archive = _build(tmp_path, f"oci-archive:{archive}:3.11", "a", 1_700_000_000)
    layout = Path(base.split(":")[1])
    index = json.loads((layout / "index.json").read_text())
    [entry] = index["manifests"]
    # an index of indexes: the platform's image is chosen from the inner one
    inner = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {**entry, "annotations": {}, "platform": {"architecture": "arm64", "os": "linux"}},
            {**entry, "annotations": {}, "platform": {"architecture": "amd64", "os": "linux"}},
        ],
    }
    multi = tmp_path / "multi"
    subprocess.run(["cp", "-r", str(layout), str(multi)], check=True)
    data = json.dumps(inner).encode()
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    (multi / "blobs" / "sha256" / digest).write_bytes(data)
    (multi / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": inner["mediaType"],
                        "digest": f"sha256:{digest}",
                        "size": len(data),
                        "annotations": {"org.opencontainers.image.ref.name": "3.11"},
                    }
                ],
            }
        )
    )
    from_index = _build(tmp_path, f"oci:{multi}:3.11", "b", 1_700_000_000)
    assert from_index.digest != from_archive.digest  # the base's name is annotated...
    assert from_index.layers == from_archive.layers  # ...its layers are the same


@pytest.mark.parametrize(
    ("base_ref", "words"),
    [
        ("oci:/nonexistent/layout:3.11", "does not exist"),
        ("TAGGED:nope", "no image tagged 'nope'"),
    ],
)
def test_bad_bases_say_what_to_do(tmp_path, base, base_ref, words):
    if base_ref.startswith("TAGGED"):
        base_ref = base.rsplit(":", 1)[0] + ":nope"
    with pytest.raises(ImageError, match=words) as info:
        _build(tmp_path, base_ref, "x", 1)
    assert "skopeo copy" in str(info.value) or "tags" in str(info.value)
