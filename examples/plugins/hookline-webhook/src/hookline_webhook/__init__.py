"""hookline-webhook: POST every run's outcome as JSON to a webhook.

An observer plugin (entry point ``webhook``): after each run it sends the run id, status,
metrics, the model version it promoted and the error, if any, to a URL. The URL and the
signing secret come from the environment (``HOOKLINE_WEBHOOK_URL``,
``HOOKLINE_WEBHOOK_SECRET``) or the ``[plugins.webhook]`` table. Delivery has a timeout and
bounded retries, and never fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from hookline import hookimpl
from hookline.config import Option, check_table
from hookline.types import RunContext

from hookline_webhook._deliver import Delivery, deliver, redact, sign
from hookline_webhook._payload import SCHEMA, build_payload, status_of

__all__ = [
    "CONFIG",
    "NAME",
    "SCHEMA",
    "Delivery",
    "after_pipeline_run",
    "on_pipeline_error",
    "post_run",
    "sign",
]

NAME = "webhook"

CONFIG = {
    "url": Option(str, None, "the endpoint; for URLs that embed a token use url_env instead"),
    "url_env": Option(
        str,
        "HOOKLINE_WEBHOOK_URL",
        "environment variable holding the URL; when set, it wins over url",
    ),
    "secret_env": Option(
        str,
        "HOOKLINE_WEBHOOK_SECRET",
        "environment variable holding a shared secret; when set, each body "
        "is signed (X-Hookline-Signature: sha256=HMAC(timestamp.body))",
    ),
    "timeout_seconds": Option(float, 5.0, "per request"),
    "retries": Option(int, 2, "extra attempts after a connection error, timeout, 429 or 5xx"),
    "backoff_seconds": Option(float, 0.5, "wait before the first retry; doubles each time"),
    "events": Option(
        list,
        ["succeeded", "rejected", "failed"],
        "run statuses to post: succeeded, rejected, failed, retrying",
    ),
    "pipelines": Option(list, [], "only these pipelines (empty: every pipeline)"),
    "include_checks": Option(bool, True, "include each check's name, verdict and message"),
}
"""The ``[plugins.webhook]`` table."""


def settings(ctx: RunContext) -> dict[str, Any]:
    """This run's ``[plugins.webhook]`` table, validated, with defaults filled in."""
    return check_table(ctx.plugin_config(NAME), CONFIG, f"plugins.{NAME}")


def post_run(ctx: RunContext, record: Mapping[str, Any]) -> Delivery | None:
    """Post ``record``'s outcome when a URL is configured and the status is wanted.

    :returns: how delivery went, or ``None`` when nothing was sent.
    """
    cfg = settings(ctx)
    url = os.environ.get(cfg["url_env"]) or cfg["url"]
    status = status_of(record)
    if not url or status not in cfg["events"]:
        return None
    if cfg["pipelines"] and ctx.pipeline.name not in cfg["pipelines"]:
        return None
    payload = build_payload(ctx, record, include_checks=cfg["include_checks"])
    delivery = deliver(
        url,
        payload,
        timeout=cfg["timeout_seconds"],
        retries=max(0, cfg["retries"]),
        backoff=cfg["backoff_seconds"],
        secret=os.environ.get(cfg["secret_env"]) or None,
        delivery_id=f"{ctx.run_id}.{record.get('attempt', 1)}.{status}",
    )
    if delivery.delivered:
        ctx.log.info("webhook %s: posted %s (%s)", redact(url), status, ctx.run_id)
    return delivery


@hookimpl
def after_pipeline_run(ctx: RunContext, record: Mapping[str, Any]) -> None:
    """Post a completed run (``succeeded`` or ``rejected``)."""
    post_run(ctx, record)


@hookimpl
def on_pipeline_error(ctx: RunContext, record: Mapping[str, Any]) -> None:
    """Post a failed run (``failed``; ``retrying`` when the platform will redeliver it)."""
    post_run(ctx, record)
