"""``hookline serve``: uvicorn on a free port, real HTTP requests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ._server import free_port, request, server
from .conftest import RECORD, Project

HOOKLINE = str(Path(sys.executable).parent / "hookline")


def test_serve_is_a_registered_command() -> None:
    out = subprocess.run(
        [HOOKLINE, "serve", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--port" in out and "--host" in out and "--config" in out


def test_serve_answers_over_http(served: Project) -> None:
    port = free_port()
    argv = [
        HOOKLINE,
        "serve",
        "--config",
        str(served.config_path),
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with server(argv, port, {"HOOKLINE_API_KEYS": ""}) as base:
        status, headers, body = request(base + "/predict?proba=true", RECORD)
        assert status == 200 and body["predictions"] == ["yes"]
        assert headers["x-hookline-model-version"] == "1"
        status, _, body = request(base + "/health")
        assert status == 200 and body["ready"] is True


def test_serve_reports_a_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "hookline.toml"
    bad.write_text("[serving]\nmax_batch = 'lots'\n")
    proc = subprocess.run(
        [HOOKLINE, "serve", "--config", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "error:" in proc.stderr
