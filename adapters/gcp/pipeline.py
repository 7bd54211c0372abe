"""The Google Cloud pipeline function (entry point ``pipeline``, a CloudEvent function).

Eventarc delivers ``google.cloud.storage.object.v1.finalized`` for every object finalized
in the bucket (direct Cloud Storage triggers filter on the bucket only); Cloud Scheduler
posts a ``hookline.schedule`` CloudEvent. :class:`CloudEventPipeline` runs them:

* the runner routes by ``hookline.toml``'s prefixes, skips zero-byte objects and
  hookline's own outputs, and claims one run per (bucket, name, generation), so Cloud
  Storage's repeated deliveries of one generation are one run;
* a permanent failure is in the run record and the function returns (HTTP 200): no retry;
* a transient failure, or a run still held by another invocation, raises, so the
  function answers 503 and the trigger's retry policy (``RETRY_POLICY_RETRY``) delivers
  the event again, with backoff, for up to 24 hours;
* :meth:`CloudEventPipeline.respond` (what the entry point calls) answers a hookline error
  with the status of the one table (:func:`hookline.errors.answer`): a request that is not
  an event hookline runs on is a 400, storage or configuration the function cannot use a
  503, each logged as one ``delivery_failed`` line, without a traceback. Only an unexpected
  exception (a bug) is left to functions-framework, which answers 500 and logs it with its
  traceback. Eventarc redelivers on any status but 2xx, so what is retried is unchanged;
  the status tells the request logs and error-rate metrics *why*;
* a scheduled firing is identified by Cloud Scheduler's ``X-CloudScheduler-ScheduleTime``
  header (its ``ce-id`` is the same on every firing), read from the request being served;
* log lines are JSON objects on standard output with ``severity`` (Cloud Logging's
  ``jsonPayload``); a finished run's ``run_finished`` line is what the Terraform module's
  log-based metrics count (``jsonPayload.event="run_finished"``).

No Google SDK is imported here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from hookline.adapters.cloud import PipelineRuntime, counts_line, failure_fields
from hookline.adapters.gcp import CLOUD
from hookline.adapters.gcp.events import SCHEDULE_TIME_HEADER, parse_event
from hookline.errors import HooklineError, answer

__all__ = ["CloudEventPipeline"]

log = logging.getLogger("hookline.function.gcp")


def _request_header(name: str) -> str | None:
    """A header of the HTTP request functions-framework is serving, if any."""
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover - functions-framework always brings flask
        return None
    if not has_request_context():
        return None
    value = request.headers.get(name)
    return value or None


class CloudEventPipeline:
    """The body of the ``pipeline`` CloudEvent function.

    :param runtime: the lazily built runtime (default: ``$HOOKLINE_CONFIG`` or the
        ``hookline.toml`` next to ``bundle_dir``).
    :param bundle_dir: the entry file's folder.
    """

    def __init__(
        self, runtime: PipelineRuntime | None = None, *, bundle_dir: str | None = None
    ) -> None:
        CLOUD.configure_logging()
        self.runtime = runtime if runtime is not None else PipelineRuntime(bundle_dir)

    def __call__(
        self, cloud_event: Any, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Run the events in ``cloud_event``.

        :param cloud_event: the ``CloudEvent`` functions-framework passes (or a
            structured-mode dict).
        :param headers: the request's headers, when not served by functions-framework.
        :returns: the delivery's summary (functions-framework answers 200).
        :raises TransientError: the delivery must come again (retried).
        :raises EventError: the payload is not an event hookline runs on.
        """
        schedule_time = None
        if headers is not None:
            lowered = {k.lower(): v for k, v in headers.items()}
            schedule_time = lowered.get(SCHEDULE_TIME_HEADER)
        else:
            schedule_time = _request_header(SCHEDULE_TIME_HEADER)
        events = parse_event(cloud_event, schedule_time=schedule_time)
        delivery = self.runtime.handle(events)
        summary = delivery.summary()
        log.info("delivery done: %s", counts_line(summary), extra={"event": "delivery_done"})
        delivery.raise_for_retry()
        return summary

    def respond(self, cloud_event: Any) -> None:
        """Run ``cloud_event`` as the entry point served by functions-framework: a hookline
        error is logged once and answered with its status from the table, by raising the
        :class:`werkzeug.exceptions.HTTPException` Flask answers with that status."""
        try:
            self(cloud_event)
        except HooklineError as exc:
            verdict = answer(exc)
            log.log(
                logging.WARNING if verdict.retry else logging.ERROR,
                "delivery failed (%s): %s",
                "retry" if verdict.retry else "not retried",
                verdict.detail,
                extra=failure_fields(exc),
            )
            raise _http_error(verdict.status, verdict.title, verdict.retry) from None


def _http_error(status: int, title: str, retry: bool) -> Exception:
    """The exception Flask answers with ``status`` and a short JSON body (the details are
    in the log line, not in the answer)."""
    from flask import Response
    from werkzeug.exceptions import HTTPException, default_exceptions

    body = json.dumps({"error": title, "retry": retry})
    response = Response(body, status=status, mimetype="application/json")
    kind = default_exceptions.get(status, HTTPException)
    return kind(description=title, response=response)
