"""A stand-in for the cloud platform's delivery: at least once, in any order, by several
function instances at a time, redelivering (after a backoff) an event whose invocation
raised :class:`~hookline.errors.TransientError`, as Lambda, Eventarc and Event Grid retry.

Each invocation goes through the function layer every entry file uses
(:func:`hookline.adapters.cloud.handle_events`), so a run still held by another
invocation is retried too, exactly as deployed."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hookline.adapters.cloud import handle_events
from hookline.errors import TransientError
from hookline.events import StorageEvent
from hookline.runner import Hookline, RunResult

from ._counters import record

__all__ = ["Outcome", "deliver"]


@dataclass
class Outcome:
    """Everything that happened to the deliveries of one batch."""

    results: list[tuple[StorageEvent, RunResult]] = field(default_factory=list)
    transient: list[tuple[StorageEvent, str]] = field(default_factory=list)
    unexpected: list[tuple[StorageEvent, BaseException]] = field(default_factory=list)
    given_up: list[StorageEvent] = field(default_factory=list)

    def by_identity(self) -> dict[str, list[RunResult]]:
        out: dict[str, list[RunResult]] = {}
        for event, result in self.results:
            out.setdefault(event.identity, []).append(result)
        return out


def deliver(
    make_app: Callable[[], Hookline],
    deliveries: Sequence[StorageEvent],
    *,
    workers: int = 1,
    retries: int = 0,
) -> Outcome:
    """Deliver every event in order of the sequence, ``workers`` instances at a time.

    :param make_app: builds one function instance (called once per worker thread).
    :param retries: redeliveries of an event after a ``TransientError`` (at the back of
        the queue, like a platform's retry after a backoff).
    """
    todo: queue.Queue[tuple[StorageEvent, int, float]] = queue.Queue()
    for event in deliveries:
        todo.put((event, 0, 0.0))
    outcome = Outcome()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            app = make_app()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            return
        while True:
            try:
                event, attempt, not_before = todo.get_nowait()
            except queue.Empty:
                return
            time.sleep(max(0.0, not_before - time.monotonic()))
            try:
                delivery = handle_events(app, [event])
                with lock:
                    outcome.results += [(event, r) for r in delivery.results]
                delivery.raise_for_retry()
            except TransientError as exc:
                with lock:
                    outcome.transient.append((event, str(exc)))
                if attempt < retries:
                    backoff = min(0.05 * 2**attempt, 1.0)
                    todo.put((event, attempt + 1, time.monotonic() + backoff))
                else:
                    with lock:
                        outcome.given_up.append(event)
            except BaseException as exc:
                with lock:
                    outcome.unexpected.append((event, exc))

    threads = [threading.Thread(target=work, name=f"instance-{i}") for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    redelivered = len(outcome.transient) - len(outcome.given_up)
    record("events_delivered", len(deliveries) + redelivered)
    record("transient_raised", len(outcome.transient))
    return outcome
