"""Start a function host (functions-framework) as a real server process on a free port, wait
until it answers, and stop it; its output goes to a log file that failures quote."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Host:
    url: str
    process: subprocess.Popen
    log: Path

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


@contextmanager
def host(
    argv: Sequence[str], port: int, env: Mapping[str, str], cwd: Path, *, timeout: float = 60
) -> Iterator[Host]:
    """Run ``argv`` in ``cwd`` with a clean hookline environment plus ``env``, until
    ``http://127.0.0.1:PORT/`` answers with any HTTP status."""
    log = cwd / "host.log"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("HOOKLINE_", "PYTEST_"))}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env={**base_env, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    running = Host(url, proc, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:  # our own process died (e.g. the port was taken)
                raise RuntimeError(f"{argv[0]} exited with {proc.returncode}:\n{running.tail()}")
            try:
                urllib.request.urlopen(url + "/", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} did not answer in {timeout}s") from None
                time.sleep(0.1)
        yield running
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
