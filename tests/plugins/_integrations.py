"""The quickstart project, copied to a temporary folder with integration tables added, and
driven through the real command line (``hookline.cli.main``), as a user would run it."""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"
PLUGINS = "pandas,sklearn,gates,registry,drift,mlflow,openlineage"

# A second training pipeline whose gate no model can pass: a run of it is always rejected.
STRICT = """
[pipelines.strict]
model = "penguins"
stages = ["ingest", "train", "validate", "deploy"]
trigger = { prefix = "landing/strict/", suffix = ".csv" }

[pipelines.strict.plugins.gates]
min_metrics = { accuracy = 1.01 }
"""


class Quickstart:
    """``examples/quickstart`` in ``root``, with ``extra`` TOML appended to its config."""

    def __init__(self, root: Path, extra: str = "") -> None:
        self.root = root
        shutil.copytree(QUICKSTART, root, ignore=shutil.ignore_patterns(".hookline", "__pycache__"))
        self.base = (root / "hookline.toml").read_text()
        self.configure(extra)

    @property
    def config(self) -> Path:
        return self.root / "hookline.toml"

    @property
    def storage(self) -> Path:
        return self.root / ".hookline"

    def configure(self, extra: str) -> None:
        """Replace the appended tables (the rest of the quickstart stays as it is)."""
        self.config.write_text(self.base + STRICT + extra)

    def cli(self, *args: str) -> tuple[int, Any, str]:
        """Run ``hookline ARGS --config FILE --json``: exit code, parsed JSON, stderr."""
        from hookline.cli import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*args, "--config", str(self.config), "--json"])
        text = out.getvalue()
        return code, json.loads(text) if text.strip() else None, err.getvalue()

    def run(self, data: str, pipeline: str = "train") -> dict[str, Any]:
        """``hookline run DATA --pipeline P``; the run's record, read back from storage."""
        code, results, err = self.cli("run", str(self.root / data), "--pipeline", pipeline)
        assert results, f"hookline run printed nothing (exit {code}): {err}"
        (result,) = results
        return self.record(result["run_id"])

    def record(self, run_id: str) -> dict[str, Any]:
        return json.loads((self.storage / "runs" / run_id / "record.json").read_text())


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on loopback that records POSTs and answers ``status`` (after
    ``delay`` seconds)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0


@contextlib.contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append(Received(self.path, dict(self.headers.items()), body))
            if state.delay:
                time.sleep(state.delay)
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
