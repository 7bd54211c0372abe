"""The ``local`` compute backend: a job is a separate process on this machine.

``submit`` writes the job's state file and starts a small supervisor process in its own
session (it outlives the dispatcher, as a platform's job outlives the function that
submitted it). The supervisor starts the job (``python -m hookline job run``), waits for
it, writes how it ended (exit code, or the signal that killed it) and then plays the
platform's part: it delivers a :class:`~hookline.events.JobEvent` to the pipeline, exactly
as EventBridge delivers a Batch job-state change to the pipeline function. The reconciler
reads the same state file (:meth:`LocalBackend.status`).

Settings (``[pipelines.NAME.compute]`` with ``backend = "local"``): ``command`` (what the
job runs, default this interpreter running ``hookline job run``), ``state_dir`` (where the
state files and logs go), ``env`` (extra variables for the job).

Run as ``python -m hookline._local_jobs STATE_FILE`` it is the supervisor.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from hookline.compute import JobHandle, JobSpec, JobStatus
from hookline.config import Option
from hookline.errors import HooklineError
from hookline.events import JobEvent, utc_now_iso

__all__ = ["LocalBackend", "supervise"]

log = logging.getLogger("hookline.compute.local")

DEFAULT_COMMAND = (sys.executable, "-m", "hookline", "job", "run")


def _default_state_dir() -> str:
    return os.path.join(tempfile.gettempdir(), "hookline-jobs")


def _write_state(path: Path, doc: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _read_state(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _alive(pid: Any) -> bool:
    """Whether process ``pid`` runs (a zombie does not: it has ended, unreaped)."""
    try:
        pid = int(pid)
        os.kill(pid, 0)
    except (TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def describe_exit(code: int) -> str:
    """``exit code 3`` / ``killed by signal 9 (SIGKILL)`` for a ``Popen.returncode``."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {-code} ({name})"
    return f"exit code {code}"


class LocalBackend:
    """A job is a process on this machine, supervised; see the module docstring."""

    name: ClassVar[str] = "local"
    events: ClassVar[str] = "events"
    settings: ClassVar[Mapping[str, Option]] = {
        "command": Option(
            list,
            None,
            "what the job runs (default: this Python running `hookline job run`); "
            "wrap it to run elsewhere, e.g. in a container",
        ),
        "state_dir": Option(
            str, None, "where job state files and logs go (default: $TMPDIR/hookline-jobs)"
        ),
        "env": Option(dict, {}, "extra environment variables for the job"),
    }

    @classmethod
    def check(cls, settings: Mapping[str, Any], path: str, source: str | None) -> None:
        from hookline.errors import ConfigError

        command = settings.get("command")
        if command is not None and (
            not command or not all(isinstance(c, str) and c for c in command)
        ):
            raise ConfigError(
                "expected a non-empty array of non-empty strings",
                key=f"{path}.command",
                source=source,
            )
        env = settings.get("env") or {}
        bad = [k for k, v in env.items() if not isinstance(v, str)]
        if bad:
            raise ConfigError(
                f"expected string values, got a {type(env[bad[0]]).__name__}",
                key=f"{path}.env.{bad[0]}",
                source=source,
            )

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.command = tuple(settings.get("command") or DEFAULT_COMMAND)
        self.state_dir = Path(settings.get("state_dir") or _default_state_dir()).absolute()
        self.env = dict(settings.get("env") or {})

    def _state_file(self, name: str) -> Path:
        return self.state_dir / f"{name}.json"

    def submit(self, job: JobSpec) -> JobHandle:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        path = self._state_file(job.name)
        env = {**self.env, **job.env}
        if job.config and "HOOKLINE_CONFIG" not in env:
            env["HOOKLINE_CONFIG"] = job.config
        doc = {
            "name": job.name,
            "run_id": job.run_id,
            "attempt": job.attempt,
            "state": "pending",
            "submitted_at": utc_now_iso(),
            "command": list(self.command),
            "env": env,
            "max_runtime_seconds": job.max_runtime_seconds,
        }
        try:  # create-only: one job per name, like a platform's unique job names
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            found = self.find(job.name)
            if found is not None:
                return found
            raise HooklineError(f"local job {job.name} exists in {self.state_dir}") from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True)
        logfile = open(self.state_dir / f"{job.name}.log", "ab")  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "hookline._local_jobs", str(path)],
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            logfile.close()
        return JobHandle(self.name, job.name, str(proc.pid), {"state_file": str(path)})

    def find(self, name: str) -> JobHandle | None:
        doc = _read_state(self._state_file(name))
        if doc is None:
            return None
        return JobHandle(
            self.name,
            name,
            str(doc.get("supervisor_pid") or "") or None,
            {"state_file": str(self._state_file(name))},
        )

    def status(self, handle: JobHandle) -> JobStatus:
        doc = _read_state(self._state_file(handle.name))
        if doc is None:
            return JobStatus("unknown", f"no local job {handle.name} in {self.state_dir}")
        state = str(doc.get("state"))
        if state in ("succeeded", "failed"):
            return JobStatus(state, str(doc.get("reason") or ""), state.upper())
        supervisor = doc.get("supervisor_pid") or handle.id
        if supervisor and not _alive(supervisor):
            return JobStatus("failed", f"its supervisor (pid {supervisor}) is gone", "LOST")
        return JobStatus(state, "", state.upper())

    def cancel(self, handle: JobHandle, reason: str) -> None:
        path = self._state_file(handle.name)
        doc = _read_state(path) or {}
        for key in ("pid", "supervisor_pid"):
            pid = doc.get(key) or (handle.id if key == "supervisor_pid" else None)
            if pid and _alive(pid):
                try:
                    os.killpg(int(pid), signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        if doc and doc.get("state") not in ("succeeded", "failed"):
            doc.update(state="failed", reason=f"cancelled: {reason}", finished_at=utc_now_iso())
            _write_state(path, doc)


# --- the supervisor ---------------------------------------------------------------------


def supervise(state_file: str) -> int:
    """Run the job a state file describes, record how it ended, report it."""
    path = Path(state_file)
    doc = _read_state(path)
    if doc is None:
        print(f"no job state at {path}", file=sys.stderr)
        return 2
    env = {**os.environ, **doc.get("env", {})}
    doc.update(supervisor_pid=os.getpid())
    child = subprocess.Popen(doc["command"], env=env, stdin=subprocess.DEVNULL)
    doc.update(state="running", pid=child.pid, started_at=utc_now_iso())
    _write_state(path, doc)
    limit = float(doc.get("max_runtime_seconds") or 0) or None
    started = time.monotonic()
    try:
        code = child.wait(timeout=limit)
        reason = describe_exit(code)
    except subprocess.TimeoutExpired:
        child.kill()
        code = child.wait()
        reason = f"stopped after max_runtime_seconds ({limit:.0f}s)"
    doc.update(
        state="succeeded" if code == 0 else "failed",
        exit_code=code,
        reason=reason,
        finished_at=utc_now_iso(),
        seconds=round(time.monotonic() - started, 3),
    )
    _write_state(path, doc)
    event = JobEvent(
        backend="local",
        job_name=str(doc["name"]),
        state=str(doc["state"]),
        job_id=str(child.pid),
        reason=reason,
        platform_status=str(doc["state"]).upper(),
        source="local",
    )
    try:  # what a platform's job-state event does: tell the pipeline
        from hookline.project import Project
        from hookline.runner import Hookline

        for result in Hookline(Project.open(env.get("HOOKLINE_CONFIG"))).handle(event):
            print(f"job event {event.state}: {result.status} {result.message}", flush=True)
    except Exception as exc:  # the reconciler finds the job from the state file instead
        print(f"job event not delivered ({type(exc).__name__}: {exc})", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised as a process by the tests
    sys.exit(supervise(sys.argv[1]))
