"""The emulator harness itself: the command line starts, reports and stops emulators, and a
taken port is detected instead of silently testing against somebody else's server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from . import _process
from ._process import EmulatorProcess, http_answers, pid_alive
from ._servers import REPO, emulator

pytestmark = pytest.mark.emulator


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.emulators", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_up_status_down(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    up = run_cli("up", "gcs", "--state", str(state))
    assert up.returncode == 0, up.stderr
    exports = dict(line.removeprefix("export ").split("=", 1) for line in up.stdout.splitlines())
    url = exports["HOOKLINE_EMULATOR_GCS"]
    assert exports["STORAGE_EMULATOR_HOST"] == url
    pid = json.loads(state.read_text())["gcs"]["pid"]
    try:
        assert http_answers(url + "/storage/v1/b")
        status = run_cli("status", "gcs", "--state", str(state))
        assert status.returncode == 0 and "answers" in status.stdout
        again = run_cli("up", "gcs", "--state", str(state))  # idempotent: same server
        assert f"HOOKLINE_EMULATOR_GCS={url}" in again.stdout
    finally:
        down = run_cli("down", "gcs", "--state", str(state))
    assert down.returncode == 0
    assert not pid_alive(pid)
    assert not state.exists()
    assert "not started" in run_cli("status", "gcs", "--state", str(state)).stdout


def test_unknown_emulator_is_refused() -> None:
    result = run_cli("up", "dynamodb")
    assert result.returncode == 2 and "unknown emulator" in result.stderr


class _Squatter(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def test_a_taken_port_is_detected_and_another_one_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    squatter = ThreadingHTTPServer(("127.0.0.1", 0), _Squatter)  # answers every probe
    threading.Thread(target=squatter.serve_forever, daemon=True).start()
    taken = squatter.server_address[1]
    ports = iter([taken])
    real_free_port = _process.free_port
    monkeypatch.setattr(_process, "free_port", lambda: next(ports, None) or real_free_port())
    server: EmulatorProcess = emulator("gcs", log=tmp_path / "gcs.log")
    try:
        server.start(timeout=10)
        assert server.port != taken  # the first process died on the taken port
        assert server.alive()
        assert http_answers(server.url + "/storage/v1/b")
    finally:
        server.stop()
        squatter.shutdown()
        squatter.server_close()
    assert not server.alive()
