"""Run offload on Azure: a Container Apps job started by a queue message.

``backend = "container-apps-job"`` (:class:`ContainerAppsJobBackend`). The Terraform module
creates an event-driven Container Apps job whose scale rule (KEDA's ``azure-queue``) starts
one execution per message in a Storage Queue (``hookline-jobs`` in the data account).
Dispatching a run is sending one message, ``{"run_id", "attempt", "name", "pipeline"}``;
the execution runs ``hookline job run``, which receives the message
(:meth:`ContainerAppsJobBackend.receive`), keeps it invisible while it works (each
heartbeat extends its visibility timeout to the lease), and deletes it when the run is
recorded.

The queue is also how failures come back: when an execution dies, its message becomes
visible again once the lease has passed, and the next execution receives it with a higher
dequeue count -- the next attempt. The execution that receives it a ``max_attempts + 1``-th
time records the run ``failed`` instead of running it. The reconciler (the function's
timer) closes messages nobody received within ``start_timeout_seconds`` and runs whose
execution stopped renewing its lease.

Credentials: ``connection`` names the app-setting prefix, as Functions bindings do:
``<prefix>__queueServiceUri`` (identity-based, with ``DefaultAzureCredential``) or
``<prefix>`` holding a connection string; else ``AZURE_STORAGE_CONNECTION_STRING``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from hookline.compute import JobHandle, JobSpec, JobStatus, check_image, check_nonempty
from hookline.config import Option
from hookline.errors import ConfigError, HooklineError, TransientError

__all__ = ["RECONCILE_FUNCTION", "ContainerAppsJobBackend", "QueueTicket", "register_reconciler"]

RECONCILE_FUNCTION = "pipeline_reconcile"


@dataclass
class QueueTicket:
    """One received job message: the run it names and how to keep or finish it.

    :param deliveries: how many times the queue has delivered it (1: the first
        execution; more: the ones before died).
    """

    run_id: str
    attempt: int
    deliveries: int
    keepalive: Callable[[float], None]
    done: Callable[[], None]


class ContainerAppsJobBackend:
    """``backend = "container-apps-job"``: see the module docstring."""

    name: ClassVar[str] = "container-apps-job"
    events: ClassVar[str] = "queue"
    settings: ClassVar[Mapping[str, Option]] = {
        "image": Option(
            str,
            required=True,
            help="the job's image by digest (REPO@sha256:...): the job must run it",
        ),
        "queue": Option(str, "hookline-jobs", "the Storage Queue the job's scale rule watches"),
        "connection": Option(
            str,
            "HOOKLINE_QUEUE",
            "app-setting prefix of the queue's account: PREFIX__queueServiceUri "
            "(managed identity) or PREFIX (a connection string)",
        ),
        "job": Option(str, None, "the Container Apps job's name (shown in messages and logs)"),
    }

    @classmethod
    def check(cls, settings: Mapping[str, Any], path: str, source: str | None) -> None:
        check_image(settings, path, source, required=True)
        check_nonempty(settings, ("queue", "connection"), path, source)
        queue = str(settings["queue"])
        if not (
            3 <= len(queue) <= 63 and queue.replace("-", "").isalnum() and queue == queue.lower()
        ):
            raise ConfigError(
                f"invalid queue name {queue!r} (3-63 lowercase letters, digits and '-')",
                key=f"{path}.queue",
                source=source,
            )

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.config = dict(settings)
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def queue(self) -> Any:
        """The ``QueueClient``, made on first use."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = _queue_client(
                        str(self.config["connection"]), str(self.config["queue"])
                    )
        return self._client

    def message(self, job: JobSpec) -> str:
        return json.dumps(
            {
                "run_id": job.run_id,
                "attempt": job.attempt,
                "name": job.name,
                "pipeline": job.pipeline,
            },
            sort_keys=True,
        )

    def submit(self, job: JobSpec) -> JobHandle:
        try:
            sent = self.queue.send_message(self.message(job))
        except Exception as exc:
            raise _failure(exc, f"queue {self.config['queue']}: send {job.name}") from exc
        return JobHandle(
            self.name,
            job.name,
            sent.id,
            {"pop_receipt": sent.pop_receipt, "queue": self.config["queue"]},
        )

    def _peek(self) -> list[Any]:
        try:
            return list(self.queue.peek_messages(max_messages=32))
        except Exception as exc:
            raise _failure(exc, f"queue {self.config['queue']}: peek") from exc

    def find(self, name: str) -> JobHandle | None:
        for message in self._peek():
            if _body(message).get("name") == name:
                return JobHandle(self.name, name, message.id, {"queue": self.config["queue"]})
        return None

    def status(self, handle: JobHandle) -> JobStatus:
        for message in self._peek():
            if message.id == handle.id:
                waiting = f"waiting in queue {self.config['queue']}"
                if message.dequeue_count:
                    waiting += f" (delivered {message.dequeue_count} time(s) before)"
                return JobStatus("pending", waiting, "QUEUED")
        # Received by an execution (invisible) or deleted once recorded: the claim's lease
        # says whether its execution is alive.
        return JobStatus("running", "", "RECEIVED")

    def cancel(self, handle: JobHandle, reason: str) -> None:
        receipt = handle.details.get("pop_receipt")
        if not handle.id or not receipt:
            return
        try:
            self.queue.delete_message(handle.id, receipt)
        except Exception:  # received since (its receipt changed) or already deleted
            return

    # -- the job's side ------------------------------------------------------------------

    def receive(self, visibility_seconds: int) -> QueueTicket | None:
        """Receive one job message, invisible for ``visibility_seconds``; ``None`` when
        the queue is empty (the execution was started for a message another took)."""
        try:
            found = list(
                self.queue.receive_messages(
                    max_messages=1, visibility_timeout=max(1, int(visibility_seconds))
                )
            )
        except Exception as exc:
            raise _failure(exc, f"queue {self.config['queue']}: receive") from exc
        if not found:
            return None
        message = found[0]
        body = _body(message)
        state = {"receipt": message.pop_receipt}

        def keepalive(seconds: float) -> None:
            updated = self.queue.update_message(
                message.id, state["receipt"], visibility_timeout=max(1, int(seconds))
            )
            state["receipt"] = updated.pop_receipt

        def done() -> None:
            try:
                self.queue.delete_message(message.id, state["receipt"])
            except Exception as exc:
                raise _failure(exc, f"queue {self.config['queue']}: delete") from exc

        if "run_id" not in body:
            done()  # not a job message: nothing will ever run it
            raise HooklineError(f"queue {self.config['queue']}: a message names no run: {body}")
        return QueueTicket(
            run_id=str(body["run_id"]),
            attempt=int(body.get("attempt", 1)),
            deliveries=int(message.dequeue_count or 1),
            keepalive=keepalive,
            done=done,
        )


def _body(message: Any) -> dict[str, Any]:
    try:
        body = json.loads(message.content)
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _queue_client(prefix: str, queue: str) -> Any:
    from azure.storage.queue import QueueClient

    uri = os.environ.get(f"{prefix}__queueServiceUri")
    if uri:
        from azure.identity import DefaultAzureCredential

        return QueueClient(uri, queue, credential=DefaultAzureCredential())
    conn = os.environ.get(prefix) or os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if not conn:
        raise HooklineError(
            f"no queue account for the container-apps-job backend: set {prefix}__queueServiceUri "
            f"or {prefix} (a connection string)",
            hint="the Terraform module sets HOOKLINE_JOBS_QUEUE__queueServiceUri on the pipeline "
            'app and the job (connection = "HOOKLINE_JOBS_QUEUE" in the [compute] table)',
        )
    return QueueClient.from_connection_string(conn, queue)


def _failure(exc: Exception, what: str) -> HooklineError:
    status = getattr(exc, "status_code", None)
    message = f"{what}: {type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
    name = type(exc).__name__
    if (isinstance(status, int) and (status == 429 or status >= 500)) or name in (
        "ServiceRequestError",
        "ServiceResponseError",
    ):
        return TransientError(message)
    if name == "ResourceNotFoundError":
        return HooklineError(message, hint="create the queue (the Terraform module does)")
    return HooklineError(message)


def register_reconciler(app: Any, runtime: Any, env: Mapping[str, str] | None = None) -> list[str]:
    """Add the reconciler's timer (``pipeline_reconcile`` on the NCRONTAB app setting
    ``HOOKLINE_RECONCILE_SCHEDULE``) to the pipeline function app, when that is set (an
    unresolved ``%...%`` expression fails indexing).

    :returns: the names of the functions registered.
    """
    env = os.environ if env is None else env
    if not env.get("HOOKLINE_RECONCILE_SCHEDULE"):
        return []

    @app.function_name(RECONCILE_FUNCTION)
    @app.timer_trigger(arg_name="timer", schedule="%HOOKLINE_RECONCILE_SCHEDULE%", use_monitor=True)
    def pipeline_reconcile(timer: Any) -> None:
        reconcile(runtime)

    return [RECONCILE_FUNCTION]


def reconcile(runtime: Any) -> list[Any]:
    """One reconciler pass on the function's warm runtime."""
    import logging

    from hookline.events import ReconcileEvent

    results = runtime.get().handle(ReconcileEvent(source="azure"))
    log = logging.getLogger("hookline.function.azure")
    for result in results:
        log.info("reconcile: %s %s %s", result.status, result.run_id or "-", result.message)
    return list(results)
