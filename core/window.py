"""Training windows: which earlier uploads a training run learns from besides its own.

A training pipeline may set ``window`` in ``hookline.toml``::

    [pipelines.train]
    window = { uploads = 5 }     # this upload and the 4 before it
    window = { days = 30 }       # the uploads of the 30 days up to this one
    window = "all"               # every upload so far

Without it, a run learns from its own upload alone. The window is read from the run
records, never from a listing of the landing prefix: each earlier run recorded the exact
object it read (URI, object version, sha256, size), and the window reads those versions
and checks their bytes, so a later overwrite of a key cannot change what an earlier upload
contributes. An upload whose recorded bytes can no longer be read (overwritten on a store
that keeps no versions, or deleted) is left out and named in the run record, never replaced
by the newer bytes.

Only uploads whose data was accepted count: runs that succeeded, or were rejected by a
model gate only (the data was fine; the model was not better). Runs that failed, and runs
rejected by a data check, contribute nothing. The same bytes count once.

A run's *training data* is the set of sha256 digests it read, under one configuration: its
:func:`data_digest`. When a version of the model was already trained on exactly that, the
run trains nothing (``unchanged``), unless it is asked to (``--force``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hookline import jsonio
from hookline.errors import ConfigError, DataError

if TYPE_CHECKING:
    from hookline.record import RunRecord
    from hookline.runs import RunStore
    from hookline.storage import Storage
    from hookline.types import RunContext, Source

__all__ = [
    "Window",
    "WindowEntry",
    "data_digest",
    "fetch_entries",
    "gather",
    "mark_trained_on",
    "parse_window",
    "select",
    "source_doc",
    "trained_on",
]

_PAGE = 200


@dataclass(frozen=True, slots=True)
class Window:
    """How far back a training run reaches: the last ``uploads`` uploads (this one
    included), the uploads of the last ``days`` days, or every upload (both ``None``)."""

    uploads: int | None = None
    days: float | None = None

    def describe(self) -> str:
        if self.uploads is not None:
            return f"the last {self.uploads} upload(s)"
        if self.days is not None:
            return f"the uploads of the last {self.days:g} day(s)"
        return "every upload"

    def to_dict(self) -> dict[str, Any]:
        if self.uploads is not None:
            return {"uploads": self.uploads}
        if self.days is not None:
            return {"days": self.days}
        return {"all": True}


@dataclass(frozen=True, slots=True)
class WindowEntry:
    """One upload as a run recorded it: enough to read exactly those bytes again.

    :param bucket: the event's bucket (empty for local folders).
    :param key: the event's object key (relative to its bucket).
    :param version: the object version that was read (version id, generation or etag).
    :param event_time: when the object was created, ISO 8601 UTC.
    :param run_id: the run that first read it.
    """

    uri: str
    bucket: str
    key: str
    version: str | None
    sha256: str
    size: int | None
    event_time: str
    run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "bucket": self.bucket,
            "key": self.key,
            "version": self.version,
            "sha256": self.sha256,
            "size": self.size,
            "event_time": self.event_time,
            "run_id": self.run_id,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> WindowEntry | None:
        """An entry from a run summary's ``inputs``; ``None`` when it cannot be read back."""
        if not doc.get("uri") or not doc.get("sha256") or doc.get("key") is None:
            return None
        return cls(
            uri=str(doc["uri"]),
            bucket=str(doc.get("bucket") or ""),
            key=str(doc["key"]),
            version=doc.get("version"),
            sha256=str(doc["sha256"]),
            size=doc.get("size"),
            event_time=str(doc.get("event_time") or ""),
            run_id=doc.get("run_id"),
        )


def parse_window(value: Any, *, key: str, source: str | None) -> Window | None:
    """``window`` of a pipeline table: ``"all"``, ``{ uploads = N }`` or ``{ days = N }``.

    :raises ConfigError: anything else, naming ``key``.
    """
    if value is None:
        return None
    hint = 'use window = { uploads = 5 }, window = { days = 30 } or window = "all"'
    if value == "all":
        return Window()
    if isinstance(value, Mapping) and len(value) == 1:
        (name, number), *_ = value.items()
        ok = isinstance(number, int | float) and not isinstance(number, bool) and number > 0
        if name == "uploads" and ok and isinstance(number, int):
            return Window(uploads=int(number))
        if name == "days" and ok:
            return Window(days=float(number))
    raise ConfigError(
        f"expected a training window, got {value!r}", key=key, source=source, hint=hint
    )


def data_digest(sha256s: Iterable[str], config_hash: str) -> str:
    """The identity of a run's training data: the set of digests it read (order and
    repeats do not matter) under one configuration."""
    return jsonio.digest({"data": sorted(set(sha256s)), "config": config_hash})


def _history(store: RunStore, pipeline: str) -> Iterator[dict[str, Any]]:
    """The pipeline's run summaries, newest first, page by page."""
    cursor = None
    while True:
        page = store.page(_PAGE, after=cursor, pipeline=pipeline)
        yield from page.runs
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _inputs(store: RunStore, summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The uploads a run brought, and whether its data was accepted (old index entries
    lack both: the record says)."""
    if "inputs" in summary:
        return list(summary["inputs"] or []) if summary.get("data_ok") else []
    record = store.get(str(summary["run_id"]), missing_ok=True)
    if record is None:
        return []
    own = record.summary()
    return list(own["inputs"] or []) if own.get("data_ok") else []


def _epoch(iso: str) -> float | None:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        return None


def select(
    store: RunStore,
    pipeline: str,
    window: Window,
    *,
    now: str,
    exclude: Iterable[str] = (),
    run_id: str | None = None,
) -> list[WindowEntry]:
    """The earlier uploads of ``pipeline`` that ``window`` adds to a run, oldest first.

    :param now: the run's own upload time (ISO 8601): ``days`` count back from it.
    :param exclude: sha256 digests the run reads anyway (its own upload).
    :param run_id: the run itself, whose own earlier attempts never count.
    """
    seen = set(exclude)
    wanted = None if window.uploads is None else window.uploads - len(seen)
    horizon = None
    if window.days is not None:
        end = _epoch(now)
        horizon = None if end is None else end - timedelta(days=window.days).total_seconds()
    chosen: list[WindowEntry] = []
    for summary in _history(store, pipeline):
        if wanted is not None and len(chosen) >= wanted:
            break
        if summary.get("run_id") == run_id:
            continue
        started = _epoch(str(summary.get("started_at") or ""))
        if horizon is not None and started is not None and started < horizon:
            break  # a run starts after its upload: this one and every older are too old
        for doc in _inputs(store, summary):
            entry = WindowEntry.from_dict({**doc, "run_id": doc.get("run_id") or summary["run_id"]})
            if entry is None or entry.sha256 in seen:
                continue
            if horizon is not None:
                at = _epoch(entry.event_time)
                if at is not None and at < horizon:
                    continue
            seen.add(entry.sha256)
            chosen.append(entry)
    if wanted is not None:
        chosen = chosen[: max(wanted, 0)]
    return sorted(chosen, key=lambda e: e.event_time)


def source_doc(source: Source, entry: WindowEntry | Mapping[str, Any], role: str) -> dict[str, Any]:
    """A run record's ``sources`` entry for bytes read from ``entry`` (a window entry, or
    the trigger event's fields)."""
    get = entry.to_dict().get if isinstance(entry, WindowEntry) else entry.get
    doc = {
        "uri": source.uri,
        "bucket": get("bucket") or "",
        "key": get("key"),
        "version": source.version,
        "sha256": source.sha256,
        "size": source.size,
        "event_time": get("event_time"),
        "role": role,
    }
    if role != "trigger" and get("run_id"):
        doc["run_id"] = get("run_id")
    return doc


def fetch_entries(
    entries: Sequence[WindowEntry],
    locate: Callable[[WindowEntry], tuple[Storage, str]],
    workdir: str,
    *,
    limit: int,
) -> tuple[list[tuple[WindowEntry, Source]], list[dict[str, Any]]]:
    """Read each entry's recorded version and check its bytes.

    :param locate: the storage and key an entry's object lives at.
    :returns: the entries read with their local copies, and a ``left_out`` record entry
        (with the reason) for each one whose recorded bytes cannot be read any more.
    """
    from hookline.storage import fetch_source

    read: list[tuple[WindowEntry, Source]] = []
    left_out: list[dict[str, Any]] = []
    for number, entry in enumerate(entries):
        folder = os.path.join(workdir, f"window-{number:04d}")
        os.makedirs(folder, exist_ok=True)
        storage, key = locate(entry)
        try:
            source = fetch_source(
                storage,
                key,
                folder,
                limit=limit,
                uri=entry.uri,
                version=entry.version,
                sha256=entry.sha256,
            )
        except DataError as exc:
            left_out.append({**entry.to_dict(), "role": "left_out", "reason": exc.message})
            continue
        read.append((entry, source))
    return read, left_out


def gather(
    ctx: RunContext,
    record: RunRecord,
    runs: RunStore,
    locate: Callable[[WindowEntry], tuple[Storage, str]],
    workdir: str,
    *,
    limit: int,
    added: Sequence[WindowEntry] = (),
) -> None:
    """Read a training run's window (and a retrain's added data) by their recorded
    versions into ``ctx.window`` and ``ctx.sources`` (the trigger is already there), and
    list every object read, and every one left out, in the record's ``sources``."""
    from hookline.events import utc_now_iso

    event = ctx.storage_event
    docs = [source_doc(s, event.to_dict(), "trigger") for s in ctx.sources if event]
    window = ctx.pipeline.window if ctx.pipeline.trains else None
    if window is None and not added:
        record.sources = docs or None
        return
    own = {s.sha256 for s in ctx.sources}
    entries: list[WindowEntry] = []
    if window is not None:
        now = event.event_time if event else utc_now_iso()
        entries = select(runs, ctx.pipeline.name, window, now=now, exclude=own, run_id=ctx.run_id)
    taken = own | {e.sha256 for e in entries}
    extra = [e for e in added if e.sha256 not in taken]
    read, left_out = fetch_entries([*entries, *extra], locate, workdir, limit=limit)
    for entry, source in sorted(read, key=lambda pair: pair[0].event_time):
        ctx.window.append(source)
        ctx.sources.append(source)
        docs.append(source_doc(source, entry, "added" if entry in extra else "window"))
    for gone in left_out:
        ctx.log.warning("window: left out %s: %s", gone["uri"], gone["reason"])
    record.sources = docs + left_out
    if window is not None:
        ctx.log.info(
            "window: %s: %d earlier upload(s) read, %d left out",
            window.describe(),
            len(read),
            len(left_out),
        )


def trained_on(ctx: RunContext, config_hash: str) -> dict[str, Any] | None:
    """The version of the run's model already trained on exactly the run's data (its
    sources under this configuration), as the record's ``unchanged`` entry; else ``None``."""
    if not ctx.sources:
        return None
    digest = data_digest((s.sha256 for s in ctx.sources), config_hash)
    version = ctx.registry.trained_on(ctx.model_name, digest)
    if version is None:
        return None
    aliases = sorted(
        name
        for name, state in ctx.registry.aliases(ctx.model_name).items()
        if state.version == version.version
    )
    return {
        "model": ctx.model_name,
        "version": version.version,
        "run_id": version.manifest.get("run_id"),
        "aliases": aliases,
        "data_digest": digest,
    }


def mark_trained_on(ctx: RunContext, version: int | None, config_hash: str) -> None:
    """After a run registered ``version``, name it as trained on the run's data, so the
    next run on exactly that data trains nothing."""
    if version is None or not ctx.sources:
        return
    digest = data_digest((s.sha256 for s in ctx.sources), config_hash)
    ctx.registry.mark_trained_on(ctx.model_name, int(version), digest)
