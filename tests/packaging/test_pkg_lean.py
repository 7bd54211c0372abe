"""The lean serving bundle: with ``[serving] runtime = "onnx"`` the serving bundle carries
onnxruntime and numpy instead of the training stack (scikit-learn, scipy, pandas, skops).

The AWS bundle is built for python3.12 (onnxruntime has no wheel for the python3.11 Lambda
runtime's glibc, and packaging says so); its contents and size are checked. The Azure
bundle is built for this interpreter and answers a prediction for the quickstart's
production model from nothing but its own packages.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from _pkg_helpers import QUICKSTART, require_entry_files
from hookline.adapters.packaging import BuildOptions, build
from hookline.cli import main
from hookline.errors import UsageError

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
TRAINING_STACK = {"sklearn", "scipy", "pandas", "skops"}
# The skops serving bundle is about 247 MB unzipped; the lean one about 130 MB (onnxruntime's
# two shared objects are 68 MB, numpy with OpenBLAS 73 MB). A bound well under the skops
# bundle catches any part of the training stack coming back.
LEAN_LIMIT = 150 * 1024 * 1024
AZURE_SITE = ".python_packages/lib/site-packages"

# One POST /predict through the app's ASGI interface, with only the bundle on sys.path.
PROBE = r"""
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
from hookline.adapters.serving import create_app

async def call(app, body):
    sent, out = False, {"body": b""}
    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}
    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/predict", "raw_path": b"/predict", "query_string": b"",
        "root_path": "", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
        "headers": [(b"content-type", b"application/json"), (b"x-api-key", b"lean-key"),
                    (b"content-length", str(len(body)).encode())],
    }
    await app(scope, receive, send)
    return out

app = create_app(sys.argv[2])
out = asyncio.run(call(app, sys.argv[3].encode()))
heavy = sorted(m for m in ("sklearn", "scipy", "pandas", "skops") if m in sys.modules)
print(json.dumps({"status": out["status"], "body": json.loads(out["body"]), "heavy": heavy}))
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart with v1 in production (it converts to ONNX), served with onnx."""
    project = tmp_path_factory.mktemp("lean-quickstart")
    for name in ("hookline.toml", "batch1.csv"):
        shutil.copy2(QUICKSTART.parent / name, project / name)
    config = project / "hookline.toml"
    assert main(["run", "--config", str(config), str(project / "batch1.csv")]) == 0
    manifest = json.loads(
        (project / ".hookline/registry/penguins/versions/000001/manifest.json").read_text()
    )
    assert manifest["onnx"]["status"] == "ok", manifest["onnx"]
    text = config.read_text()
    assert "[serving]" not in text
    config.write_text(text + '\n[serving]\nruntime = "onnx"\n')
    return config


def _options(config: Path, out: Path, project_copy: Path, cloud: str, python: str) -> BuildOptions:
    entry = "aws_lambda/serving.py" if cloud == "aws" else "azure_functions/function_app.py"
    return BuildOptions(
        cloud=cloud,
        config=config,
        out=out,
        project=project_copy,
        functions=require_entry_files(entry),
        roles=("serving",),
        python=python,
        smoke=python == PY,
    )


def _tops(path: Path, site: str = "") -> tuple[set[str], int]:
    with zipfile.ZipFile(path) as zf:
        names = [n[len(site) :].lstrip("/") for n in zf.namelist() if n.startswith(site)]
        return {n.split("/", 1)[0] for n in names}, sum(i.file_size for i in zf.infolist())


def test_the_aws_bundle_leaves_the_training_stack_out(
    trained: Path, project_copy: Path, tmp_path: Path
) -> None:
    [result] = build(_options(trained, tmp_path / "dist", project_copy, "aws", "3.12"))
    tops, unzipped = _tops(result.path)
    assert not tops & TRAINING_STACK, sorted(tops & TRAINING_STACK)
    assert {"onnxruntime", "numpy", "fastapi", "mangum", "hookline"} <= tops
    manifest = json.loads((tmp_path / "dist" / "aws" / "serving.manifest.json").read_text())
    assert manifest["unzipped_bytes"] == unzipped and manifest["python"] == "3.12"
    assert unzipped < LEAN_LIMIT, f"{unzipped / 2**20:.1f} MB unzipped"
    print(
        f"lean AWS serving bundle: {unzipped / 2**20:.1f} MB unzipped, "
        f"{manifest['size_bytes'] / 2**20:.1f} MB zipped"
    )
    assert any("lean serving bundle" in note for note in result.notes)


def test_python_311_on_lambda_is_refused_before_anything_installs(
    trained: Path, project_copy: Path, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match="glibc 2.26") as caught:
        build(_options(trained, tmp_path / "dist", project_copy, "aws", "3.11"))
    assert "--python 3.12" in (caught.value.hint or "")
    assert not (tmp_path / "dist").exists() or not any((tmp_path / "dist").rglob("*.zip"))


def test_the_azure_bundle_predicts_without_the_training_stack(
    trained: Path, project_copy: Path, tmp_path: Path
) -> None:
    [result] = build(_options(trained, tmp_path / "dist", project_copy, "azure", PY))
    tops, unzipped = _tops(result.path, AZURE_SITE)
    assert not tops & TRAINING_STACK and "onnxruntime" in tops, sorted(tops)
    print(f"lean Azure serving bundle: {unzipped / 2**20:.1f} MB unzipped")
    root = tmp_path / "wwwroot"
    with zipfile.ZipFile(result.path) as zf:
        zf.extractall(root)
    row = {
        "island": "Biscoe",
        "bill_length_mm": 45.2,
        "bill_depth_mm": 14.8,
        "flipper_length_mm": 212.0,
        "body_mass_g": 5200.0,
        "sex": "female",
    }
    # -S: no site-packages, so the bundle's own packages are all there is
    done = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, str(root / AZURE_SITE), str(trained), json.dumps(row)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOOKLINE_API_KEYS": "lean-key"},
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["status"] == 200, found
    assert found["body"]["version"] == 1 and found["body"]["predictions"] == ["Gentoo"]
    assert found["heavy"] == [], found["heavy"]
