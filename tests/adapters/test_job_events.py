"""Job-state payloads from the platforms' documentation (tests/fixtures/jobs/SOURCES.md)
become JobEvents, and the reconciler's schedule a ReconcileEvent, on every cloud's path."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hookline.adapters.aws.compute import job_event
from hookline.adapters.aws.events import classify, parse_event
from hookline.adapters.gcp.compute import execution_status
from hookline.adapters.gcp.events import parse_event as parse_gcp
from hookline.events import JobEvent, ReconcileEvent, event_from_dict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "jobs"


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_a_batch_failure_names_the_job_the_state_and_the_platform_s_reason():
    payload = _load("aws/batch_job_state_change_failed.json")
    assert classify(payload) == "job"
    [event] = parse_event(payload)
    assert event == JobEvent(
        backend="aws-batch",
        job_name="hl-train-0758c357c75c4c56dc56-1",
        state="failed",
        job_id="4c7599ae-0a82-49aa-ba5a-4727fcce14a8",
        reason="Essential container in task exited; exit code 137",
        platform_status="FAILED",
        event_time="2022-01-12T01:02:03Z",
        event_id="5f2c1b7e-9a34-4d61-8f0b-72c3e5a91d48",
        source="aws",
    )
    assert event_from_dict(event.to_dict()) == event


def test_the_documented_batch_example_is_a_pending_job():
    [event] = parse_event(_load("aws/batch_job_state_change_runnable.json"))
    assert (event.state, event.platform_status, event.job_name) == (
        "pending",
        "RUNNABLE",
        "event-test",
    )


@pytest.mark.parametrize(
    ("fixture", "state", "reason"),
    [
        ("aws/sagemaker_training_job_state_change_completed.json", "succeeded", ""),
        (
            "aws/sagemaker_training_job_state_change_failed.json",
            "failed",
            "AlgorithmError: container exited with code 1",
        ),
    ],
)
def test_sagemaker_training_job_state_changes(fixture, state, reason):
    [event] = parse_event(_load(fixture))
    assert event.backend == "sagemaker" and event.state == state and event.reason == reason
    assert event.job_id.startswith("arn:aws:sagemaker:")


def test_a_job_state_event_wrapped_in_sqs_is_read_too():
    inner = _load("aws/batch_job_state_change_failed.json")
    sqs = {"Records": [{"eventSource": "aws:sqs", "messageId": "m1", "body": json.dumps(inner)}]}
    [event] = parse_event(sqs)
    assert isinstance(event, JobEvent) and event.state == "failed"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["detail"].pop("jobName"), "detail.jobName"),
        (lambda d: d["detail"].update(status="EXPLODED"), "detail.status"),
        (lambda d: d.update(detail="oops"), "detail"),
    ],
)
def test_malformed_job_state_events_are_refused_with_the_path(change, where):
    from hookline.adapters._events import EventError

    payload = _load("aws/batch_job_state_change_failed.json")
    change(payload)
    with pytest.raises(EventError) as caught:
        job_event(payload)
    assert caught.value.where == where


def test_the_reconciler_schedule_on_aws():
    payload = {"source": "hookline.reconcile"}
    assert classify(payload) == "reconcile"
    [event] = parse_event(payload)
    assert isinstance(event, ReconcileEvent) and event.source == "aws"


def test_the_reconciler_schedule_through_pubsub_on_gcp():
    message = base64.b64encode(json.dumps({"source": "hookline.reconcile"}).encode()).decode()
    cloud_event = {
        "specversion": "1.0",
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "source": "//pubsub.googleapis.com/projects/acme/topics/hookline-reconcile",
        "id": "1234",
        "data": {
            "message": {"data": message, "messageId": "987", "publishTime": "2026-11-30T10:00:00Z"},
            "subscription": "projects/acme/subscriptions/s",
        },
    }
    [event] = parse_gcp(cloud_event)
    assert event == ReconcileEvent(event_time="2026-11-30T10:00:00Z", event_id="987", source="gcp")
    [bare] = parse_gcp({"source": "hookline.reconcile"})
    assert isinstance(bare, ReconcileEvent)
    # What the Terraform module's Cloud Scheduler job sends: a binary-mode CloudEvent.
    headers = {
        "Content-Type": "application/json",
        "ce-specversion": "1.0",
        "ce-type": "hookline.reconcile",
        "ce-source": "hookline/hl/reconcile",
        "ce-id": "hl-reconcile",
        "X-CloudScheduler-ScheduleTime": "2026-11-30T10:05:00Z",
    }
    [fired] = parse_gcp(b'{"source": "hookline.reconcile"}', headers)
    assert fired == ReconcileEvent(
        event_time="2026-11-30T10:05:00Z", event_id="hl-reconcile", source="gcp"
    )


def test_cloud_run_executions_read_as_job_states():
    failed = execution_status(_load("gcp/execution_failed.json"))
    assert failed.state == "failed" and failed.platform_status == "FAILED"
    assert "1 task(s) failed" in failed.reason and "exited with an error" in failed.reason
    assert execution_status(_load("gcp/execution_running.json")).state == "running"
    assert execution_status({"taskCount": 1}).state == "pending"
    assert execution_status({"completionTime": "x", "succeededCount": 1}).state == "succeeded"
