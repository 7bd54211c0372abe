"""An HTTP forwarder in front of an emulator that can turn requests for one object into
the answer a throttled cloud gives (503 SlowDown, ServerBusy...), so a function meets a
real transient storage failure through its real SDK, and recovers when it is lifted."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


@dataclass
class Fault:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FaultyProxy:
    url: str
    upstream: str
    matcher: Callable[[str, str], bool] | None = None
    fault: Fault | None = None
    failed: list[tuple[str, str]] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, needle: str, fault: Fault) -> None:
        """Answer ``fault`` to every request whose decoded path contains ``needle``."""
        self.fault = fault
        self.matcher = lambda method, path: needle in unquote(unquote(path))

    def heal(self) -> None:
        self.matcher = None
        self.fault = None


@contextmanager
def faulty_proxy(upstream: str) -> Iterator[FaultyProxy]:
    target = urlsplit(upstream)
    proxy = FaultyProxy(url="", upstream=upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            proxy.seen.append((self.command, self.path))
            matcher, fault = proxy.matcher, proxy.fault
            if matcher is not None and fault is not None and matcher(self.command, self.path):
                proxy.failed.append((self.command, self.path))
                self.send_response(fault.status)
                for key, value in fault.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(fault.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(fault.body)
                return
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            self.send_response(response.status)
            head = self.command == "HEAD"
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP and (head or key.lower() != "content-length"):
                    self.send_header(key, value)
            if not head:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = _forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
