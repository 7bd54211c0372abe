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
  partial batch response, ``{"batchItemFailures": [{"itemIdentifier": MESSAGE_ID}]}``,
  listing only the messages that need a retry (transient failures, runs still held by
  another invocation, messages that are not events); the others are deleted. The event
  source mapping needs ``FunctionResponseTypes = ["ReportBatchItemFailures"]``. On a FIFO
  queue every message after the first failure is reported too, to keep the order.
* **s3:TestEvent** (sent when a notification is configured): ignored.
* **HTTP** (API Gateway, Function URL, ALB): handed to the serving app (mangum) where it
  is bundled, else refused with a clear error. Only HTTP events ever reach mangum.

Nothing heavy is imported before the first event; the runtime is built once per cold start.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
from collections.abc import Callable, Mapping
from typing import Any

from hookline.adapters._function import Delivery, PipelineRuntime, counts_line, handle_events
from hookline.adapters.aws.compute import lambda_deadline
from hookline.adapters.aws.events import classify, parse_event, sqs_messages
from hookline.errors import UsageError
from hookline.events import Event, ScheduleEvent
from hookline.runs import function_deadline

__all__ = ["PipelineHandler"]

log = logging.getLogger("hookline.function.aws")

LambdaHandler = Callable[[Any, Any], Any]
_AUTO: Any = object()


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
        next to ``bundle_dir``, or ``$HOOKLINE_CONFIG``).
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
        self.runtime = runtime if runtime is not None else PipelineRuntime(bundle_dir)
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
            log.info("s3:TestEvent ignored (S3 sends it when a notification is configured)")
            return {"runs": [], "counts": {}, "retry": [], "ignored": "s3:TestEvent"}
        if kind == "sqs":
            return self._sqs(event)
        request_id = getattr(context, "aws_request_id", None)
        events = [_with_id(e, request_id) for e in parse_event(event)]
        delivery = handle_events(self.runtime.get(), events)
        summary = delivery.summary()
        log.info("delivery done: %s", counts_line(summary))
        delivery.raise_for_retry()
        return summary

    # -- SQS: partial batch responses -----------------------------------------------------

    def _sqs(self, event: Mapping[str, Any]) -> dict[str, Any]:
        records = event["Records"]
        fifo = any(
            isinstance(r, Mapping) and str(r.get("eventSourceARN", "")).endswith(".fifo")
            for r in records
        )
        failures: list[dict[str, str]] = []
        for message in sqs_messages(event):
            if failures and fifo:
                failures.append({"itemIdentifier": message.message_id})
                continue
            if message.error is not None:
                log.error("SQS message %s is not an event: %s", message.message_id, message.error)
                failures.append({"itemIdentifier": message.message_id})
                continue
            try:
                events = [_with_id(e, message.message_id) for e in message.events]
                delivery = handle_events(self.runtime.get(), events) if events else Delivery(())
            except Exception:
                log.exception("SQS message %s failed", message.message_id)
                failures.append({"itemIdentifier": message.message_id})
                continue
            log.info("SQS message %s: %s", message.message_id, counts_line(delivery.summary()))
            if not delivery.done:
                log.warning(
                    "SQS message %s will be retried: %s", message.message_id, delivery.retry
                )
                failures.append({"itemIdentifier": message.message_id})
        return {"batchItemFailures": failures}

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
