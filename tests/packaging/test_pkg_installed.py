"""``hookline package`` from an installed hookline (defect 5): a fresh virtualenv outside
the repository, the built wheel installed with ``[aws]``, a copy of the quickstart as the
project folder, a relative ``--out`` -- and the bundle answers an S3 event through the
Lambda runtime client with nothing but its own packages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from typing import Any

import pytest
from _lambda_runtime import (
    PY,
    assert_one_succeeded_run,
    invoke_pipeline,
    lambda_runtime_dir,
    upload_and_event,
)
from _pkg_helpers import QUICKSTART, REPO, check_manifest
from hookline.adapters.packaging import _pip


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 900):
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    )
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, project_copy: Path) -> dict[str, Any]:
    """A virtualenv with the hookline wheel and its [aws] extra, nothing else."""
    root = tmp_path_factory.mktemp("fresh")
    assert not root.is_relative_to(REPO)
    wheel = _pip.build_wheel(project_copy, root / "wheels")
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=True, symlinks=True)
    env = {
        "PATH": f"{env_dir / 'bin'}:{os.environ['PATH']}",
        "HOME": str(root),
        "LANG": "C.UTF-8",
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(REPO / ".cache" / "pip")),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for name in ("PIP_FIND_LINKS", "PIP_CERT", "PIP_DEFAULT_TIMEOUT", "SSL_CERT_FILE"):
        if name in os.environ:
            env[name] = os.environ[name]
    python = env_dir / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", f"{wheel.path}[aws]"], root, env)
    return {"root": root, "env": env, "python": python, "wheel": wheel}


def test_no_source_folder_is_importable_at_top_level(installed):
    code = (
        "import importlib.util as u; print([n for n in ('core', 'plugins', 'adapters', "
        "'functions') if u.find_spec(n)])"
    )
    proc = _run([str(installed["python"]), "-c", code], installed["root"], installed["env"])
    assert proc.stdout.strip() == "[]"
    files = _run(
        [
            str(installed["python"]),
            "-c",
            "import hookline.adapters, pathlib; "
            "print(pathlib.Path(hookline.adapters.__file__).parent)",
        ],
        installed["root"],
        installed["env"],
    ).stdout.strip()
    shipped = Path(files) / "functions"
    for rel in ("aws_lambda/pipeline.py", "gcp_functions/main.py", "azure_functions/host.json"):
        assert (shipped / rel).read_bytes() == (REPO / "functions" / rel).read_bytes(), rel


def test_package_in_a_project_folder_and_run_the_bundle(
    installed, tmp_path, s3_server, s3_bucket, runtime_api
):
    project = tmp_path / "my-project"
    project.mkdir()
    for name in ("hookline.toml", "batch1.csv"):
        shutil.copy2(QUICKSTART.parent / name, project / name)
    hookline = installed["python"].parent / "hookline"
    proc = _run(
        [
            str(hookline),
            "package",
            "--cloud",
            "aws",
            "--python",
            PY,
            "--role",
            "pipeline",
            "--out",
            "dist",
        ],
        project,
        installed["env"],
    )
    assert "smoke test: ok" in proc.stdout, proc.stdout
    out = project / "dist"
    manifest = check_manifest(out, "aws", "pipeline", PY)
    assert manifest["libraries"]["hookline"] == installed["wheel"].version
    report = json.loads((out / "aws" / "build-report.json").read_text())
    assert report["hookline_from"].startswith("the installed distribution"), report
    with zipfile.ZipFile(out / "aws" / "pipeline.zip") as zf:
        names = zf.namelist()
        assert zf.read("pipeline.py") == (REPO / "functions/aws_lambda/pipeline.py").read_bytes()
        zf.extractall(tmp_path / "task")
    assert "hookline/__init__.py" in names and not any(n.startswith("functions/") for n in names)

    key, event = upload_and_event(s3_server, s3_bucket, project / "hookline.toml")
    kind, payload, output = invoke_pipeline(
        tmp_path / "task",
        lambda_runtime_dir(tmp_path / "runtime"),
        runtime_api(event),
        {"HOOKLINE_STORAGE": f"s3://{s3_bucket}", **s3_server.env},
        sys.executable,
        "pipeline.handler",
    )
    assert kind == "response", f"the function failed ({kind}): {payload}\n{output[-3000:]}"
    assert_one_succeeded_run(s3_server.s3_client(), s3_bucket, key, output)


def test_without_pip_packaging_uses_uv(tmp_path, project_copy):
    """An environment made by ``uv venv`` has no pip: hookline installs with ``uv pip``
    (the hookline layer) and resolves with ``uv pip compile`` (the GCP pins)."""
    from uv import find_uv_bin  # a test dependency: the PyPI package ships the binary

    uv = str(find_uv_bin())
    wheel = _pip.build_wheel(project_copy, tmp_path / "wheels")
    env = {
        "PATH": f"{Path(uv).parent}:/usr/bin:/bin",  # uv, and no pip of another environment
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(REPO / ".cache" / "uv")),
    }
    # the certificate authorities pip is told about on this machine, told to uv too
    cert = os.environ.get("SSL_CERT_FILE") or os.environ.get("PIP_CERT")
    if cert:
        env["SSL_CERT_FILE"] = cert
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(tmp_path / "venv")], tmp_path, env)
    python = tmp_path / "venv" / "bin" / "python"
    _run([uv, "pip", "install", "--quiet", "--python", str(python), str(wheel.path)], tmp_path, env)
    probe = _run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('pip'))"], tmp_path, env
    )
    assert probe.stdout.strip() == "None", "the environment has no pip"
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy2(QUICKSTART, project / "hookline.toml")
    _run(
        [
            str(python.parent / "hookline"),
            "package",
            "--cloud",
            "gcp",
            "--out",
            "dist",
            "--registry",
            "none",
        ],
        project,
        env,
    )
    manifest = check_manifest(project / "dist", "gcp", "source", "3.12")
    stamps = list((project / "dist" / ".build").glob("*/stamp.json"))
    assert stamps and all("uv" in json.loads(s.read_text())["inputs"] for s in stamps)
    assert manifest["libraries"]["hookline"] == wheel.version
