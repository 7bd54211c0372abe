"""The AWS Lambda pipeline handler (``pipeline.handler``): one entry for every event source.

:class:`PipelineHandler` tells the payloads apart (:func:`~hookline.adapters.aws.events.classify`)
and answers each the way its source understands:

* **S3 notifications, SNS, EventBridge, schedules** (asynchronous invocations): the events
  are run; the handler returns a summary when they are done and raises
  :class:`~hookline.errors.TransientError` when the delivery must come again, so Lambda
  retries it (then sends it to the on-failure destination). A schedule payload without an
  id (``{"source": "hookline.schedule", "pipeline": NAME}``) takes the invocation's request
  id, which Lambda keeps across its retries of an asynchronous event: a retried firing is
  the same run.
* **SQS batches**: each message is handled on its own and the handler answers with a
  partial batch response, ``{"batchItemFailures": [{"itemIdentifier": MESSAGE_ID}]}``
  (:func:`partial_batch_response`), listing only the messages that did not get done: a
  transient failure or a run still held by another invocation (``retry``: the redelivery
  should succeed) and a message that cannot be run (not an event, a bad key, a bug: no
  ``retry``; it comes back until the queue's ``maxReceiveCount`` moves it to the
  dead-letter queue, where an operator finds it). What each failure means is read from
  :func:`hookline.errors.answer` and logged with it. The event source mapping needs
  ``FunctionResponseTypes = ["ReportBatchItemFailures"]``. On a FIFO queue every message
  after the first failure is reported too, to keep the order.
* **s3:TestEvent** (sent when a notification is configured): ignored.
* **HTTP** (API Gateway, Function URL, ALB): handed to the serving app (mangum) where it
  is bundled, else refused with a clear error. Only HTTP events ever reach mangum.

Logs are JSON lines (:mod:`hookline.adapters._logs`); a finished run's ``run_finished``
line carries its metrics in CloudWatch embedded metric format (:func:`emf`): namespace
``hookline``, dimensions ``Project`` and ``Pipeline``, ``RunSucceeded``, ``RunFailed``,
``RunRejected``, ``RunDrifted`` (counts) and ``RunSeconds``; each ``stage_finished`` line
carries ``StageSeconds`` (dimensions ``Project``, ``Pipeline``, ``Stage``).

Nothing heavy is imported before the first event; the runtime is built once per cold start.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from hookline.adapters.aws import CLOUD
from hookline.adapters.aws.compute import lambda_deadline
from hookline.adapters.aws.events import classify, parse_event, sqs_message_id, sqs_messages
from hookline.adapters.cloud import (
    Delivery,
    PipelineRuntime,
    counts_line,
    failure_fields,
)
from hookline.errors import UsageError, answer
from hookline.events import Event, ScheduleEvent
from hookline.runs import function_deadline

__all__ = ["NAMESPACE", "PipelineHandler", "emf", "partial_batch_response"]

log = logging.getLogger("hookline.function.aws")

LambdaHandler = Callable[[Any, Any], Any]
_AUTO: Any = object()

NAMESPACE = "hookline"
_RUN_METRICS = {
    "succeeded": "RunSucceeded",
    "failed": "RunFailed",
    "rejected": "RunRejected",
}


def emf(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The CloudWatch embedded metric format fields of a ``run_finished`` or
    ``stage_finished`` line: the ``_aws`` metadata and the metric and dimension values at
    the top level of the same JSON object."""
    dims = {
        "Project": str(fields.get("project") or "hookline"),
        "Pipeline": str(fields["pipeline"]),
    }
    metrics: list[dict[str, str]] = []
    values: dict[str, Any] = {}
    if fields.get("event") == "run_finished":
        for status, name in _RUN_METRICS.items():
            metrics.append({"Name": name, "Unit": "Count"})
            values[name] = 1 if fields.get("status") == status else 0
        if "drifted" in fields:
            metrics.append({"Name": "RunDrifted", "Unit": "Count"})
            values["RunDrifted"] = 1 if fields["drifted"] else 0
        if isinstance(fields.get("seconds"), int | float):
            metrics.append({"Name": "RunSeconds", "Unit": "Seconds"})
            values["RunSeconds"] = fields["seconds"]
        dimensions = [list(dims)]
    elif isinstance(fields.get("seconds"), int | float):  # a stage that ran
        dims["Stage"] = str(fields["stage"])
        metrics.append({"Name": "StageSeconds", "Unit": "Seconds"})
        values["StageSeconds"] = fields["seconds"]
        dimensions = [list(dims)]
    else:
        return {}
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {"Namespace": NAMESPACE, "Dimensions": dimensions, "Metrics": metrics}
            ],
        },
        **dims,
        **values,
    }


def partial_batch_response(payload: Mapping[str, Any], failed: set[str]) -> dict[str, Any]:
    """The handler's answer to an SQS batch whose messages ``failed`` (by ``messageId``)
    did not get done: those messages, and on a FIFO queue every message after the first of
    them (the order must be kept)."""
    records = payload.get("Records") or []
    fifo = _fifo(records)
    out: list[dict[str, str]] = []
    for i, record in enumerate(records):
        message = sqs_message_id(record, i)
        if message in failed or (fifo and out):
            out.append({"itemIdentifier": message})
    return {"batchItemFailures": out}


def _fifo(records: Any) -> bool:
    return any(
        isinstance(r, Mapping) and str(r.get("eventSourceARN", "")).endswith(".fifo")
        for r in records
    )


def _bundled_serving() -> LambdaHandler | None:
    """The serving handler when the serving app (FastAPI, mangum) is in this bundle."""
    if importlib.util.find_spec("mangum") is None or importlib.util.find_spec("fastapi") is None:
        return None
    from hookline.adapters.aws.serving import handler

    return handler


def _with_id(event: Event, event_id: str | None) -> Event:
    """A schedule event that carries no id of its own takes the delivery's id."""
    if isinstance(event, ScheduleEvent) and event.event_id is None and event_id:
        return dataclasses.replace(event, event_id=event_id)
    return event


class PipelineHandler:
    """The Lambda handler of the pipeline function.

    :param runtime: the lazily built runtime (default: one reading the ``hookline.toml``
        next to ``bundle_dir``, or ``$HOOKLINE_CONFIG``, with embedded metrics).
    :param bundle_dir: the entry file's folder.
    :param serving: the handler for HTTP events; by default the serving app's handler when
        the serving app is bundled, else HTTP events are refused.
    """

    def __init__(
        self,
        runtime: PipelineRuntime | None = None,
        *,
        bundle_dir: str | None = None,
        serving: LambdaHandler | None = _AUTO,
    ) -> None:
        CLOUD.configure_logging()
        self.runtime = runtime if runtime is not None else PipelineRuntime(bundle_dir, metrics=emf)
        self._serving = serving

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        # Runs claimed here end their lease at the invocation's deadline: after a timeout
        # the retry finds the holder dead at once (see hookline.runs.function_deadline).
        with function_deadline(lambda_deadline(context)):
            return self._handle(event, context)

    def _handle(self, event: Any, context: Any) -> dict[str, Any]:
        kind = classify(event)
        if kind == "http":
            return self._http(event, context)
        if kind == "test":
            log.info(
                "s3:TestEvent ignored (S3 sends it when a notification is configured)",
                extra={"event": "test_event"},
            )
            return {"runs": [], "counts": {}, "retry": [], "ignored": "s3:TestEvent"}
        if kind == "sqs":
            return self._sqs(event)
        request_id = getattr(context, "aws_request_id", None)
        events = [_with_id(e, request_id) for e in parse_event(event)]
        delivery = self.runtime.handle(events)
        summary = delivery.summary()
        log.info("delivery done: %s", counts_line(summary), extra={"event": "delivery_done"})
        delivery.raise_for_retry()
        return summary

    # -- SQS: partial batch responses -----------------------------------------------------

    def _sqs(self, event: Mapping[str, Any]) -> dict[str, Any]:
        fifo = _fifo(event["Records"])
        failed: set[str] = set()
        for item in sqs_messages(event):
            message = str(item.id)
            if failed and fifo:
                failed.add(message)  # kept in order behind the failed one, not tried
                continue
            if item.error is not None:
                self._failed(message, item.where, item.error)
                failed.add(message)
                continue
            try:
                events = [_with_id(e, message) for e in item.events]
                delivery = self.runtime.handle(events) if events else Delivery(())
            except Exception as exc:
                self._failed(message, item.where, exc)
                failed.add(message)
                continue
            log.info(
                "SQS message %s: %s",
                message,
                counts_line(delivery.summary()),
                extra={"event": "message_done", "message_id": message},
            )
            if not delivery.done:
                log.warning(
                    "SQS message %s will be retried: %s",
                    message,
                    "; ".join(delivery.retry),
                    extra={
                        "event": "delivery_failed",
                        "status": "retry",
                        "retry": True,
                        "message_id": message,
                    },
                )
                failed.add(message)
        return partial_batch_response(event, failed)

    def _failed(self, message: str, where: str | None, exc: BaseException) -> None:
        verdict = answer(exc)
        fields = failure_fields(exc, message_id=message, where=where)
        text = (
            "SQS message %s failed (%s): %s"
            if verdict.retry
            else "SQS message %s failed (%s): %s; it stays in the queue until its "
            "maxReceiveCount moves it to the dead-letter queue"
        )
        log.log(
            logging.WARNING if verdict.retry else logging.ERROR,
            text,
            message,
            "retry" if verdict.retry else "not retried",
            verdict.detail if verdict.expected else "internal error",
            exc_info=None if verdict.expected else exc,
            extra=fields,
        )

    # -- HTTP: the serving app, and only there ----------------------------------------------

    def _http(self, event: Any, context: Any) -> Any:
        serving = self._serving
        if serving is _AUTO:
            serving = self._serving = _bundled_serving()
        if serving is None:
            raise UsageError(
                "the hookline pipeline function received an HTTP request, and the serving "
                "app (FastAPI, mangum) is not bundled with it",
                hint="send HTTP requests to the serving function (handler serving.handler); "
                "the pipeline function takes S3, SQS, SNS, EventBridge and schedule events",
            )
        return serving(event, context)
