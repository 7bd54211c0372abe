"""Retrain requests: monitoring opens them, a promotion or ``hookline retrain`` closes them.

A request is one object at ``monitoring/<model>/retrain/<request id>.json``
(:func:`hookline.layout.retrain_key`) with ``"status": "open"``, then ``"done"`` with who
fulfilled it, when, and the outcome. At most one request per model is open at a time:
a drift alarm on every scoring batch of a bad day asks once. Every change is a conditional
write, so two closers never both claim the same request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hookline import jsonio, layout
from hookline.errors import AlreadyExists, NotFound, PreconditionFailed
from hookline.events import utc_now_iso
from hookline.storage import Storage

__all__ = ["RetrainRequest", "RetrainRequests"]


@dataclass(frozen=True, slots=True)
class RetrainRequest:
    """One stored request.

    :param key: its storage key.
    :param doc: the stored document (``model``, ``status``, ``reason``, ``run_id`` of the
        monitoring run that asked, ``version`` it watched, ``features``, ``report``...).
    :param etag: the stored version, for the conditional write that closes it.
    """

    key: str
    doc: Mapping[str, Any]
    etag: str

    @property
    def id(self) -> str:
        return self.key.rsplit("/", 1)[-1].removesuffix(".json")

    @property
    def status(self) -> str:
        return str(self.doc.get("status", "open"))


class RetrainRequests:
    """The retrain requests in one storage root."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def find(self, model: str, *, status: str | None = None) -> list[RetrainRequest]:
        """The model's requests, oldest first (ids sort by time of the run that asked)."""
        found = []
        for info in self.storage.list(layout.retrain_prefix(model)):
            if not info.key.endswith(".json"):
                continue
            try:
                raw, meta = self.storage.read_with_info(info.key)
                doc = jsonio.loads(raw)
            except (NotFound, ValueError):
                continue
            if not isinstance(doc, dict):
                continue
            request = RetrainRequest(info.key, doc, meta.etag)
            if status is None or request.status == status:
                found.append(request)
        return sorted(found, key=lambda r: (str(r.doc.get("requested_at", "")), r.key))

    def open(
        self,
        model: str,
        *,
        request_id: str,
        reason: str,
        version: int | None,
        features: Sequence[str] = (),
        report: str | None = None,
        batch: Mapping[str, Any] | None = None,
    ) -> str:
        """Ask for a retrain, unless a request of ``model`` is already open.

        :param request_id: the asking run's id (a redelivery of that run asks no twice).
        :param batch: the batch that drifted, as the run read it (``uri``, ``bucket``,
            ``key``, ``version``, ``sha256``, ``size``, ``event_time``, and ``labelled``:
            whether it carries the label). Labelled batches are new data a retrain learns
            from; the open request collects every one of them (``batches``).
        :returns: the URI of the open request (the new one, or the one already open).
        """
        already = self.find(model, status="open")
        if already:
            if batch is not None and batch.get("labelled"):
                self._add_batch(already[0], batch)
            return self.storage.url(already[0].key)
        key = layout.retrain_key(model, request_id)
        doc = {
            "model": model,
            "requested_at": utc_now_iso(),
            "reason": reason,
            "run_id": request_id,
            "status": "open",
            "features": list(features),
            "version": version,
            "report": report,
            "batches": [dict(batch)] if batch is not None else [],
        }
        try:
            self.storage.create(key, jsonio.dumps(doc))
        except AlreadyExists:
            pass  # a redelivery of this run already asked
        return self.storage.url(key)

    def _add_batch(self, request: RetrainRequest, batch: Mapping[str, Any]) -> None:
        """Add a labelled batch to an open request (compare-and-swap; a request closed
        meanwhile is left alone)."""
        for _ in range(5):
            batches = list(request.doc.get("batches") or [])
            if any(b.get("sha256") == batch.get("sha256") for b in batches):
                return
            doc = {**request.doc, "batches": [*batches, dict(batch)]}
            try:
                self.storage.replace(request.key, jsonio.dumps(doc), request.etag)
                return
            except PreconditionFailed:
                pass
            except NotFound:
                return
            try:
                raw, info = self.storage.read_with_info(request.key)
            except NotFound:
                return
            request = RetrainRequest(request.key, jsonio.loads(raw), info.etag)
            if request.status != "open":
                return

    def close(
        self, request: RetrainRequest, *, by_run: str, outcome: str, version: int | None = None
    ) -> bool:
        """Mark ``request`` done by run ``by_run``; ``False`` when someone closed it first."""
        doc = {
            **request.doc,
            "status": "done",
            "fulfilled_by": by_run,
            "fulfilled_at": utc_now_iso(),
            "outcome": outcome,
        }
        if version is not None:
            doc["version"] = version
        try:
            self.storage.replace(request.key, jsonio.dumps(doc), request.etag)
        except (PreconditionFailed, NotFound):
            return False
        return True

    def close_open(
        self,
        model: str,
        *,
        by_run: str,
        outcome: str,
        version: int | None = None,
        requests: Iterable[RetrainRequest] | None = None,
    ) -> list[str]:
        """Close the model's open requests (or ``requests``); return the URIs this call
        closed."""
        pending = self.find(model, status="open") if requests is None else [*requests]
        return [
            self.storage.url(r.key)
            for r in pending
            if self.close(r, by_run=by_run, outcome=outcome, version=version)
        ]
