"""A stand-in for the Cloud Run Admin API v2, for the parts run offload calls: ``jobs.run``
(``POST /v2/{job}:run``), ``executions.get``, ``executions.list`` and
``executions.cancel``. There is no Cloud Run emulator; this server checks each request body
against the documented shape and answers with documented resources, so the real client
(``google-cloud-run``, REST transport) talks to it over the network.

The request shapes, from the API reference
(https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs/run):

* ``RunJobRequest``: ``validateOnly`` (bool), ``etag`` (string), ``overrides``;
* ``Overrides``: ``containerOverrides[]``, ``taskCount`` (integer), ``timeout`` (a
  Duration, JSON ``"3600s"``), ``delayExecution`` (bool);
* ``ContainerOverride``: ``name``, ``args[]``, ``env[]``, ``clearArgs``;
* ``EnvVar``: ``name`` and ``value`` (or ``valueSource``).

Anything else in a body is refused with 400 ``INVALID_ARGUMENT``, as the API does for an
unknown field. The answer to ``jobs.run`` is a long-running ``Operation`` whose
``metadata`` is the new ``Execution``.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JOB = r"projects/[^/]+/locations/[^/]+/jobs/[^/:]+"
EXECUTION = JOB + r"/executions/[^/:]+"
DURATION = re.compile(r"^\d+(\.\d{1,9})?s$")

SHAPES: dict[str, dict[str, type | tuple[type, ...]]] = {
    "RunJobRequest": {"validateOnly": bool, "etag": str, "overrides": dict},
    "Overrides": {
        "containerOverrides": list,
        "taskCount": int,
        "timeout": str,
        "delayExecution": bool,
    },
    "ContainerOverride": {"name": str, "args": list, "env": list, "clearArgs": bool},
    "EnvVar": {"name": str, "value": str, "valueSource": dict},
}


class ShapeError(ValueError):
    pass


def check(doc: Any, shape: str, where: str = "") -> None:
    """Raise :class:`ShapeError` when ``doc`` is not a ``shape`` as documented."""
    fields = SHAPES[shape]
    if not isinstance(doc, dict):
        raise ShapeError(f"{where or shape}: expected an object")
    for key, value in doc.items():
        if key not in fields:
            raise ShapeError(
                f"Invalid JSON payload received. Unknown name \"{key}\" at '{where or shape}'"
            )
        if not isinstance(value, fields[key]) or (fields[key] is int and isinstance(value, bool)):
            raise ShapeError(f"{where}.{key}: expected {fields[key]}")
    if shape == "Overrides":
        if "timeout" in doc and not DURATION.match(doc["timeout"]):
            raise ShapeError(f"{where}.timeout: not a Duration: {doc['timeout']!r}")
        for i, override in enumerate(doc.get("containerOverrides", [])):
            check(override, "ContainerOverride", f"{where}.containerOverrides[{i}]")
    if shape == "ContainerOverride":
        for i, env in enumerate(doc.get("env", [])):
            check(env, "EnvVar", f"{where}.env[{i}]")
            if "name" not in env or ("value" in env) == ("valueSource" in env):
                raise ShapeError(f"{where}.env[{i}]: a name and one of value, valueSource")
    if shape == "RunJobRequest" and "overrides" in doc:
        check(doc["overrides"], "Overrides", "overrides")


class FakeCloudRun:
    """The server and what it was asked; ``executions`` can be edited by a test to play
    the platform (set ``runningCount``, ``completionTime``, ``failedCount``...)."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []
        self.cancels: list[str] = []
        self.refused: list[str] = []
        self.executions: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, reason: str, message: str) -> None:
                self._send(
                    status, {"error": {"code": status, "status": reason, "message": message}}
                )

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                path = self.path.split("?", 1)[0]
                run = re.fullmatch(rf"/v2/({JOB}):run", path)
                cancel = re.fullmatch(rf"/v2/({EXECUTION}):cancel", path)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return self._error(400, "INVALID_ARGUMENT", "not JSON")
                if run:
                    try:
                        check(body, "RunJobRequest")
                    except ShapeError as exc:
                        fake.refused.append(str(exc))
                        return self._error(400, "INVALID_ARGUMENT", str(exc))
                    return self._send(200, fake._run(run.group(1), body))
                if cancel:
                    name = cancel.group(1)
                    with fake.lock:
                        if name not in fake.executions:
                            return self._error(404, "NOT_FOUND", f"{name} not found")
                        fake.cancels.append(name)
                        fake.executions[name].update(
                            cancelledCount=1, completionTime="2026-12-01T00:00:00Z"
                        )
                    return self._send(200, {"name": f"{name}/operations/cancel", "done": True})
                return self._error(404, "NOT_FOUND", path)

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                one = re.fullmatch(rf"/v2/({EXECUTION})", path)
                many = re.fullmatch(rf"/v2/({JOB})/executions", path)
                with fake.lock:
                    if one:
                        execution = fake.executions.get(one.group(1))
                        if execution is None:
                            return self._error(404, "NOT_FOUND", f"{one.group(1)} not found")
                        return self._send(200, execution)
                    if many:
                        found = [
                            e
                            for n, e in fake.executions.items()
                            if n.startswith(many.group(1) + "/")
                        ]
                        return self._send(200, {"executions": found})
                return self._error(404, "NOT_FOUND", path)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeCloudRun:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _run(self, job: str, body: dict[str, Any]) -> dict[str, Any]:
        short = job.rsplit("/", 1)[1]
        name = f"{job}/executions/{short}-{uuid.uuid4().hex[:5]}"
        overrides = body.get("overrides", {})
        container = (overrides.get("containerOverrides") or [{}])[0]
        execution = {
            "name": name,
            "uid": str(uuid.uuid4()),
            "job": short,
            "createTime": "2026-12-01T00:00:00Z",
            "taskCount": overrides.get("taskCount", 1),
            "template": {  # the execution's TaskTemplate, overrides applied
                "timeout": overrides.get("timeout", "600s"),
                "containers": [{"image": "job-image", "env": container.get("env", [])}],
            },
            "conditions": [{"type": "Completed", "state": "CONDITION_PENDING"}],
        }
        with self.lock:
            self.runs.append(body)
            self.executions[name] = execution
        return {
            "name": f"projects/p/locations/l/operations/{uuid.uuid4()}",
            "metadata": {"@type": "type.googleapis.com/google.cloud.run.v2.Execution", **execution},
            "done": False,
        }

    def env_of(self, execution: str) -> dict[str, str]:
        env = self.executions[execution]["template"]["containers"][0]["env"]
        return {e["name"]: e["value"] for e in env}
