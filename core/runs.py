"""Run records: claims, records and the run index, all plain objects in storage.

Layout under ``runs/``::

    runs/<run_id>/claim.json     create-only: the first delivery of an event claims the run
    runs/<run_id>/record.json    the run record, written when the run ends
    runs/index/<inverted-ms>-<run_id>.json
                                 a small summary per run; key order is newest first, so the
                                 CLI and the dashboard page through runs without reading
                                 every record
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hookline.errors import AlreadyExists, NotFound, PreconditionFailed
from hookline.events import Event, utc_now_iso
from hookline.registry import _dump
from hookline.storage import Storage

__all__ = ["Claim", "RunStore", "summary_of"]

PREFIX = "runs/"
INDEX = "runs/index/"
FINAL = ("succeeded", "rejected", "failed")
_INVERT = 10**13


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of trying to claim a run."""

    acquired: bool
    attempt: int
    state: str
    """``new``, ``restarted`` (a stale or released claim was taken over), ``done``
    (the run already has a final record) or ``in_progress`` (another invocation runs it)."""
    record: Mapping[str, Any] | None = None


def summary_of(record: Mapping[str, Any]) -> dict[str, Any]:
    trigger = record.get("trigger") or {}
    deployments = record.get("deployments") or []
    version = next((d.get("version") for d in deployments if d.get("version")), None)
    return {
        "run_id": record.get("run_id"),
        "pipeline": record.get("pipeline"),
        "model": record.get("model"),
        "status": record.get("status"),
        "started_at": record.get("started_at"),
        "finished_at": record.get("finished_at"),
        "seconds": record.get("seconds"),
        "trigger": trigger.get("uri") or trigger.get("pipeline"),
        "version": version,
        "error": (record.get("error") or {}).get("message"),
    }


def _epoch_ms(iso: str | None) -> int:
    if not iso:
        return int(time.time() * 1000)
    try:
        return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return int(time.time() * 1000)


class RunStore:
    """Claims, records and the index of runs in one storage root."""

    def __init__(self, storage: Storage, *, claim_timeout: float = 900) -> None:
        self.storage = storage
        self.claim_timeout = claim_timeout

    def _claim_key(self, run_id: str) -> str:
        return f"{PREFIX}{run_id}/claim.json"

    def record_key(self, run_id: str) -> str:
        return f"{PREFIX}{run_id}/record.json"

    # -- claiming -------------------------------------------------------------------------

    def claim(self, run_id: str, event: Event, pipeline: str) -> Claim:
        """Claim ``run_id`` with a create-only write.

        A second delivery of the same event finds the claim: it gets ``done`` when the run
        finished, ``in_progress`` while another invocation holds a fresh claim, and takes
        the run over (``restarted``) when the claim is older than ``claim_timeout`` (the
        invocation that held it crashed) or was released after a transient failure.
        """
        doc = {"run_id": run_id, "pipeline": pipeline, "event": event.to_dict(),
               "claimed_at": utc_now_iso(), "claimed_epoch": time.time(), "attempt": 1,
               "owner": f"{socket.gethostname()}:{os.getpid()}", "released": False}
        key = self._claim_key(run_id)
        try:
            self.storage.create(key, _dump(doc))
            return Claim(True, 1, "new")
        except AlreadyExists:
            pass
        record = self.get(run_id, missing_ok=True)
        if record is not None and record.get("status") in FINAL:
            return Claim(False, int(record.get("attempt", 1)), "done", record)
        try:
            raw, info = self.storage.read_with_info(key)
        except NotFound:  # released between our create and read: try once more
            return self.claim(run_id, event, pipeline)
        current = json.loads(raw)
        stale = time.time() - float(current.get("claimed_epoch", 0)) > self.claim_timeout
        if not (current.get("released") or stale):
            return Claim(False, int(current.get("attempt", 1)), "in_progress")
        attempt = int(current.get("attempt", 1)) + 1
        doc["attempt"] = attempt
        doc["previous"] = {k: current.get(k) for k in ("owner", "claimed_at", "last_error")}
        try:
            self.storage.replace(key, _dump(doc), info.etag)
        except PreconditionFailed:
            return Claim(False, attempt, "in_progress")
        return Claim(True, attempt, "restarted")

    def release(self, run_id: str, error: str) -> None:
        """Mark the claim released after a transient failure, so a retry restarts the run."""
        key = self._claim_key(run_id)
        try:
            raw, info = self.storage.read_with_info(key)
            doc = json.loads(raw)
            doc.update(released=True, last_error=error)
            self.storage.replace(key, _dump(doc), info.etag)
        except (NotFound, PreconditionFailed):
            pass

    # -- records --------------------------------------------------------------------------

    def save(self, record: Mapping[str, Any]) -> str:
        """Write the final record, then its index entry; return the record's URI."""
        run_id = str(record["run_id"])
        key = self.record_key(run_id)
        self.storage.write(key, _dump(record))
        inverted = _INVERT - _epoch_ms(record.get("started_at"))
        self.storage.write(f"{INDEX}{inverted:013d}-{run_id}.json", _dump(summary_of(record)))
        return self.storage.url(key)

    def get(self, run_id: str, *, missing_ok: bool = False) -> dict[str, Any] | None:
        if "/" in run_id or not run_id:
            raise NotFound(f"no run {run_id!r}")
        try:
            return dict(json.loads(self.storage.read(self.record_key(run_id))))
        except NotFound:
            if missing_ok:
                return None
            raise NotFound(f"no run {run_id!r}", uri=self.storage.url(self.record_key(run_id)),
                           hint="list runs with `hookline runs`") from None

    def summaries(self, *, pipeline: str | None = None, status: str | None = None,
                  model: str | None = None) -> Iterator[dict[str, Any]]:
        """Run summaries, newest first, filtered; reads one small index object per run."""
        seen: set[str] = set()
        for info in self.storage.list(INDEX):
            run_id = info.key[len(INDEX) + 14:].removesuffix(".json")
            if run_id in seen:  # a restarted run has one entry per attempt: newest wins
                continue
            seen.add(run_id)
            try:
                summary = json.loads(self.storage.read(info.key))
            except NotFound:
                continue
            if pipeline and summary.get("pipeline") != pipeline:
                continue
            if status and summary.get("status") != status:
                continue
            if model and summary.get("model") != model:
                continue
            yield summary
