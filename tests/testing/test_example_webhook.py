"""The example third-party plugin, examples/plugins/hookline-webhook, installed into a fresh
virtual environment: its own tests (hookline's conformance kit) pass there, and the
quickstart pipeline run with ``hookline run`` posts its outcome to a local HTTP server once
the plugin is installed -- and not before. Nothing in hookline or in the project changes."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "plugins" / "hookline-webhook"
QUICKSTART = ROOT / "examples" / "quickstart"


class Recorder:
    """A local HTTP server that keeps every POST it receives."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], Any]] = []
        self.arrived = threading.Event()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorder.posts.append((self.path, dict(self.headers.items()), json.loads(body)))
                recorder.arrived.set()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/ml-events"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    try:
        yield server
    finally:
        server.close()


def project_copy(dest: Path) -> Path:
    """The quickstart project with fresh, empty storage."""
    assert (QUICKSTART / "hookline.toml").is_file(), "examples/quickstart is missing"
    shutil.copytree(QUICKSTART, dest, ignore=shutil.ignore_patterns(".hookline", "__pycache__"))
    return dest


def run_json(venv, *args: str, cwd: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    result = venv.run("hookline", *args, "--json", cwd=cwd, env=env)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.mark.slow
def test_example_plugin_in_a_fresh_environment(fresh_venv, recorder, tmp_path):
    env = fresh_venv.env(HOOKLINE_WEBHOOK_URL=recorder.url)

    # Before: the quickstart runs, and nobody is told.
    before = project_copy(tmp_path / "before")
    (result,) = run_json(fresh_venv, "run", "batch1.csv", cwd=before, env=env)
    assert result["status"] == "succeeded", result
    assert not recorder.arrived.wait(1.0), "posted without the plugin installed?"

    # Install the plugin, from a copy so that the build leaves the checkout clean.
    package = tmp_path / "hookline-webhook"
    shutil.copytree(
        EXAMPLE, package, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    fresh_venv.pip_install(package)
    plugins = {p["name"]: p for p in run_json(fresh_venv, "plugins", cwd=tmp_path, env=env)}
    assert plugins["webhook"]["distribution"] == "hookline-webhook"
    assert plugins["webhook"]["hooks"] == ["after_pipeline_run", "on_pipeline_error"]

    # Its own test suite runs hookline's conformance kit over it, against a live server.
    tests = fresh_venv.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=package)
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    passed = re.search(r"(\d+) passed", tests.stdout)
    assert passed and int(passed.group(1)) >= 15, tests.stdout[-2000:]

    # After: the same pipeline, the same project file, and the outcome arrives.
    after = project_copy(tmp_path / "after")
    (result,) = run_json(fresh_venv, "run", "batch1.csv", cwd=after, env=env)
    assert result["status"] == "succeeded", result
    assert recorder.arrived.wait(10), "no POST arrived"
    (path, headers, body) = recorder.posts[0]
    record = json.loads(
        (after / ".hookline" / "runs" / result["run_id"] / "record.json").read_text()
    )
    assert path == "/ml-events"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Hookline-Delivery"] == f"{result['run_id']}.1.succeeded"
    assert body["run_id"] == result["run_id"] == record["run_id"]
    assert (body["status"], body["pipeline"], body["model"]) == ("succeeded", "train", "penguins")
    assert body["metrics"] == record["metrics"] and "accuracy" in body["metrics"]
    assert (body["model_version"], body["alias"]) == (1, "production")
    assert body["error"] is None
    assert body["trigger"]["sha256"] == record["trigger"]["sha256"]

    # A bad upload fails the run: the webhook hears about it, with the error.
    recorder.arrived.clear()
    (failed,) = run_json(fresh_venv, "run", "broken.csv", cwd=after, env=env)
    assert failed["status"] == "failed"
    assert recorder.arrived.wait(10), "no POST for the failed run"
    body = recorder.posts[-1][2]
    assert body["status"] == "failed" and body["run_id"] == failed["run_id"]
    assert body["error"]["message"] and body["model_version"] is None
    assert len(recorder.posts) == 2
