"""Run offload on Google Cloud: a Cloud Run job execution per attempt.

``backend = "cloud-run-job"`` (:class:`CloudRunJobBackend`) runs the Cloud Run job the
Terraform module creates (its container is the job image, entry point ``hookline job
run``) with ``jobs.run`` and per-execution overrides: the run's variables
(``HOOKLINE_RUN_ID``, ``HOOKLINE_ATTEMPT``, ``HOOKLINE_JOB_NAME``), one task, and the
time limit. Overriding needs ``run.jobs.runWithOverrides`` besides ``run.jobs.run``.
Cloud Run names executions itself, so the job name hookline derives from the run id
travels as ``HOOKLINE_JOB_NAME`` and the execution's name is kept in the dispatch record.

Cloud Run emits no event when an execution ends, so failures are found by the reconciler's
schedule (Cloud Scheduler -> Pub/Sub -> the pipeline function, ``{"source":
"hookline.reconcile"}``), which reads each execution's counts and conditions.

The official client, ``google-cloud-run``, is imported when a job is first submitted; the
REST transport is used (no gRPC channel to keep warm in a function).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from hookline.adapters._jobs import terminal_reason
from hookline.compute import JobHandle, JobSpec, JobStatus, check_image, check_nonempty
from hookline.config import Option
from hookline.errors import ConfigError, HooklineError, TransientError

__all__ = ["CloudRunJobBackend", "execution_status"]

_JOB = re.compile(r"^projects/[^/]+/locations/[^/]+/jobs/[^/]+$")
_TRANSIENT = {"TooManyRequests", "ServiceUnavailable", "InternalServerError", "GatewayTimeout"}


def execution_status(execution: Mapping[str, Any]) -> JobStatus:
    """What an Execution resource (its JSON form, camelCase) says of the job."""
    done = execution.get("completionTime")
    succeeded = int(execution.get("succeededCount") or 0)
    failed = int(execution.get("failedCount") or 0)
    cancelled = int(execution.get("cancelledCount") or 0)
    running = int(execution.get("runningCount") or 0)
    messages = [
        c.get("message")
        for c in execution.get("conditions") or []
        if isinstance(c, Mapping) and c.get("state") in ("CONDITION_FAILED",) and c.get("message")
    ]
    if done or failed or cancelled:
        if succeeded and not failed and not cancelled:
            return JobStatus("succeeded", "", "SUCCEEDED")
        what = "CANCELLED" if cancelled else "FAILED"
        counts = f"{failed} task(s) failed" if failed else f"{cancelled} task(s) cancelled"
        return JobStatus("failed", terminal_reason(counts, *messages), what)
    if running:
        return JobStatus("running", "", "RUNNING")
    return JobStatus("pending", terminal_reason(*messages), "PENDING")


class CloudRunJobBackend:
    """``backend = "cloud-run-job"``: see the module docstring."""

    name: ClassVar[str] = "cloud-run-job"
    events: ClassVar[str] = "reconciler"
    settings: ClassVar[Mapping[str, Option]] = {
        "job": Option(
            str,
            required=True,
            help="the Cloud Run job: projects/PROJECT/locations/REGION/jobs/NAME",
        ),
        "image": Option(
            str,
            required=True,
            help="the job's image by digest (REPO@sha256:...): the job must run it",
        ),
        "container": Option(str, None, "the container to override (default: the job's only one)"),
        "api_endpoint": Option(
            str, None, "the Cloud Run Admin API endpoint (default: run.googleapis.com)"
        ),
    }

    @classmethod
    def check(cls, settings: Mapping[str, Any], path: str, source: str | None) -> None:
        check_image(settings, path, source, required=True)
        check_nonempty(settings, ("job",), path, source)
        if not _JOB.match(str(settings["job"])):
            raise ConfigError(
                f"expected projects/PROJECT/locations/REGION/jobs/NAME, got {settings['job']!r}",
                key=f"{path}.job",
                source=source,
            )

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.config = dict(settings)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, kind: str) -> Any:
        if kind not in self._clients:
            with self._lock:
                if kind not in self._clients:
                    from google.cloud import run_v2

                    options: dict[str, Any] = {"transport": "rest"}
                    endpoint = self.config.get("api_endpoint")
                    if endpoint:
                        from google.api_core.client_options import ClientOptions

                        options["client_options"] = ClientOptions(api_endpoint=endpoint)
                        if str(endpoint).startswith("http://"):  # a local stand-in
                            from google.auth.credentials import AnonymousCredentials

                            options["credentials"] = AnonymousCredentials()
                    cls = run_v2.JobsClient if kind == "jobs" else run_v2.ExecutionsClient
                    self._clients[kind] = cls(**options)
        return self._clients[kind]

    def request(self, job: JobSpec) -> Any:
        """The ``RunJobRequest`` for ``job``."""
        from google.cloud import run_v2
        from google.protobuf import duration_pb2

        # The execution is found again by the job name it carries (Cloud Run names it).
        env = {**job.env, "HOOKLINE_COMPUTE_BACKEND": self.name, "HOOKLINE_JOB_NAME": job.name}
        override = run_v2.RunJobRequest.Overrides.ContainerOverride(
            env=[run_v2.EnvVar(name=k, value=v) for k, v in sorted(env.items())]
        )
        if self.config.get("container"):
            override.name = self.config["container"]
        return run_v2.RunJobRequest(
            name=self.config["job"],
            overrides=run_v2.RunJobRequest.Overrides(
                container_overrides=[override],
                task_count=1,
                timeout=duration_pb2.Duration(seconds=int(job.max_runtime_seconds)),
            ),
        )

    def submit(self, job: JobSpec) -> JobHandle:
        try:
            operation = self._client("jobs").run_job(request=self.request(job))
            execution = operation.metadata
        except Exception as exc:
            raise _failure(exc, f"run.jobs.run {job.name}") from exc
        name = getattr(execution, "name", None) or None
        return JobHandle(self.name, job.name, name, {"job": self.config["job"]})

    def find(self, name: str) -> JobHandle | None:
        from google.cloud import run_v2

        try:
            pages = self._client("executions").list_executions(
                request=run_v2.ListExecutionsRequest(parent=self.config["job"], page_size=50)
            )
            for execution in pages:
                for container in execution.template.containers:
                    if any(
                        e.name == "HOOKLINE_JOB_NAME" and e.value == name for e in container.env
                    ):
                        return JobHandle(
                            self.name, name, execution.name, {"job": self.config["job"]}
                        )
        except Exception as exc:
            raise _failure(exc, f"run.executions.list {name}") from exc
        return None

    def status(self, handle: JobHandle) -> JobStatus:
        if not handle.id:
            return JobStatus("unknown", f"no Cloud Run execution for {handle.name}")
        from google.cloud import run_v2

        try:
            execution = self._client("executions").get_execution(
                request=run_v2.GetExecutionRequest(name=handle.id)
            )
        except Exception as exc:
            if type(exc).__name__ == "NotFound":
                return JobStatus("unknown", f"Cloud Run has no execution {handle.id}")
            raise _failure(exc, f"run.executions.get {handle.name}") from exc
        return execution_status(
            type(execution).to_dict(
                execution, use_integers_for_enums=False, preserving_proto_field_name=False
            )
        )

    def cancel(self, handle: JobHandle, reason: str) -> None:
        if not handle.id:
            return
        from google.cloud import run_v2

        try:
            self._client("executions").cancel_execution(
                request=run_v2.CancelExecutionRequest(name=handle.id)
            )
        except Exception as exc:
            if type(exc).__name__ in ("NotFound", "FailedPrecondition"):
                return  # gone, or already finished
            raise _failure(exc, f"run.executions.cancel {handle.name}") from exc


def _failure(exc: Exception, what: str) -> HooklineError:
    """A google-api-core error as hookline's: throttling and outages are transient."""
    name = type(exc).__name__
    code = getattr(exc, "code", None)
    status = int(code) if isinstance(code, int) else 0
    message = f"{what}: {name}: {getattr(exc, 'message', None) or exc}"
    if name in _TRANSIENT or status == 429 or status >= 500 or isinstance(exc, ConnectionError):
        return TransientError(message)
    if name in ("PermissionDenied", "Forbidden"):
        return HooklineError(
            message,
            hint="the pipeline function's service account needs run.jobs.run and "
            "run.jobs.runWithOverrides on the job (the Terraform module grants them)",
        )
    return HooklineError(message, hint="check the compute table's job and image")
