"""Run offload on AWS against moto in server mode, over the network: the pipeline function
(the Lambda handler) dispatches to AWS Batch and SageMaker on moto with S3 on moto as the
storage root, and the test plays the platform -- it starts the job moto accepted with the
environment moto recorded, and delivers the job-state events EventBridge would, shaped as
the documented payloads (``tests/fixtures/jobs``) from what ``DescribeJobs`` returns.

moto's Batch runs jobs in Docker, which this machine lacks; its Docker-free mode (set
through ``/moto-api/config``) accepts and tracks the jobs without running them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hookline.adapters._function import PipelineRuntime
from hookline.adapters.aws.events import sample_event
from hookline.adapters.aws.pipeline import PipelineHandler
from hookline.compute import job_name

from ._project import make_project, training_csv

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

DIGEST = "sha256:" + "5e" * 32
IMAGE = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/hookline@{DIGEST}"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "jobs" / "aws"


@pytest.fixture(scope="module")
def batch(s3_server) -> dict[str, Any]:
    """A Fargate compute environment, a job queue and a job definition on moto."""
    import boto3

    request = urllib.request.Request(
        f"{s3_server.url}/moto-api/config",
        data=json.dumps({"batch": {"use_docker": False}}).encode(),
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).read()
    suffix = uuid.uuid4().hex[:8]
    iam = boto3.client("iam")
    role = iam.create_role(RoleName=f"hookline-job-{suffix}", AssumeRolePolicyDocument="{}")
    role_arn = role["Role"]["Arn"]
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"hl-{suffix}", Description="jobs", VpcId=vpc)
    client = boto3.client("batch")
    env = client.create_compute_environment(
        computeEnvironmentName=f"hookline-{suffix}",
        type="MANAGED",
        state="ENABLED",
        computeResources={
            "type": "FARGATE",
            "maxvCpus": 16,
            "subnets": [subnet],
            "securityGroupIds": [group["GroupId"]],
        },
        serviceRole=role_arn,
    )
    queue = client.create_job_queue(
        jobQueueName=f"hookline-{suffix}",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env["computeEnvironmentArn"]}],
    )
    definition = client.register_job_definition(
        jobDefinitionName=f"hookline-train-{suffix}",
        type="container",
        platformCapabilities=["FARGATE"],
        containerProperties={
            "image": IMAGE,
            "environment": [{"name": "HOOKLINE_IMAGE_DIGEST", "value": DIGEST}],
            "resourceRequirements": [
                {"type": "VCPU", "value": "2"},
                {"type": "MEMORY", "value": "4096"},
            ],
            "executionRoleArn": role_arn,
            "jobRoleArn": role_arn,
        },
    )
    return {
        "client": client,
        "queue": queue["jobQueueName"],
        "definition": definition["jobDefinitionName"],
        "role_arn": role_arn,
    }


def _project(tmp_path: Path, s3_server, batch, **compute):
    bucket = s3_server.new_bucket()
    table = {
        "backend": "aws-batch",
        "job_queue": batch["queue"],
        "job_definition": batch["definition"],
        "image": IMAGE,
        "memory_mib": 8192,
        "max_attempts": 2,
        **compute,
    }
    return make_project(tmp_path / "p", f"s3://{bucket}/root", compute=table)


def _handler(project) -> PipelineHandler:
    return PipelineHandler(PipelineRuntime(app=project.app()), serving=None)


def _jobs(batch, name_prefix: str) -> list[dict[str, Any]]:
    found = batch["client"].list_jobs(
        jobQueue=batch["queue"], filters=[{"name": "JOB_NAME", "values": [name_prefix + "*"]}]
    )["jobSummaryList"]
    return sorted(found, key=lambda j: j["jobName"])


def _play_batch(batch, job_id: str, project) -> subprocess.CompletedProcess:
    """Start what AWS Batch would: the job image's entry point with the job definition's
    environment and the submission's overrides (as DescribeJobs reports them)."""
    detail = batch["client"].describe_jobs(jobs=[job_id])["jobs"][0]
    definition = batch["client"].describe_job_definitions(jobDefinitionName=batch["definition"])
    env = {
        e["name"]: e["value"]
        for e in definition["jobDefinitions"][0]["containerProperties"]["environment"]
    }
    env.update({e["name"]: e["value"] for e in detail["container"]["environment"]})
    env["HOOKLINE_CONFIG"] = str(project.config_path)  # the image bundles it; here, beside
    return subprocess.run(
        [sys.executable, "-m", "hookline", "job", "run"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _state_change(batch, job_id: str, status: str, reason: str, exit_code: int) -> dict[str, Any]:
    """The EventBridge event for a job moto holds, in the documented envelope, with the
    JobDetail from DescribeJobs as its detail."""
    envelope = json.loads((FIXTURES / "batch_job_state_change_failed.json").read_text())
    detail = batch["client"].describe_jobs(jobs=[job_id])["jobs"][0]
    detail = json.loads(json.dumps(detail, default=str))
    detail.update(status=status, statusReason=reason)
    detail["attempts"] = [{"container": {"exitCode": exit_code}, "statusReason": reason}]
    envelope.update(id=str(uuid.uuid4()), resources=[detail["jobArn"]], detail=detail)
    return envelope


def test_eight_concurrent_deliveries_submit_one_batch_job_and_the_job_completes_the_run(
    tmp_path, s3_server, batch
):
    project = _project(tmp_path, s3_server, batch)
    event = project.upload("a.csv", training_csv(11))
    payload = sample_event(event.uri, size=event.size or 0)
    handlers = [_handler(project) for _ in range(8)]
    barrier = threading.Barrier(8)

    def deliver(handler):
        barrier.wait()
        return handler(payload, SimpleNamespace(aws_request_id=str(uuid.uuid4())))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(deliver, handlers))
    assert {r["status"] for a in answers for r in a["runs"]} == {"dispatched"}
    assert len({r["run_id"] for a in answers for r in a["runs"]}) == 1
    run_id = answers[0]["runs"][0]["run_id"]
    jobs = _jobs(batch, f"hl-train-{run_id.rsplit('-', 1)[1]}")
    assert [j["jobName"] for j in jobs] == [job_name(run_id, 1)], "one Batch job"
    described = batch["client"].describe_jobs(jobs=[jobs[0]["jobId"]])["jobs"][0]
    env = {e["name"]: e["value"] for e in described["container"]["environment"]}
    assert env["HOOKLINE_RUN_ID"] == run_id and env["HOOKLINE_ATTEMPT"] == "1"
    assert described["tags"]["hookline:run-id"] == run_id
    assert described["timeout"] == {"attemptDurationSeconds": 86400}

    done = _play_batch(batch, jobs[0]["jobId"], project)
    assert done.returncode == 0, done.stdout + done.stderr
    record = project.record(run_id)
    assert record["status"] == "succeeded" and record["attempt"] == 1
    assert record["notes"]["offload"]["job"] == job_name(run_id, 1)
    assert project.versions() == [1] and project.open_jobs() == []
    # The platform's SUCCEEDED event changes nothing.
    ok = _handler(project)(_state_change(batch, jobs[0]["jobId"], "SUCCEEDED", "", 0), None)
    assert [r["status"] for r in ok["runs"]] == ["ignored"]


def test_failed_batch_jobs_are_dispatched_again_then_the_run_is_recorded_failed(
    tmp_path, s3_server, batch
):
    project = _project(tmp_path, s3_server, batch)
    event = project.upload("b.csv", training_csv(12))
    handler = _handler(project)
    run_id = handler(sample_event(event.uri, size=event.size or 0), None)["runs"][0]["run_id"]
    prefix = f"hl-train-{run_id.rsplit('-', 1)[1]}"
    [first] = _jobs(batch, prefix)
    answer = handler(
        _state_change(batch, first["jobId"], "FAILED", "Essential container in task exited", 137),
        None,
    )
    assert [r["status"] for r in answer["runs"]] == ["dispatched"]
    jobs = _jobs(batch, prefix)
    assert [j["jobName"] for j in jobs] == [job_name(run_id, 1), job_name(run_id, 2)]
    second = batch["client"].describe_jobs(jobs=[jobs[1]["jobId"]])["jobs"][0]
    assert {"name": "HOOKLINE_ATTEMPT", "value": "2"} in second["container"]["environment"]
    # The first attempt's job, started late by the platform, does nothing.
    late = _play_batch(batch, first["jobId"], project)
    assert late.returncode == 0 and "stale" in late.stdout
    answer = handler(
        _state_change(
            batch,
            jobs[1]["jobId"],
            "FAILED",
            "OutOfMemoryError: Container killed due to memory usage",
            137,
        ),
        None,
    )
    assert [r["status"] for r in answer["runs"]] == ["failed"]
    record = project.record(run_id)
    assert record["status"] == "failed" and record["attempt"] == 2
    assert "OutOfMemoryError" in record["error"]["message"]
    assert len(_jobs(batch, prefix)) == 2 and project.open_jobs() == []


def test_a_job_state_event_for_an_unknown_run_is_acknowledged(tmp_path, s3_server, batch):
    project = _project(tmp_path, s3_server, batch)
    payload = json.loads((FIXTURES / "batch_job_state_change_failed.json").read_text())
    answer = _handler(project)(payload, None)
    assert [r["status"] for r in answer["runs"]] == ["ignored"]
    assert "unknown job 'hl-train-0758c357c75c4c56dc56-1'" in answer["runs"][0]["message"]
    assert list(project.storage.list("runs/")) == []


def test_the_reconciler_terminates_a_batch_job_that_never_starts(tmp_path, s3_server, batch):
    project = _project(tmp_path, s3_server, batch, start_timeout_seconds=1, max_attempts=1)
    event = project.upload("c.csv", training_csv(13))
    handler = _handler(project)
    run_id = handler(sample_event(event.uri, size=event.size or 0), None)["runs"][0]["run_id"]
    [job] = _jobs(batch, f"hl-train-{run_id.rsplit('-', 1)[1]}")
    import time

    time.sleep(1.5)
    # moto's Docker-free Batch marks jobs SUCCEEDED at once although nothing ran: the
    # reconciler sees a job that ended without writing its run record.
    answer = handler({"source": "hookline.reconcile", "id": "tick-1"}, None)
    assert [r["status"] for r in answer["runs"]] == ["failed"]
    message = project.record(run_id)["error"]["message"]
    assert f"aws-batch job {job['jobName']} SUCCEEDED" in message
    assert "without writing the run record" in message and "found by the reconciler" in message


def test_sagemaker_runs_the_same_image_as_a_training_job_named_from_the_run(
    tmp_path, s3_server, batch
):
    import boto3

    bucket = s3_server.new_bucket()
    compute = {
        "backend": "sagemaker",
        "image": IMAGE,
        "role_arn": batch["role_arn"],
        "output_path": f"s3://{bucket}/sagemaker/",
        "instance_type": "ml.m5.2xlarge",
        "max_attempts": 2,
    }
    project = make_project(tmp_path / "p", f"s3://{bucket}/root", compute=compute)
    event = project.upload("d.csv", training_csv(14))
    handler = _handler(project)
    run_id = handler(sample_event(event.uri, size=event.size or 0), None)["runs"][0]["run_id"]
    client = boto3.client("sagemaker")
    first = client.describe_training_job(TrainingJobName=job_name(run_id, 1))
    assert first["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert first["RoleArn"] == batch["role_arn"]
    assert first["ResourceConfig"]["InstanceType"] == "ml.m5.2xlarge"
    assert first["StoppingCondition"]["MaxRuntimeInSeconds"] == 86400
    failed = json.loads((FIXTURES / "sagemaker_training_job_state_change_failed.json").read_text())
    failed["detail"].update(
        TrainingJobName=job_name(run_id, 1), TrainingJobArn=first["TrainingJobArn"]
    )
    answer = handler(failed, None)
    assert [r["status"] for r in answer["runs"]] == ["dispatched"]
    second = client.describe_training_job(TrainingJobName=job_name(run_id, 2))
    assert second["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    dispatch = project.dispatch(run_id)
    assert "AlgorithmError: container exited with code 1" in dispatch["attempts"][0]["reason"]


def test_the_lambda_handler_leases_an_inline_run_to_its_deadline(tmp_path, s3_server, batch):
    import time

    project = _project(tmp_path, s3_server, batch, when="never")
    event = project.upload("e.csv", training_csv(15))
    context = SimpleNamespace(aws_request_id="r1", get_remaining_time_in_millis=lambda: 300_000)
    before = time.time()
    answer = _handler(project)(sample_event(event.uri, size=event.size or 0), context)
    assert [r["status"] for r in answer["runs"]] == ["succeeded"]
    lease = project.claim(answer["runs"][0]["run_id"])["lease_expires_epoch"]
    assert before + 299 <= lease <= time.time() + 300, "the lease ends at the invocation's deadline"
    assert project.open_jobs() == []
