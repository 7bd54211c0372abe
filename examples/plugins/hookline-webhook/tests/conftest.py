"""A real HTTP server on a free local port that records what it receives and answers with
the statuses a test asks for."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookServer:
    """``responses``: statuses to answer with, in order (then 200); ``delay``: seconds to
    wait before answering."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    responses: list[int] = field(default_factory=list)
    delay: float = 0.0

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received


def _handler(server: WebhookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            server.received.append(Received(self.path, dict(self.headers.items()), body))
            if server.delay:
                time.sleep(server.delay)
            status = server.responses.pop(0) if server.responses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    state = WebhookServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/hooks/T0KEN-secret-path"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def _no_webhook_env(monkeypatch):
    """Each test says where to post; nothing leaks in from the caller's environment."""
    monkeypatch.delenv("HOOKLINE_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("HOOKLINE_WEBHOOK_SECRET", raising=False)
