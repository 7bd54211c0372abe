"""A small Lambda Runtime API on loopback, and the real runtime client (awslambdaric) on it.

The stub speaks the four endpoints a runtime uses (``GET .../invocation/next``, ``POST
.../invocation/{id}/response``, ``POST .../invocation/{id}/error``, ``POST .../init/error``).
:meth:`LambdaStub.invoke` queues an event and waits for the function's answer; several
runtime processes may poll the same stub, as several warm instances of one function do.

Logs are captured the way Lambda reads them: each runtime gets a telemetry pipe
(``_LAMBDA_TELEMETRY_LOG_FD``), over which awslambdaric writes every log record as a frame
(type -- JSON or text, and level --, length, timestamp, message); :class:`Frame` is one.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PREFIX = "/2018-06-01/runtime"

JSON_FRAMES = {
    0xA55A000A: "DEBUG",
    0xA55A000E: "INFO",
    0xA55A0012: "WARNING",
    0xA55A0016: "ERROR",
    0xA55A001A: "CRITICAL",
    0xA55A0002: "NOTSET",
}
"""awslambdaric's frame types of JSON-formatted records, by level."""


@dataclass(frozen=True)
class Frame:
    """One log record as the runtime sent it to Lambda's telemetry."""

    process: int
    type: int
    timestamp_us: int
    message: str

    @property
    def json_level(self) -> str | None:
        """The level, when the frame is a JSON-formatted record (else ``None``: text)."""
        return JSON_FRAMES.get(self.type)

    def document(self) -> Any:
        """The message as JSON (``None`` when it is not a JSON object)."""
        try:
            value = json.loads(self.message)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def _read_frames(fd: int, process: int, into: list[Frame]) -> None:
    with os.fdopen(fd, "rb", 0) as pipe:
        while True:
            head = _read_exactly(pipe, 16)
            if head is None:
                return
            kind = int.from_bytes(head[:4], "big")
            length = int.from_bytes(head[4:8], "big")
            stamp = int.from_bytes(head[8:16], "big")
            body = _read_exactly(pipe, length) if length else b""
            if body is None:
                return
            into.append(Frame(process, kind, stamp, body.decode("utf-8", "replace")))


def _read_exactly(pipe: Any, size: int) -> bytes | None:
    parts = b""
    while len(parts) < size:
        chunk = pipe.read(size - len(parts))
        if not chunk:
            return None
        parts += chunk
    return parts


@dataclass
class Answer:
    """What the function answered: ``ok`` with its JSON result, or the error document."""

    ok: bool
    body: Any
    request_id: str

    @property
    def error_type(self) -> str | None:
        return None if self.ok else self.body.get("errorType")


@dataclass
class LambdaStub:
    url: str
    address: str
    pending: queue.Queue = field(default_factory=queue.Queue)
    answers: dict[str, queue.Queue] = field(default_factory=dict)
    init_errors: list[Any] = field(default_factory=list)

    def invoke(self, event: Any, *, request_id: str | None = None, timeout: float = 60) -> Answer:
        """Deliver ``event`` to the next free runtime and wait for its answer."""
        request_id = request_id or str(uuid.uuid4())
        box: queue.Queue = queue.Queue()
        self.answers[request_id] = box
        self.pending.put((request_id, json.dumps(event).encode()))
        try:
            return box.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no answer to invocation {request_id} in {timeout}s "
                f"(init errors: {self.init_errors})"
            ) from None


def _handler(stub: LambdaStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, status: int, body: bytes = b"{}", headers: Mapping[str, str] = {}):
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path != f"{PREFIX}/invocation/next":
                return self._reply(404)
            request_id, body = stub.pending.get()  # blocks like the real API
            self._reply(
                200,
                body,
                {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int((time.time() + 300) * 1000)),
                    "Lambda-Runtime-Invoked-Function-Arn": (
                        "arn:aws:lambda:us-east-1:123456789012:function:hookline-pipeline"
                    ),
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                },
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            if self.path == f"{PREFIX}/init/error":
                stub.init_errors.append(body)
                return self._reply(202)
            parts = self.path[len(PREFIX) :].strip("/").split("/")
            if len(parts) != 3 or parts[0] != "invocation" or parts[2] not in ("response", "error"):
                return self._reply(404)
            request_id, kind = parts[1], parts[2]
            box = stub.answers.pop(request_id, None)
            if box is None:
                return self._reply(400, b'{"errorType": "InvalidRequestID"}')
            box.put(Answer(kind == "response", body, request_id))
            self._reply(202)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def lambda_runtime_api() -> Iterator[LambdaStub]:
    """Serve the Runtime API on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)  # type: ignore[arg-type]
    address = f"127.0.0.1:{server.server_address[1]}"
    stub = LambdaStub(url=f"http://{address}", address=address)
    server.RequestHandlerClass = _handler(stub)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def runtime_processes(
    stub: LambdaStub,
    task_root: Path,
    handler: str,
    env: Mapping[str, str],
    count: int = 1,
    *,
    frames: list[Frame] | None = None,
) -> Iterator[list[subprocess.Popen]]:
    """Start ``count`` awslambdaric processes (``python -m awslambdaric HANDLER``) in
    ``task_root``, as the Lambda service starts instances of one function.

    :param frames: where the log frames of every process are collected (read from each
        process's telemetry pipe, as Lambda does); without it the runtime writes its log
        to standard output (the ``runtime-N.log`` files)."""
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HOOKLINE_", "AWS_", "PYTEST_"))
    }
    full_env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": stub.address,
            "AWS_LAMBDA_FUNCTION_NAME": "hookline-pipeline",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008",
            "LAMBDA_TASK_ROOT": str(task_root),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
    )
    logs = [task_root / f"runtime-{i}.log" for i in range(count)]
    procs = []
    readers = []
    for i, log in enumerate(logs):
        proc_env = dict(full_env)
        pass_fds: tuple[int, ...] = ()
        if frames is not None:
            read_end, write_end = os.pipe()
            proc_env["_LAMBDA_TELEMETRY_LOG_FD"] = str(write_end)
            pass_fds = (write_end,)
            reader = threading.Thread(target=_read_frames, args=(read_end, i, frames), daemon=True)
            reader.start()
            readers.append(reader)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "awslambdaric", handler],
                cwd=task_root,
                env=proc_env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                pass_fds=pass_fds,
            )
        )
        if pass_fds:
            os.close(pass_fds[0])  # the child holds it now; EOF when it exits
    try:
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for reader in readers:
            reader.join(timeout=10)
