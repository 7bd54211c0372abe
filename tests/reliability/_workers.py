"""Work done in spawned processes (importable by name, so multiprocessing can call it)."""

from __future__ import annotations

import threading
from typing import Any

from hookline.events import event_from_dict

from ._stack import Project


def train_concurrently(
    folder: str, root: str, events: list[dict[str, Any]], barrier: Any
) -> list[dict[str, Any]]:
    """Handle ``events`` at once, one thread (one function instance) per event, after
    every process reached ``barrier``; return what each run came to."""
    from pathlib import Path

    project = Project(Path(folder), root)
    apps = [project.app() for _ in events]
    out: list[dict[str, Any]] = []
    lock = threading.Lock()
    barrier.wait()

    def one(app: Any, raw: dict[str, Any]) -> None:
        event = event_from_dict(raw)
        try:
            results = app.handle(event)
            rows = [
                {
                    "identity": event.identity,
                    "status": r.status,
                    "message": r.message,
                    "version": _version(r.record),
                }
                for r in results
            ]
        except Exception as exc:
            rows = [
                {
                    "identity": event.identity,
                    "status": "error",
                    "message": f"{type(exc).__name__}: {exc}",
                    "version": None,
                }
            ]
        with lock:
            out.extend(rows)

    threads = [threading.Thread(target=one, args=pair) for pair in zip(apps, events, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def _version(record: Any) -> int | None:
    for dep in (record or {}).get("deployments") or ():
        if dep.get("version") is not None:
            return int(dep["version"])
    return None
