"""A real ``mlflow server`` on loopback (sqlite backend and artifacts in a temporary folder),
and a loopback proxy in front of it that can delay every answer.

Starting the server costs tens of seconds on a loaded 2-core machine (migrating a fresh
sqlite database, then starting uvicorn), so the test module starts it once.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from emulators._process import EmulatorProcess

STARTUP_TIMEOUT = 180.0


@dataclass
class MlflowServer:
    url: str
    seconds_to_start: float
    process: EmulatorProcess


@contextlib.contextmanager
def mlflow_server(root: Path) -> Iterator[MlflowServer]:
    mlflow = Path(sys.executable).with_name("mlflow")
    root.mkdir(parents=True, exist_ok=True)
    process = EmulatorProcess(
        name="mlflow",
        argv=[
            str(mlflow),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
        ],
        probe_path="/health",
        log=root / "server.log",
        # no background job runner: the tests need the tracking and registry APIs only
        env={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "PYTHONUNBUFFERED": "1"},
    )
    started = time.monotonic()
    process.start(timeout=STARTUP_TIMEOUT, attempts=2)
    try:
        yield MlflowServer(process.url, time.monotonic() - started, process)
    finally:
        process.stop()


@dataclass
class SlowProxy:
    url: str
    delay: float = 0.0
    requests: int = 0


@contextlib.contextmanager
def slow_proxy(upstream: str) -> Iterator[SlowProxy]:
    """Forward to ``upstream`` after waiting ``delay`` seconds per request."""
    target = urlsplit(upstream)
    state = SlowProxy(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            state.requests += 1
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if state.delay:
                time.sleep(state.delay)
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = target.netloc
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
            except OSError:
                return
            finally:
                conn.close()
            try:
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up waiting

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def record_figure(name: str, value: float) -> None:
    """Append a measured figure to ``$HOOKLINE_FIGURES`` (a file), when set."""
    path = os.environ.get("HOOKLINE_FIGURES")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{name}\t{value:.3f}\n")
