"""The Azure Functions pipeline app (Python v2 model, ``HOOKLINE_ROLE=pipeline``).

:func:`register_pipeline` adds the pipeline's functions to the app ``function_app.py``
exposes:

* ``pipeline_queue`` -- the default delivery: an Event Grid subscription on the storage
  account writes each ``Microsoft.Storage.BlobCreated`` event (Event Grid or CloudEvents
  schema) to the Storage Queue ``$HOOKLINE_EVENTS_QUEUE`` (``hookline-events``), and this
  queue-triggered function runs it. Event Grid's push delivery waits about 30 seconds for
  an answer and redelivers when a run takes longer; a queue message stays invisible while
  its function runs (the host takes it for 10 minutes and renews that every 5), so a run
  of any length within the function timeout is delivered once. A failed message is
  retried after ``host.json``'s ``visibilityTimeout`` and, after ``maxDequeueCount``
  attempts, moved to ``<queue>-poison``. Connection: the app setting prefix
  ``HOOKLINE_QUEUE`` (identity-based: ``HOOKLINE_QUEUE__queueServiceUri``). Registered
  when one of those settings is present.
* ``pipeline_event_grid`` -- Event Grid's push delivery of the same events, for runs well
  under 30 seconds or where a queue cannot be used. The event carries the blob's URL, size
  and ETag; the runner streams the blob through the storage back-end, never the binding.
* ``pipeline_timer`` -- a timer trigger on ``%HOOKLINE_SCHEDULE%`` (an NCRONTAB app
  setting) that runs ``$HOOKLINE_SCHEDULED_PIPELINE``. Registered only when
  ``HOOKLINE_SCHEDULE`` is set: an unresolved ``%...%`` expression fails indexing.
* ``pipeline_blob`` -- optional, when ``HOOKLINE_BLOB_TRIGGER_PATH`` (e.g.
  ``data/landing/{name}``) is set: a blob trigger bound as an SDK ``BlobClient``
  (package ``azurefunctions-extensions-bindings-blob``), so the host passes a reference,
  not the blob's bytes; only its name and properties are read. ``func.InputStream`` is
  never used: the host reads the whole blob into memory for it. Its source is
  ``$HOOKLINE_BLOB_TRIGGER_SOURCE`` (``EventGrid``, the default, or
  ``LogsAndContainerScan``, the polling scan, which can lag by minutes); the connection
  is the app setting prefix ``$HOOKLINE_BLOB_CONNECTION`` (default ``AzureWebJobsStorage``).

Failures: a permanent one is in the run record and the function returns; a transient one
(or a run still held by another invocation) raises, so the queue message comes back
(``pipeline_queue``), Event Grid retries the delivery with backoff and finally writes it to
the subscription's dead-letter container (``pipeline_event_grid``), or the blob trigger
retries 5 times, then writes a message to the ``webjobs-blobtrigger-poison`` queue. A
message that is not an event also raises: it ends in the poison queue (or dead-letter
container) for an operator. Logs are JSON lines (:mod:`hookline.adapters._logs`): in
Application Insights each line is a ``traces`` record whose ``message`` is the JSON object.
"""

import logging
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import azure.functions as func
from hookline.adapters.azure import CLOUD
from hookline.adapters.azure.events import (
    EventError,
    from_blob_client,
    from_queue_message,
    from_timer,
    parse_event,
)
from hookline.adapters.cloud import PipelineRuntime, counts_line
from hookline.events import Event

__all__ = [
    "BLOB_FUNCTION",
    "DEFAULT_QUEUE",
    "EVENT_GRID_FUNCTION",
    "QUEUE_CONNECTION",
    "QUEUE_FUNCTION",
    "TIMER_FUNCTION",
    "handle_blob_client",
    "handle_event_grid",
    "handle_queue_message",
    "handle_timer",
    "register_pipeline",
]

log = logging.getLogger("hookline.function.azure")

QUEUE_FUNCTION = "pipeline_queue"
EVENT_GRID_FUNCTION = "pipeline_event_grid"
TIMER_FUNCTION = "pipeline_timer"
BLOB_FUNCTION = "pipeline_blob"
DEFAULT_QUEUE = "hookline-events"
QUEUE_CONNECTION = "HOOKLINE_QUEUE"
"""The app setting prefix of the queue's connection (``HOOKLINE_QUEUE__queueServiceUri``
with the app's identity, or ``HOOKLINE_QUEUE`` holding a connection string)."""
BLOB_SOURCES = ("EventGrid", "LogsAndContainerScan")


def _payload(event: Any) -> Any:
    """The schema dict of what an Event Grid trigger received: a ``func.EventGridEvent``
    is parsed as it is; a CloudEvents-schema delivery (``func`` passes its own
    ``CloudEvent`` object) becomes the CloudEvents JSON."""
    if hasattr(event, "specversion") and hasattr(event, "get_json"):
        when = getattr(event, "time", None)
        return {
            "specversion": event.specversion,
            "id": getattr(event, "id", None),
            "source": getattr(event, "source", None),
            "type": getattr(event, "type", None),
            "subject": getattr(event, "subject", None),
            "time": when.isoformat() if isinstance(when, datetime) else when,
            "data": event.get_json(),
        }
    return event


def _run(runtime: PipelineRuntime, events: list[Event]) -> dict[str, Any]:
    delivery = runtime.handle(events)
    summary = delivery.summary()
    log.info("delivery done: %s", counts_line(summary), extra={"event": "delivery_done"})
    delivery.raise_for_retry()
    return summary


def handle_queue_message(runtime: PipelineRuntime, message: Any) -> dict[str, Any]:
    """Run the event Event Grid wrote to the queue (a ``func.QueueMessage``).

    :raises TransientError: the message must come again (the host makes it visible after
        ``visibilityTimeout``; after ``maxDequeueCount`` attempts it goes to the poison
        queue).
    :raises EventError: the message is not an event hookline runs on (poison queue after
        the attempts).
    """
    count = getattr(message, "dequeue_count", None)
    if isinstance(count, int) and count > 1:
        log.warning(
            "queue message %s: attempt %d",
            getattr(message, "id", "?"),
            count,
            extra={"event": "redelivery", "message_id": getattr(message, "id", None)},
        )
    return _run(runtime, from_queue_message(message))


def handle_event_grid(runtime: PipelineRuntime, event: Any) -> dict[str, Any]:
    """Run one Event Grid delivery (``func.EventGridEvent``, the CloudEvents-schema
    object, or a schema dict).

    :raises TransientError: the delivery must come again (Event Grid retries it).
    :raises EventError: not an event hookline runs on (dead-lettered after the retries).
    """
    return _run(runtime, parse_event(_payload(event)))


def handle_timer(
    runtime: PipelineRuntime, timer: Any, pipeline: str | None = None
) -> dict[str, Any]:
    """Run the scheduled pipeline (``pipeline``, default ``$HOOKLINE_SCHEDULED_PIPELINE``).

    :raises EventError: no pipeline is named.
    """
    name = pipeline or os.environ.get("HOOKLINE_SCHEDULED_PIPELINE", "")
    if not name:
        raise EventError(
            "the timer fired but no pipeline is named",
            cloud="azure",
            expected="the app setting HOOKLINE_SCHEDULED_PIPELINE",
            hint="set HOOKLINE_SCHEDULED_PIPELINE (the Terraform module's `schedules` does)",
        )
    if getattr(timer, "past_due", False):
        log.warning("timer for %s is past due: running it now", name)
    return _run(runtime, [from_timer(timer, name)])


def handle_blob_client(runtime: PipelineRuntime, client: Any) -> dict[str, Any]:
    """Run the blob a blob trigger bound as an SDK ``BlobClient``: one properties request
    (size, ETag), never a download; the runner streams the blob itself."""
    return _run(runtime, [from_blob_client(client, client.get_blob_properties())])


def register_pipeline(
    app: func.FunctionApp,
    runtime: PipelineRuntime,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """Add the pipeline's functions to ``app``.

    :param env: the app settings (default: the environment the worker indexes with).
    :returns: the names of the functions registered.
    :raises EventError: ``HOOKLINE_BLOB_TRIGGER_SOURCE`` is not a blob trigger source.
    :raises ImportError: a blob trigger is asked for and its bindings extension is missing.
    """
    env = os.environ if env is None else env
    CLOUD.configure_logging()
    names = []
    if _queue_configured(env):
        names.append(QUEUE_FUNCTION)

        @app.function_name(QUEUE_FUNCTION)
        @app.queue_trigger(
            arg_name="message",
            queue_name=env.get("HOOKLINE_EVENTS_QUEUE") or DEFAULT_QUEUE,
            connection=QUEUE_CONNECTION,
        )
        def pipeline_queue(message: func.QueueMessage) -> None:
            handle_queue_message(runtime, message)

    names.append(EVENT_GRID_FUNCTION)

    @app.function_name(EVENT_GRID_FUNCTION)
    @app.event_grid_trigger(arg_name="event")
    def pipeline_event_grid(event: func.EventGridEvent) -> None:
        handle_event_grid(runtime, event)

    if env.get("HOOKLINE_SCHEDULE"):
        names.append(TIMER_FUNCTION)

        @app.function_name(TIMER_FUNCTION)
        @app.timer_trigger(arg_name="timer", schedule="%HOOKLINE_SCHEDULE%", use_monitor=True)
        def pipeline_timer(timer: func.TimerRequest) -> None:
            handle_timer(runtime, timer)

    path = env.get("HOOKLINE_BLOB_TRIGGER_PATH")
    if path:
        names.append(_register_blob_trigger(app, runtime, path, env))
    return names


def _queue_configured(env: Mapping[str, str]) -> bool:
    """The queue's connection is set (an unresolvable connection keeps the host from
    starting the listener), or its name is."""
    return any(
        key == QUEUE_CONNECTION
        or key.startswith(f"{QUEUE_CONNECTION}__")
        or key == ("HOOKLINE_EVENTS_QUEUE")
        for key, value in env.items()
        if value
    )


def _register_blob_trigger(
    app: func.FunctionApp, runtime: PipelineRuntime, path: str, env: Mapping[str, str]
) -> str:
    source = env.get("HOOKLINE_BLOB_TRIGGER_SOURCE") or "EventGrid"
    if source not in BLOB_SOURCES:
        raise EventError(
            f"HOOKLINE_BLOB_TRIGGER_SOURCE is {source!r}",
            cloud="azure",
            expected=" or ".join(BLOB_SOURCES),
        )
    try:
        from azurefunctions.extensions.bindings import blob as blob_types
    except ImportError as exc:
        raise ImportError(
            "the pipeline_blob function binds an SDK BlobClient (never the blob's bytes) and "
            "needs the package azurefunctions-extensions-bindings-blob in the bundle: "
            "hookline package --cloud azure --with azurefunctions-extensions-bindings-blob"
        ) from exc

    @app.function_name(BLOB_FUNCTION)
    @app.blob_trigger(
        arg_name="client",
        path=path,
        connection=env.get("HOOKLINE_BLOB_CONNECTION") or "AzureWebJobsStorage",
        source=func.BlobSource(source),
    )
    def pipeline_blob(client: blob_types.BlobClient) -> None:
        handle_blob_client(runtime, client)

    return BLOB_FUNCTION
