"""Start one emulator process on a free loopback port and wait until it answers.

The readiness wait checks that *our* process is still alive on every round: when the port
is already taken, a new emulator exits at once while a probe may well succeed against the
process that holds the port, and we would test against the wrong server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "EmulatorError",
    "EmulatorProcess",
    "free_port",
    "http_answers",
    "pid_alive",
    "stop_pid",
    "wait_http",
]


class EmulatorError(RuntimeError):
    """An emulator could not be started, or is not reachable."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_answers(url: str, timeout: float = 0.5) -> bool:
    """True when something answers HTTP at ``url`` (any status code counts)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True  # an HTTP error status is still an HTTP server answering
    except (OSError, ValueError):
        return False


def wait_http(url: str, timeout: float = 5.0) -> None:
    """Wait until ``url`` answers HTTP, or raise :class:`EmulatorError`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_answers(url):
            return
        time.sleep(0.05)
    raise EmulatorError(f"nothing answers at {url} after {timeout:.0f}s")


@dataclass
class EmulatorProcess:
    """One running emulator.

    :param name: ``s3``, ``gcs`` or ``azure``.
    :param argv: the command, with ``{port}`` where the port goes.
    :param probe_path: path requested to decide readiness (any HTTP answer counts).
    :param log: file that receives the emulator's stdout and stderr.
    """

    name: str
    argv: Sequence[str]
    probe_path: str = "/"
    log: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self, timeout: float = 20.0, attempts: int = 3, detach: bool = False) -> None:
        """Start on a free port and wait for readiness; retry on a new port if the process
        dies (the port was taken between choosing it and binding it).

        :param detach: start in a new session so the process outlives this one (``up``).
        :raises EmulatorError: when it never becomes ready.
        """
        last = ""
        for _ in range(attempts):
            self.port = free_port()
            argv = [a.format(port=self.port) for a in self.argv]
            if self.log:
                self.log.parent.mkdir(parents=True, exist_ok=True)
            out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
            try:
                self.proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env={
                        **os.environ,
                        **{k: v.format(port=self.port) for k, v in self.env.items()},
                    },
                    start_new_session=True,  # its own process group: stop() ends children too
                )
            except OSError as exc:
                raise EmulatorError(f"cannot start the {self.name} emulator ({argv[0]}): {exc}")
            finally:
                if out is not subprocess.DEVNULL:
                    out.close()  # type: ignore[union-attr]
            ok, last = self._wait_ready(timeout)
            if ok:
                return
            self.stop()
        where = f"; its log: {self.log}" if self.log else ""
        raise EmulatorError(f"the {self.name} emulator did not start: {last}{where}")

    def _wait_ready(self, timeout: float) -> tuple[bool, str]:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                return False, f"process exited with code {code} (port {self.port} taken?)"
            if http_answers(self.url + self.probe_path):
                # Something answered: make sure it is our process, not a squatter on the port.
                owner = listening_owner(self.proc.pid, self.port)
                if owner is True or (owner is None and self._still_alive_after(0.5)):
                    return True, ""
            time.sleep(0.05)
        return False, f"no answer at {self.url}{self.probe_path} after {timeout:.0f}s"

    def _still_alive_after(self, seconds: float) -> bool:
        time.sleep(seconds)
        return self.proc is not None and self.proc.poll() is None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Stop the process (its whole process group), politely first."""
        if self.proc is None:
            return
        stop_pid(self.proc.pid)
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        self.proc = None


def stop_pid(pid: int, wait: float = 5.0) -> None:
    """SIGTERM the process group led by ``pid``, then SIGKILL it if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.05)


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; field 9 is the inode
            if (
                len(fields) > 9
                and fields[3] == "0A"
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                inodes.add(fields[9])
    return inodes


def _group_pids(leader: int) -> set[int]:
    """``leader`` and every process in its process group (it was started in a new session)."""
    pids = {leader}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(leader):  # pgrp
            pids.add(int(stat.parent.name))
    return pids


def listening_owner(pid: int, port: int) -> bool | None:
    """Whether the socket listening on ``port`` belongs to ``pid``'s process group:
    ``True``/``False``, or ``None`` where ``/proc`` cannot tell (not Linux)."""
    if not Path("/proc/net/tcp").exists():
        return None
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    for member in _group_pids(pid):
        try:
            fds = list(Path(f"/proc/{member}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return True
    return False
