"""What the MLflow and OpenLineage plugins cost a run, against the same run without them.

    .venv/bin/python -m bench.integrations [--quick]

A real ``mlflow server`` (sqlite and artifacts in a temporary folder) is started on
loopback, and the quickstart's first training upload runs, in this process, interleaved:

* ``off``: no integration configured (the baseline);
* ``mlflow``: mirrored to the live server (a warm process: MLflow is already imported);
* ``mlflow down``: the tracking URI points at a port nobody listens on;
* ``mlflow slow``: a proxy holds every answer 30 s (``timeout_seconds = 1``, no retry);
* ``openlineage``: events to a loopback HTTP receiver.

Importing each client is measured apart, in fresh interpreters: it is paid once per process
(a cold start), only when a plugin is enabled. It prints figures; it does not pass or fail.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart"
PLUGINS = "pandas,sklearn,gates,registry,drift,mlflow,openlineage"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _mlflow_server(root: Path) -> Iterator[tuple[str, float]]:
    port = _free_port()
    mlflow = Path(sys.executable).with_name("mlflow")
    argv = [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    argv += ["--backend-store-uri", f"sqlite:///{root / 'db.sqlite'}"]
    argv += ["--artifacts-destination", str(root / "artifacts")]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    started = time.monotonic()
    with open(root / "server.log", "wb") as log:
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited; see {root / 'server.log'}")
            with contextlib.suppress(OSError), urllib.request.urlopen(url + "/health", timeout=1):
                break
            if time.monotonic() - started > 180:
                raise RuntimeError("mlflow server did not answer in 180 s")
            time.sleep(0.1)
        yield url, time.monotonic() - started
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        proc.wait(10)


@contextlib.contextmanager
def _http(delay: float = 0.0, upstream: str | None = None) -> Iterator[str]:
    """A loopback receiver answering 200, or a proxy to ``upstream`` after ``delay``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(delay)
            if upstream is None:
                data, status = b"", 200
            else:
                req = urllib.request.Request(upstream + self.path, data=body or None)
                req.method = self.command
                try:
                    with urllib.request.urlopen(req, timeout=60) as answer:
                        data, status = answer.read(), answer.status
                except OSError:
                    return
            with contextlib.suppress(OSError):
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _run_once(table: str, n: int) -> float:
    from hookline.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "q"
        shutil.copytree(QUICKSTART, root, ignore=shutil.ignore_patterns(".hookline"))
        (root / "hookline.toml").write_text((root / "hookline.toml").read_text() + table)
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = main(["run", str(root / "batch1.csv"), "--config", str(root / "hookline.toml")])
        seconds = time.perf_counter() - started
    assert code == 0, f"run {n} exited {code}"
    return seconds


def _import_seconds(statement: str, repeat: int) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeat)
    ]
    return min(times)


def run(quick: bool = False) -> str:
    import logging

    logging.disable(logging.WARNING)
    os.environ["HOOKLINE_PLUGINS"] = PLUGINS
    for name in ("MLFLOW_TRACKING_URI", "OPENLINEAGE_URL", "HOOKLINE_CONFIG"):
        os.environ.pop(name, None)
    repeat = 2 if quick else 5
    imports = {
        "mlflow.tracking": _import_seconds("from mlflow.tracking import MlflowClient", repeat),
        "openlineage.client": _import_seconds(
            "from openlineage.client import OpenLineageClient", repeat
        ),
    }
    from mlflow.tracking import MlflowClient  # noqa: F401  (warm: what a warm function pays)

    with tempfile.TemporaryDirectory() as tmp, _mlflow_server(Path(tmp)) as (url, start):
        dead = f"http://127.0.0.1:{_free_port()}"
        with _http() as receiver, _http(delay=30.0, upstream=url) as slow:
            modes = {
                "off": "",
                "mlflow": f'\n[plugins.mlflow]\ntracking_uri = "{url}"\n',
                "mlflow down": f'\n[plugins.mlflow]\ntracking_uri = "{dead}"\n',
                "mlflow slow": f'\n[plugins.mlflow]\ntracking_uri = "{slow}"\n'
                "timeout_seconds = 1\nmax_retries = 0\n",
                "openlineage": f'\n[plugins.openlineage]\ntransport = {{ type = "http", '
                f'url = "{receiver}" }}\n',
            }
            times: dict[str, list[float]] = {m: [] for m in modes}
            _run_once("", 0)  # warm-up: imports, first model fit
            for n in range(repeat):
                for mode, table in modes.items() if n % 2 == 0 else reversed(modes.items()):
                    times[mode].append(_run_once(table, n))
    base = statistics.median(times["off"])
    lines = [
        "### Integrations (MLflow, OpenLineage)",
        "",
        f"The quickstart's first training run, {repeat} runs per mode, interleaved, median "
        "wall time in a warm process; `mlflow server` started in "
        f"{start:.1f} s (fresh sqlite database).",
        "",
        "| mode | median | runs | vs off |",
        "|---|---|---|---|",
    ]
    for mode, values in times.items():
        median = statistics.median(values)
        lines.append(
            f"| {mode} | {median:.2f} s | {', '.join(f'{v:.2f}' for v in values)} | "
            f"{median / base:.2f}x (+{median - base:.2f} s) |"
        )
    lines += ["", "| client import (fresh interpreter, best of runs) | seconds |", "|---|---|"]
    lines += [f"| `{name}` | {value:.2f} |" for name, value in imports.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
