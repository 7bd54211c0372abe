"""An HTTP fault proxy between hookline's cloud back-ends and an emulator.

It forwards every request to moto, fake-gcs-server or Azurite, except those a
:class:`Fault` selects, which it answers the way the cloud answers under load: S3
``503 SlowDown`` / ``500 InternalError``, GCS ``503 backendError`` / ``429
rateLimitExceeded``, Azure ``503 ServerBusy`` / ``500 InternalError``, each with the
cloud's error body; or forwards and then cuts the response body half-way (a dropped
stream). The back-ends reach it through the same endpoint variables as the emulators
(``AWS_ENDPOINT_URL``, ``STORAGE_EMULATOR_HOST``, ``AZURE_STORAGE_CONNECTION_STRING``).

    with FaultProxy(server.url, "s3") as proxy:
        proxy.fault = Fault(status=503, first=2)
        ...  # point the back-end at proxy.url
        assert proxy.faults == 2
"""

from __future__ import annotations

import fnmatch
import http.client
import json
import random
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["Fault", "FaultProxy", "object_key"]

_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "host",
}
_CODES = {
    "s3": {503: "SlowDown", 500: "InternalError", 429: "SlowDown"},
    "gcs": {503: "backendError", 500: "internalError", 429: "rateLimitExceeded"},
    "azure": {503: "ServerBusy", 500: "InternalError", 429: "ServerBusy"},
}


@dataclass
class Fault:
    """Which requests fail, and how.

    :param status: the status answered (503, 500, 429).
    :param first: fail the first N matching requests...
    :param fraction: ...then this share of the matching requests (seeded).
    :param methods: only these HTTP methods; empty: every method.
    :param key: an ``fnmatch`` pattern over the object key (``root/registry/*``); requests
        that name no object (listings, bucket calls) match only when ``key`` is ``None``.
    :param mode: ``reject`` answers the error without forwarding (the request never
        happened); ``truncate`` forwards, then sends half the body and drops the
        connection.
    """

    status: int = 503
    first: int = 0
    fraction: float = 0.0
    methods: tuple[str, ...] = ()
    key: str | None = None
    mode: str = "reject"

    def matches(self, method: str, key: str | None) -> bool:
        if self.methods and method not in self.methods:
            return False
        if self.key is None:
            return True
        return key is not None and fnmatch.fnmatchcase(key, self.key)


def object_key(flavor: str, path: str, body: bytes = b"") -> str | None:
    """The object key a request to the emulator concerns, or ``None`` (bucket-level)."""
    parts = urlsplit(path)
    segments = parts.path.split("/")
    if flavor == "s3":  # path style: /bucket/key
        key = "/".join(segments[2:])
        return unquote(key) or None
    if flavor == "azure":  # /account/container/blob
        key = "/".join(segments[3:])
        return unquote(key) or None
    # GCS JSON API: /[download/|upload/]storage/v1/b/BUCKET/o[/NAME]
    match = re.search(r"/storage/v1/b/[^/]+/o/(.+)$", parts.path)
    if match:
        return unquote(match.group(1))
    if "/upload/" in parts.path:
        name = parse_qs(parts.query).get("name")
        if name:
            return name[0]
        found = re.search(rb'"name"\s*:\s*"([^"]+)"', body[:4096])
        if found:
            return json.loads(b'"' + found.group(1) + b'"')  # type: ignore[no-any-return]
    return None


class FaultProxy:
    """A forwarding proxy on a free loopback port; set :attr:`fault` to disturb it.

    :param upstream: the emulator's base URL.
    :param flavor: ``s3``, ``gcs`` or ``azure`` (error bodies, key extraction).
    :param seed: seeds the ``fraction`` draws.
    """

    def __init__(self, upstream: str, flavor: str, *, seed: int = 0) -> None:
        if flavor not in _CODES:
            raise ValueError(f"flavor must be one of {sorted(_CODES)}, not {flavor!r}")
        self.upstream = urlsplit(upstream)
        self.flavor = flavor
        self.fault: Fault | None = None
        self.requests = 0
        self.faults = 0
        self.log: list[tuple[str, str | None, int]] = []
        self._matched = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _decide(self, method: str, key: str | None) -> Fault | None:
        with self._lock:
            self.requests += 1
            fault = self.fault
            if fault is None or not fault.matches(method, key):
                return None
            self._matched += 1
            if self._matched <= fault.first or self._rng.random() < fault.fraction:
                self.faults += 1
                return fault
            return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                body = self._body()
                key = object_key(proxy.flavor, self.path, body)
                fault = proxy._decide(self.command, key)
                if fault is not None and fault.mode == "reject":
                    proxy.log.append((self.command, key, fault.status))
                    return self._error(fault.status)
                status, headers, data = self._forward(body)
                if fault is not None and fault.mode == "truncate" and len(data) > 1:
                    proxy.log.append((self.command, key, -status))
                    return self._send(status, headers, data, cut=len(data) // 2)
                proxy.log.append((self.command, key, status))
                self._send(status, headers, data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                up = proxy.upstream
                conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                    headers["Host"] = up.netloc
                    if body or self.command in ("PUT", "POST", "PATCH"):
                        headers["Content-Length"] = str(len(body))
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    out = [
                        (k, v)
                        for k, v in response.getheaders()
                        if k.lower() not in _HOP
                        or (self.command == "HEAD" and k.lower() == "content-length")
                    ]
                    if proxy.flavor == "gcs":  # links and upload sessions point at the emulator
                        there, mine = up.netloc, urlsplit(proxy.url).netloc
                        out = [(k, v.replace(there, mine)) for k, v in out]
                        if "json" in (response.getheader("Content-Type") or ""):
                            data = data.replace(there.encode(), mine.encode())
                    return response.status, out, data
                finally:
                    conn.close()

            def _send(
                self,
                status: int,
                headers: list[tuple[str, str]],
                data: bytes,
                cut: int | None = None,
            ) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                if cut is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data if cut is None else data[:cut])
                if cut is not None:
                    self.wfile.flush()
                    self.close_connection = True

            def _error(self, status: int) -> None:
                code = _CODES[proxy.flavor].get(status, "InternalError")
                headers: list[tuple[str, str]] = []
                if proxy.flavor == "gcs":
                    body = json.dumps(
                        {
                            "error": {
                                "code": status,
                                "message": f"{code} (injected)",
                                "errors": [{"reason": code, "message": "injected"}],
                            }
                        }
                    ).encode()
                    headers.append(("Content-Type", "application/json; charset=UTF-8"))
                else:
                    body = (
                        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                        f"<Message>{code} (injected by the fault proxy)</Message>"
                        "<RequestId>fault</RequestId></Error>"
                    ).encode()
                    headers.append(("Content-Type", "application/xml"))
                    if proxy.flavor == "azure":
                        headers.append(("x-ms-error-code", code))
                self._send(status, headers, body)

        return Handler
