"""hookline-webhook: the conformance kit, then delivery against a real local HTTP server."""

from __future__ import annotations

import hmac
import logging
import socket
import time

import hookline_webhook as plugin
import pytest
from hookline.testing import make_context, parametrize_plugin_checks, sample_model, sample_record


@pytest.mark.parametrize("check", parametrize_plugin_checks(plugin, name="webhook"))
def test_conformance(check, webhook_server, monkeypatch):
    """Every rule of hookline's kit, with the plugin posting to a live server."""
    monkeypatch.setenv("HOOKLINE_WEBHOOK_URL", webhook_server.url)
    check()
    if check.id.startswith(("after_pipeline_run", "on_pipeline_error")):
        (received,) = webhook_server.received
        assert received.json["schema"] == "hookline.webhook/v1"


def context(hookline_storage, **table):
    return make_context(hookline_storage, plugins={"webhook": table})


def test_posts_a_succeeded_run(hookline_storage, hookline_classification_dataset, webhook_server):
    ctx = context(hookline_storage, url=webhook_server.url)
    model = sample_model(hookline_classification_dataset)
    record = sample_record(ctx, status="succeeded", model=model)
    assert plugin.after_pipeline_run(ctx=ctx, record=record) is None
    (received,) = webhook_server.received
    assert received.path == "/hooks/T0KEN-secret-path"
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["X-Hookline-Delivery"] == f"{ctx.run_id}.1.succeeded"
    body = received.json
    assert body["run_id"] == ctx.run_id and body["status"] == "succeeded"
    assert body["pipeline"] == "train" and body["model"] == "sample-model"
    assert body["metrics"] == model.metrics
    assert body["model_version"] == 1 and body["alias"] == "production"
    assert body["error"] is None
    assert body["record_uri"].endswith(f"runs/{ctx.run_id}/record.json")
    assert "X-Hookline-Signature" not in received.headers


def test_posts_a_failed_run_with_its_error(hookline_storage, webhook_server):
    from hookline.errors import HookFailed

    ctx = context(hookline_storage, url=webhook_server.url)
    error = HookFailed(plugin="sklearn", hook="train", original=ValueError("bad target"))
    record = sample_record(ctx, status="failed", error=error)
    plugin.on_pipeline_error(ctx=ctx, record=record)
    body = webhook_server.received[0].json
    assert body["status"] == "failed" and body["model_version"] is None
    assert body["error"]["type"] == "HookFailed"
    assert body["error"]["plugin"] == "sklearn" and body["error"]["hook"] == "train"
    assert "bad target" in body["error"]["message"]


def test_retries_server_errors_with_the_same_delivery_id(hookline_storage, webhook_server):
    webhook_server.responses = [503, 500]
    ctx = context(hookline_storage, url=webhook_server.url, backoff_seconds=0.01)
    plugin.after_pipeline_run(ctx=ctx, record=sample_record(ctx))
    received = webhook_server.received
    assert len(received) == 3
    assert len({r.headers["X-Hookline-Delivery"] for r in received}) == 1


def test_gives_up_without_failing_the_run_and_without_logging_the_token(
    hookline_storage, webhook_server, caplog
):
    webhook_server.responses = [500, 500, 500, 500]
    ctx = context(hookline_storage, url=webhook_server.url, retries=2, backoff_seconds=0.01)
    with caplog.at_level(logging.WARNING, logger="hookline_webhook"):
        delivery = plugin.post_run(ctx, sample_record(ctx))
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 3, 500)
    assert len(webhook_server.received) == 3
    assert "failed after 3 attempt(s): HTTP 500" in caplog.text
    assert "T0KEN" not in caplog.text


def test_client_errors_are_not_retried(hookline_storage, webhook_server):
    webhook_server.responses = [404]
    ctx = context(hookline_storage, url=webhook_server.url, backoff_seconds=0.01)
    delivery = plugin.post_run(ctx, sample_record(ctx))
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 1, 404)


def test_a_slow_endpoint_is_bounded_by_the_timeout(hookline_storage, webhook_server):
    webhook_server.delay = 3.0
    ctx = context(
        hookline_storage,
        url=webhook_server.url,
        timeout_seconds=0.3,
        retries=1,
        backoff_seconds=0.01,
    )
    started = time.monotonic()
    delivery = plugin.post_run(ctx, sample_record(ctx))
    assert time.monotonic() - started < 2.5
    assert not delivery.delivered and delivery.attempts == 2


def test_an_unreachable_endpoint_does_not_fail_the_run(hookline_storage):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctx = context(
        hookline_storage, url=f"http://127.0.0.1:{port}/x", retries=1, backoff_seconds=0.01
    )
    assert plugin.after_pipeline_run(ctx=ctx, record=sample_record(ctx)) is None
    assert not plugin.post_run(ctx, sample_record(ctx)).delivered


def test_url_and_secret_from_the_environment(hookline_storage, webhook_server, monkeypatch):
    monkeypatch.setenv("HOOKLINE_WEBHOOK_URL", webhook_server.url)
    monkeypatch.setenv("HOOKLINE_WEBHOOK_SECRET", "s3cret")
    ctx = context(hookline_storage, url="http://127.0.0.1:9/not-this-one")
    plugin.after_pipeline_run(ctx=ctx, record=sample_record(ctx))
    (received,) = webhook_server.received
    timestamp = received.headers["X-Hookline-Timestamp"]
    expected = plugin.sign("s3cret", timestamp, received.body)
    assert hmac.compare_digest(received.headers["X-Hookline-Signature"], expected)
    assert expected.startswith("sha256=")


def test_nothing_is_sent_without_a_url_or_for_unwanted_runs(hookline_storage, webhook_server):
    ctx = context(hookline_storage)
    assert plugin.post_run(ctx, sample_record(ctx)) is None
    ctx = context(hookline_storage, url=webhook_server.url, events=["failed"])
    assert plugin.post_run(ctx, sample_record(ctx, status="succeeded")) is None
    ctx = context(hookline_storage, url=webhook_server.url, pipelines=["score"])
    assert plugin.post_run(ctx, sample_record(ctx)) is None
    assert webhook_server.received == []


def test_transient_failures_are_posted_only_when_asked(hookline_storage, webhook_server):
    ctx = context(hookline_storage, url=webhook_server.url)
    record = sample_record(ctx, status="running", error=TimeoutError("storage throttled"))
    assert plugin.post_run(ctx, record) is None
    ctx = context(hookline_storage, url=webhook_server.url, events=["retrying"])
    assert plugin.post_run(ctx, record).delivered
    assert webhook_server.received[0].json["status"] == "retrying"
