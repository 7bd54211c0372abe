"""One instance of the Azure Functions host's queue trigger, with the Python worker in it.

The Functions host (Core Tools) cannot be installed here, so this script plays it for the
queue trigger, following the storage queues extension's own algorithm (QueueListener and
QueueProcessor in Microsoft.Azure.WebJobs.Extensions.Storage.Queues):

* a message is received with a visibility timeout of 10 minutes, and while the function
  runs that timeout is renewed every half of it, so no other instance receives it;
* the function succeeds: the message is deleted; it fails: the message becomes visible
  again after ``host.json``'s ``visibilityTimeout``, and once its dequeue count has reached
  ``maxDequeueCount`` it is copied to ``<queue>-poison`` (its body unchanged) and deleted;
* the body is base64-decoded when ``messageEncoding`` is ``base64``, and the worker's own
  converter (``azure.functions.queue.QueueMessageInConverter``) builds the
  ``func.QueueMessage`` from it and the trigger metadata the host sends.

The worker part: ``function_app.py`` is imported by file, its one ``FunctionApp`` indexed,
and the queue function's binding (queue name, connection setting) read from its metadata,
as the worker and host do. A root logging handler stands in for the worker's gRPC one: it
formats each record and writes ``{"level", "category", "message"}`` (what reaches
Application Insights ``traces``) to ``--traces``. Durations are scaled by ``--scale`` (the
host's 10 minutes times 0.03 is 18 seconds) so a test can outlast them.

Every invocation is appended to ``--invocations`` as a JSON line: instance, message id,
dequeue count, outcome.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

FETCH_VISIBILITY = 600.0  # seconds: the host's fixed receive visibility (QueueListener)


def parse_timespan(text: str) -> float:
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


class WorkerLogHandler(logging.Handler):
    """What the Python worker's handler sends to the host: the formatted message."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = json.dumps(
            {"level": record.levelname, "category": record.name, "message": self.format(record)}
        )
        with self.lock_, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def load_app(bundle: Path) -> Any:
    import azure.functions as func

    spec = importlib.util.spec_from_file_location("function_app", bundle / "function_app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["function_app"] = module
    spec.loader.exec_module(module)
    [app] = [v for v in vars(module).values() if isinstance(v, func.FunctionRegister)]
    return app


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--instance", required=True)
    ap.add_argument("--invocations", type=Path, required=True)
    ap.add_argument("--traces", type=Path, required=True)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--no-renewal", action="store_true", help="a host that never renews")
    args = ap.parse_args()

    logging.getLogger().addHandler(WorkerLogHandler(args.traces))
    logging.getLogger().setLevel(logging.INFO)
    app = load_app(args.bundle)
    [function] = [f for f in app.get_functions() if f.get_function_name() == "pipeline_queue"]
    [binding] = json.loads(function.get_function_json())["bindings"]
    assert binding["type"] == "queueTrigger", binding
    settings = json.loads((args.bundle / "host.json").read_text())["extensions"]["queues"]
    max_dequeue = int(settings["maxDequeueCount"])
    retry_after = parse_timespan(settings["visibilityTimeout"]) * args.scale
    fetch_visibility = FETCH_VISIBILITY * args.scale
    assert int(settings.get("batchSize", 16)) == 1, "one message at a time per instance"

    from azure.functions.meta import Datum
    from azure.functions.queue import QueueMessageInConverter
    from azure.storage.queue import QueueClient

    connection = os.environ[binding["connection"]]
    queue = QueueClient.from_connection_string(connection, binding["queueName"])
    poison = QueueClient.from_connection_string(connection, f"{binding['queueName']}-poison")
    user_function = function.get_user_function()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def record(**fields: Any) -> None:
        with args.invocations.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"instance": args.instance, **fields}) + "\n")

    def to_poison(message: Any, receipt: str) -> None:  # AddMessageAndCreateIfNotExists
        from azure.core.exceptions import ResourceExistsError

        try:
            poison.create_queue()
        except ResourceExistsError:
            pass
        poison.send_message(message.content)
        queue.delete_message(message.id, receipt)

    while not stop.is_set():
        message = queue.receive_message(visibility_timeout=int(fetch_visibility))
        if message is None:
            stop.wait(0.2)
            continue
        if message.dequeue_count > max_dequeue:  # BeginProcessingMessageAsync
            to_poison(message, message.pop_receipt)
            continue
        state = {"receipt": message.pop_receipt}
        done = threading.Event()

        def renew(message: Any = message, state: dict = state, done: threading.Event = done):
            while not done.wait(fetch_visibility / 2):
                answer = queue.update_message(
                    message.id, state["receipt"], visibility_timeout=int(fetch_visibility)
                )
                state["receipt"] = answer.pop_receipt

        renewer = None
        if not args.no_renewal:
            renewer = threading.Thread(target=renew, daemon=True)
            renewer.start()
        body = message.content
        if settings.get("messageEncoding", "base64") == "base64":
            body = base64.b64decode(body).decode("utf-8")
        meta = {
            "Id": Datum(message.id, "string"),
            "DequeueCount": Datum(message.dequeue_count, "int"),
            "InsertionTime": Datum(message.inserted_on.isoformat(), "string"),
            "ExpirationTime": Datum(message.expires_on.isoformat(), "string"),
            "NextVisibleTime": Datum(message.next_visible_on.isoformat(), "string"),
            "PopReceipt": Datum(message.pop_receipt, "string"),
        }
        argument = QueueMessageInConverter.decode(Datum(body, "string"), trigger_metadata=meta)
        started = time.monotonic()
        error = None
        try:
            user_function(argument)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        done.set()
        if renewer is not None:
            renewer.join()
        record(
            message_id=message.id,
            dequeue_count=message.dequeue_count,
            seconds=round(time.monotonic() - started, 2),
            error=error,
        )
        try:
            if error is None:
                queue.delete_message(message.id, state["receipt"])
            elif message.dequeue_count >= max_dequeue:
                to_poison(message, state["receipt"])
            else:
                queue.update_message(
                    message.id, state["receipt"], visibility_timeout=int(retry_after)
                )
        except Exception as exc:  # another instance took it over: its receipt changed
            record(message_id=message.id, lost=f"{type(exc).__name__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
