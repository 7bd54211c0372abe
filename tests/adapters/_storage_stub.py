"""A tiny misbehaving HTTP server on loopback, to drive the SDKs into the failures a real
cloud produces under load (throttling, 5xx, slow answers, dropped connections).

The back-ends are pointed at it exactly like at an emulator (endpoint environment
variables), so the error mapping is exercised through the real SDK and a real socket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """One canned answer: status, headers, body; ``delay`` seconds before answering;
    ``truncate`` sends only that many body bytes of a longer declared length."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate: int | None = None


@dataclass
class Stub:
    url: str
    requests: list[tuple[str, str]]


@contextmanager
def stub_server(reply: Reply) -> Iterator[Stub]:
    """Serve ``reply`` to every request on a free loopback port; record the requests."""
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            seen.append((self.command, self.path))
            if reply.delay:
                time.sleep(reply.delay)
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            if reply.truncate is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                body = reply.body if reply.truncate is None else reply.body[: reply.truncate]
                self.wfile.write(body)
            if reply.truncate is not None:
                self.close_connection = True

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Stub(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()
