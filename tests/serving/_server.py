"""Start a real HTTP server process on a free port, wait until it answers, stop it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(
    url: str,
    body: Any = None,
    *,
    method: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url,
        data=data,
        method=method or ("POST" if data else "GET"),
        headers={"content-type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw, hdrs = resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        status, raw, hdrs = exc.code, exc.read(), dict(exc.headers)
    try:
        return status, {k.lower(): v for k, v in hdrs.items()}, json.loads(raw)
    except ValueError:
        return status, {k.lower(): v for k, v in hdrs.items()}, raw.decode()


@contextmanager
def server(
    argv: Sequence[str],
    port: int,
    env: Mapping[str, str],
    *,
    ready: str = "/health",
    timeout: float = 60,
) -> Iterator[str]:
    """Run ``argv`` until ``http://127.0.0.1:PORT{ready}`` answers (any status)."""
    log = open(os.devnull, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        list(argv),
        cwd=REPO,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"{argv[0]} exited with {proc.returncode}:\n{err[-3000:]}")
            try:
                urllib.request.urlopen(base + ready, timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} did not answer on {base} in {timeout}s")
                time.sleep(0.1)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        if proc.stderr:
            proc.stderr.close()
        log.close()
