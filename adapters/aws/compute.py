"""Run offload on AWS: AWS Batch jobs and SageMaker training jobs, and their state events.

Two compute backends (entry points of ``hookline.compute``) and the parser of the job-state
events EventBridge delivers to the pipeline function. boto3 is imported when a client is
first needed; parsing imports nothing.

* ``aws-batch`` (:class:`BatchBackend`): ``SubmitJob`` on a job queue with a job definition
  (Fargate in the Terraform module), named from the run id, with the run named in the
  container's environment and the time limit as the attempt duration. The job definition
  runs the job image, whose entry point is ``hookline job run``, and sets
  ``HOOKLINE_IMAGE_DIGEST`` from the same manifest as its image, so the job can prove which
  image it is.
* ``sagemaker`` (:class:`SageMakerBackend`): ``CreateTrainingJob`` with the same image as
  the training image (SageMaker appends ``train``, which ``hookline job run`` ignores),
  named from the run id (training job names are unique per account and region, so a
  repeated submission is refused and found instead of run twice).

Events (``source`` ``aws.batch`` / ``aws.sagemaker``): ``Batch Job State Change`` and
``SageMaker Training Job State Change`` become :class:`~hookline.events.JobEvent`; the
Terraform module routes only terminal states of hookline's own jobs (name prefix ``hl-``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from hookline.adapters._events import EventError, get_map, get_str
from hookline.adapters._jobs import terminal_reason
from hookline.compute import (
    JobHandle,
    JobSpec,
    JobStatus,
    check_image,
    check_nonempty,
    digest_of_image,
)
from hookline.config import Option
from hookline.errors import ConfigError, HooklineError, TransientError
from hookline.events import JobEvent

__all__ = [
    "BATCH_STATES",
    "SAGEMAKER_STATES",
    "BatchBackend",
    "SageMakerBackend",
    "classify_job_event",
    "job_event",
]

CLOUD = "aws"

BATCH_STATES = {
    "SUBMITTED": "pending",
    "PENDING": "pending",
    "RUNNABLE": "pending",
    "STARTING": "pending",
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
}
"""AWS Batch job statuses -> :data:`hookline.events.JOB_STATES`."""

SAGEMAKER_STATES = {
    "InProgress": "running",
    "Completed": "succeeded",
    "Failed": "failed",
    "Stopping": "running",
    "Stopped": "failed",
}
"""SageMaker ``TrainingJobStatus`` -> :data:`hookline.events.JOB_STATES`."""
_SAGEMAKER_PENDING = ("Starting", "Pending", "LaunchingMLInstances", "PreparingTrainingStack")

_TRANSIENT = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ServerException",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
    }
)

_EVENT_TYPES = {
    ("aws.batch", "Batch Job State Change"): "aws-batch",
    ("aws.sagemaker", "SageMaker Training Job State Change"): "sagemaker",
}


# --- events (pure) ----------------------------------------------------------------------


def classify_job_event(payload: Any) -> str | None:
    """``aws-batch`` / ``sagemaker`` for a job-state event of theirs, else ``None``."""
    if not isinstance(payload, Mapping):
        return None
    source, detail_type = payload.get("source"), payload.get("detail-type")
    if not isinstance(source, str) or not isinstance(detail_type, str):
        return None  # a hostile payload's list or object must not reach the lookup
    return _EVENT_TYPES.get((source, detail_type))


def job_event(payload: Mapping[str, Any], where: str = "") -> JobEvent:
    """The :class:`JobEvent` of an EventBridge job-state event.

    :raises EventError: not a Batch or SageMaker job-state event, or one without the job's
        name or status.
    """
    backend = classify_job_event(payload)
    if backend is None:
        raise EventError(
            "not a job-state event",
            where=where or None,
            cloud=CLOUD,
            expected="source aws.batch 'Batch Job State Change' or aws.sagemaker "
            "'SageMaker Training Job State Change'",
        )
    detail = get_map(payload, "detail", where, CLOUD)
    path = f"{where}detail"
    event_id = payload.get("id") if isinstance(payload.get("id"), str) else None
    event_time = payload.get("time") if isinstance(payload.get("time"), str) else None
    common: dict[str, Any] = {"backend": backend, "event_id": event_id, "source": CLOUD}
    if event_time:
        common["event_time"] = event_time
    if backend == "aws-batch":
        status = get_str(detail, "status", path, CLOUD)
        return JobEvent(
            job_name=get_str(detail, "jobName", path, CLOUD),
            job_id=get_str(detail, "jobId", path, CLOUD, required=False),
            state=_state(BATCH_STATES, status, f"{path}.status"),
            platform_status=status,
            reason=batch_reason(detail),
            **common,
        )
    status = get_str(detail, "TrainingJobStatus", path, CLOUD)
    secondary = detail.get("SecondaryStatus")
    state = _state(SAGEMAKER_STATES, status, f"{path}.TrainingJobStatus")
    if state == "running" and secondary in _SAGEMAKER_PENDING:
        state = "pending"
    return JobEvent(
        job_name=get_str(detail, "TrainingJobName", path, CLOUD),
        job_id=get_str(detail, "TrainingJobArn", path, CLOUD, required=False),
        state=state,
        platform_status=status,
        reason=terminal_reason(
            detail.get("FailureReason"),
            f"secondary status {secondary}" if secondary and secondary != status else None,
        ),
        **common,
    )


def _state(table: Mapping[str, str], status: str, where: str) -> str:
    if status not in table:
        raise EventError(
            f"unknown job status {status!r}",
            where=where,
            cloud=CLOUD,
            expected=" | ".join(table),
        )
    return table[status]


def batch_reason(detail: Mapping[str, Any]) -> str:
    """Why a Batch job ended, from its ``statusReason`` and last attempt's container."""
    attempts = detail.get("attempts")
    last = attempts[-1] if isinstance(attempts, list) and attempts else {}
    container = last.get("container") if isinstance(last, Mapping) else None
    container = container if isinstance(container, Mapping) else {}
    code = container.get("exitCode")
    return terminal_reason(
        detail.get("statusReason"),
        last.get("statusReason") if isinstance(last, Mapping) else None,
        container.get("reason"),
        f"exit code {code}" if code is not None else None,
    )


# --- clients ----------------------------------------------------------------------------


class _Clients:
    """One boto3 client per service and backend, made on first use."""

    def __init__(self, region: str | None) -> None:
        self.region = region
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, service: str) -> Any:
        if service not in self._clients:
            with self._lock:
                if service not in self._clients:
                    import boto3
                    from botocore.config import Config

                    config = Config(retries={"mode": "standard", "max_attempts": 5})
                    self._clients[service] = boto3.session.Session().client(
                        service, region_name=self.region, config=config
                    )
        return self._clients[service]


def _failure(exc: Exception, what: str) -> HooklineError:
    """A boto3 error as hookline's: throttling and outages are transient, the rest is the
    platform refusing (a queue that does not exist, access denied)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = f"{what}: {code}: {error.get('Message', '')}".rstrip(": ")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in _TRANSIENT or status >= 500:
            return TransientError(message)
        return HooklineError(message, hint=_hint(code))
    if isinstance(exc, BotoCoreError):
        return TransientError(f"{what}: {exc}")
    raise exc


def _hint(code: str) -> str | None:
    if code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException"):
        return (
            "the pipeline function's role needs the permission "
            "(the Terraform module's offload policy grants it)"
        )
    if code in ("ClientException", "ValidationException"):
        return "check the compute table's job_queue, job_definition, role_arn and image"
    return None


def _env_list(env: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in sorted(env.items())]


# --- AWS Batch --------------------------------------------------------------------------


class BatchBackend:
    """``backend = "aws-batch"``: an AWS Batch job per attempt (see the module docstring)."""

    name: ClassVar[str] = "aws-batch"
    events: ClassVar[str] = "events"
    settings: ClassVar[Mapping[str, Option]] = {
        "job_queue": Option(str, required=True, help="the Batch job queue (name or ARN)"),
        "job_definition": Option(
            str, required=True, help="the job definition (name, name:revision or ARN)"
        ),
        "image": Option(
            str,
            required=True,
            help="the job definition's image by digest (REPO@sha256:...): the job must run it",
        ),
        "vcpus": Option(float, None, "vCPUs per job, overriding the job definition's"),
        "memory_mib": Option(int, None, "memory per job in MiB, overriding the job definition's"),
        "region": Option(str, None, "the region (default: the function's)"),
        "tags": Option(dict, {}, "tags added to each job"),
    }

    @classmethod
    def check(cls, settings: Mapping[str, Any], path: str, source: str | None) -> None:
        check_image(settings, path, source, required=True)
        check_nonempty(settings, ("job_queue", "job_definition"), path, source)
        for name in ("vcpus", "memory_mib"):
            value = settings.get(name)
            if value is not None and value <= 0:
                raise ConfigError(
                    f"expected a positive number, got {value}", key=f"{path}.{name}", source=source
                )

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.config = dict(settings)
        self.clients = _Clients(settings.get("region"))

    @property
    def client(self) -> Any:
        return self.clients.get("batch")

    def request(self, job: JobSpec) -> dict[str, Any]:
        """The ``SubmitJob`` parameters for ``job``."""
        env = {**job.env, "HOOKLINE_COMPUTE_BACKEND": self.name}
        overrides: dict[str, Any] = {"environment": _env_list(env)}
        resources = []
        if self.config.get("vcpus"):
            resources.append({"type": "VCPU", "value": f"{self.config['vcpus']:g}"})
        if self.config.get("memory_mib"):
            resources.append({"type": "MEMORY", "value": str(int(self.config["memory_mib"]))})
        if resources:
            overrides["resourceRequirements"] = resources
        return {
            "jobName": job.name,
            "jobQueue": self.config["job_queue"],
            "jobDefinition": self.config["job_definition"],
            "containerOverrides": overrides,
            "timeout": {"attemptDurationSeconds": max(60, int(job.max_runtime_seconds))},
            "retryStrategy": {"attempts": 1},  # hookline counts attempts (max_attempts)
            "propagateTags": True,
            "tags": {
                **{str(k): str(v) for k, v in (self.config.get("tags") or {}).items()},
                "hookline:run-id": job.run_id,
                "hookline:pipeline": job.pipeline,
                "hookline:attempt": str(job.attempt),
            },
        }

    def submit(self, job: JobSpec) -> JobHandle:
        try:
            answer = self.client.submit_job(**self.request(job))
        except Exception as exc:
            raise _failure(exc, f"batch:SubmitJob {job.name}") from exc
        return JobHandle(
            self.name,
            job.name,
            answer.get("jobId"),
            {"arn": answer.get("jobArn"), "queue": self.config["job_queue"]},
        )

    def find(self, name: str) -> JobHandle | None:
        try:
            found = self.client.list_jobs(
                jobQueue=self.config["job_queue"],
                filters=[{"name": "JOB_NAME", "values": [name]}],
            ).get("jobSummaryList", [])
        except Exception as exc:
            raise _failure(exc, f"batch:ListJobs {name}") from exc
        exact = [j for j in found if j.get("jobName") == name]
        if not exact:
            return None
        newest = max(exact, key=lambda j: j.get("createdAt") or 0)
        return JobHandle(self.name, name, newest.get("jobId"), {"arn": newest.get("jobArn")})

    def status(self, handle: JobHandle) -> JobStatus:
        if not handle.id:
            return JobStatus("unknown", f"no Batch job id for {handle.name}")
        try:
            jobs = self.client.describe_jobs(jobs=[handle.id]).get("jobs", [])
        except Exception as exc:
            raise _failure(exc, f"batch:DescribeJobs {handle.name}") from exc
        if not jobs:
            return JobStatus("unknown", f"AWS Batch has no job {handle.id}")
        status = str(jobs[0].get("status"))
        return JobStatus(BATCH_STATES.get(status, "unknown"), batch_reason(jobs[0]), status)

    def cancel(self, handle: JobHandle, reason: str) -> None:
        if not handle.id:
            return
        try:
            self.client.terminate_job(jobId=handle.id, reason=f"hookline: {reason}"[:1000])
        except Exception as exc:
            raise _failure(exc, f"batch:TerminateJob {handle.name}") from exc


# --- SageMaker --------------------------------------------------------------------------


class SageMakerBackend:
    """``backend = "sagemaker"``: a SageMaker training job per attempt, running the job
    image (see the module docstring)."""

    name: ClassVar[str] = "sagemaker"
    events: ClassVar[str] = "events"
    settings: ClassVar[Mapping[str, Option]] = {
        "image": Option(str, required=True, help="the job image by digest (REPO@sha256:...)"),
        "role_arn": Option(str, required=True, help="the training job's execution role"),
        "output_path": Option(
            str, required=True, help="S3 URI SageMaker writes its own output under"
        ),
        "instance_type": Option(str, "ml.m5.xlarge", "the training instance type"),
        "instance_count": Option(int, 1, "instances (hookline runs on the first)"),
        "volume_size_gb": Option(int, 30, "the instance's storage volume"),
        "subnets": Option(list, [], "VPC subnets (with security_group_ids)"),
        "security_group_ids": Option(list, [], "VPC security groups"),
        "region": Option(str, None, "the region (default: the function's)"),
        "tags": Option(dict, {}, "tags added to each training job"),
    }

    @classmethod
    def check(cls, settings: Mapping[str, Any], path: str, source: str | None) -> None:
        check_image(settings, path, source, required=True)
        check_nonempty(settings, ("role_arn", "output_path"), path, source)
        if not str(settings["role_arn"]).startswith("arn:"):
            raise ConfigError(
                f"expected an IAM role ARN, got {settings['role_arn']!r}",
                key=f"{path}.role_arn",
                source=source,
            )
        if not str(settings["output_path"]).startswith("s3://"):
            raise ConfigError(
                f"expected an s3:// URI, got {settings['output_path']!r}",
                key=f"{path}.output_path",
                source=source,
            )
        if bool(settings.get("subnets")) != bool(settings.get("security_group_ids")):
            raise ConfigError(
                "subnets and security_group_ids go together",
                key=f"{path}.security_group_ids",
                source=source,
            )

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.config = dict(settings)
        self.clients = _Clients(settings.get("region"))

    @property
    def client(self) -> Any:
        return self.clients.get("sagemaker")

    def request(self, job: JobSpec) -> dict[str, Any]:
        """The ``CreateTrainingJob`` parameters for ``job``."""
        image = str(job.image or self.config["image"])
        env = {
            **job.env,
            "HOOKLINE_COMPUTE_BACKEND": self.name,
            # SageMaker pulls exactly this digest: the job is this image.
            "HOOKLINE_IMAGE_DIGEST": digest_of_image(image) or "",
        }
        request: dict[str, Any] = {
            "TrainingJobName": job.name,
            "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
            "RoleArn": self.config["role_arn"],
            "OutputDataConfig": {"S3OutputPath": self.config["output_path"]},
            "ResourceConfig": {
                "InstanceType": self.config["instance_type"],
                "InstanceCount": int(self.config["instance_count"]),
                "VolumeSizeInGB": int(self.config["volume_size_gb"]),
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": int(job.max_runtime_seconds)},
            "Environment": dict(sorted(env.items())),
            "Tags": [
                {"Key": str(k), "Value": str(v)}
                for k, v in {
                    **(self.config.get("tags") or {}),
                    "hookline:run-id": job.run_id,
                    "hookline:pipeline": job.pipeline,
                    "hookline:attempt": str(job.attempt),
                }.items()
            ],
        }
        if self.config.get("subnets"):
            request["VpcConfig"] = {
                "Subnets": list(self.config["subnets"]),
                "SecurityGroupIds": list(self.config["security_group_ids"]),
            }
        return request

    def submit(self, job: JobSpec) -> JobHandle:
        try:
            answer = self.client.create_training_job(**self.request(job))
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code == "ResourceInUse":  # submitted before, its answer lost: it exists
                found = self.find(job.name)
                if found is not None:
                    return found
            raise _failure(exc, f"sagemaker:CreateTrainingJob {job.name}") from exc
        arn = answer.get("TrainingJobArn")
        return JobHandle(self.name, job.name, arn, {"arn": arn})

    def _describe(self, name: str) -> dict[str, Any] | None:
        try:
            return dict(self.client.describe_training_job(TrainingJobName=name))
        except Exception as exc:
            error = getattr(exc, "response", {}).get("Error", {})
            if error.get("Code") in ("ValidationException", "ResourceNotFound") and (
                "Could not find" in str(error.get("Message", ""))
                or error.get("Code") == "ResourceNotFound"
            ):
                return None
            raise _failure(exc, f"sagemaker:DescribeTrainingJob {name}") from exc

    def find(self, name: str) -> JobHandle | None:
        found = self._describe(name)
        if found is None:
            return None
        arn = found.get("TrainingJobArn")
        return JobHandle(self.name, name, arn, {"arn": arn})

    def status(self, handle: JobHandle) -> JobStatus:
        found = self._describe(handle.name)
        if found is None:
            return JobStatus("unknown", f"SageMaker has no training job {handle.name}")
        status = str(found.get("TrainingJobStatus"))
        secondary = found.get("SecondaryStatus")
        state = SAGEMAKER_STATES.get(status, "unknown")
        if state == "running" and secondary in _SAGEMAKER_PENDING:
            state = "pending"
        reason = terminal_reason(
            found.get("FailureReason"),
            f"secondary status {secondary}" if secondary and secondary != status else None,
        )
        return JobStatus(state, reason, status)

    def cancel(self, handle: JobHandle, reason: str) -> None:
        try:
            self.client.stop_training_job(TrainingJobName=handle.name)
        except Exception as exc:
            raise _failure(exc, f"sagemaker:StopTrainingJob {handle.name}") from exc


def lambda_deadline(context: Any) -> float | None:
    """The invocation's deadline, seconds since the epoch, from the Lambda context."""
    import time

    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    try:
        return time.time() + float(remaining()) / 1000.0
    except (TypeError, ValueError):
        return None
