"""The run record: what one run did, typed, and the recorder that fills it in.

A :class:`RunRecord` is what ``runs/<run_id>/record.json`` holds: the trigger object and the
exact bytes read (lineage), the config hash, plugins and library versions, parameters,
metrics, checks, deployments, monitoring reports, stage timings, the status and the error.
It is also a read-only mapping with the stored JSON's keys, so hooks and tools that read
``record["status"]`` keep working while new code reads ``record.status``.

The runner never builds the record by hand: a :class:`RunRecorder` owns the clock and the
stage being run, and turns each step (stage started, ended, skipped, run failed, finished)
into the record's fields. Nothing private travels inside the record itself.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from hookline.events import utc_now_iso

__all__ = ["FINAL", "RunRecord", "RunRecorder", "describe_error"]

FINAL = ("succeeded", "rejected", "failed")
"""The statuses a finished run ends in."""

_OPTIONAL = (
    "task",
    "rejected_by",
    "finished_at",
    "seconds",
    "notes",
    "sources",
    "unchanged",
    "card",
)
"""Keys written only once they have a value (older records lack them too)."""


@dataclass(eq=False)
class RunRecord(Mapping[str, Any]):
    """One run, as recorded. Field names are the JSON keys.

    :param status: ``running`` while the run is in flight, then one of :data:`FINAL`.
    :param trigger: the triggering event (:meth:`StorageEvent.to_dict`), plus the
        ``sha256``, ``size`` and ``read_version`` of the bytes the run actually read.
    :param stages: stage name to ``{"status": "ok"|"failed"|"skipped", "seconds", ...}``.
    :param checks: every check result (:class:`~hookline.types.CheckResult` as a dict).
    :param deployments: what each ``deploy`` implementation did.
    :param reports: what each ``monitor`` implementation found.
    :param data: the dataset's ``schema``, ``profile`` and ``target``.
    :param error: ``None``, or what failed: message, type, stage, plugin, hook, hint,
        traceback.
    :param sources: every object the run read, in the order ingest read them: ``uri``,
        ``bucket``, ``key``, ``version`` (the object version read), ``sha256``, ``size``,
        ``event_time``, and ``role``: ``trigger`` (the run's own upload), ``window`` (an
        earlier upload of its training window, with the ``run_id`` that first read it) or
        ``added`` (new data a retrain brought); plus ``left_out`` entries with the reason
        for window uploads that could not be read as recorded.
    :param unchanged: set when a training run found a version already trained on exactly
        its data: ``{"version", "run_id", "data_digest"}``; nothing was trained.
    :param card: the model card of the trained model (see :class:`~hookline.types.TrainedModel`).
    :param extra: keys a newer or third-party writer added, kept as they were.
    """

    run_id: str
    pipeline: str
    model: str | None
    project: str
    status: str
    attempt: int
    started_at: str
    trigger: dict[str, Any]
    config_hash: str
    plugins: list[dict[str, Any]] = field(default_factory=list)
    libraries: dict[str, str] = field(default_factory=dict)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    task: str | None = None
    rejected_by: list[str] | None = None
    finished_at: str | None = None
    seconds: float | None = None
    notes: dict[str, Any] | None = None
    sources: list[dict[str, Any]] | None = None
    unchanged: dict[str, Any] | None = None
    card: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- reading ----------------------------------------------------------------------------

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def version(self) -> int | None:
        """The model version the run registered, if it registered one."""
        return next((d.get("version") for d in self.deployments if d.get("version")), None)

    @property
    def data_ok(self) -> bool:
        """Whether the run's data was accepted: it succeeded, or only a model gate
        rejected it (training windows learn from such uploads)."""
        if self.status == "succeeded":
            return True
        if self.status != "rejected":
            return False
        return not any(
            c.get("blocking", True) and not c.get("passed") and c.get("kind") != "model"
            for c in self.checks
        )

    @property
    def inputs(self) -> list[dict[str, Any]]:
        """The uploads this run brought (its trigger, and data a retrain added), as later
        training windows read them back."""
        if self.sources is not None:
            keep = ("uri", "bucket", "key", "version", "sha256", "size", "event_time")
            return [
                {k: s.get(k) for k in keep} | {"run_id": self.run_id}
                for s in self.sources
                if s.get("role") in ("trigger", "added") and s.get("sha256")
            ]
        t = self.trigger
        if t.get("type", "storage") != "storage" or not t.get("sha256"):
            return []
        return [
            {
                "uri": t.get("uri"),
                "bucket": t.get("bucket", ""),
                "key": t.get("key"),
                "version": t.get("read_version") or t.get("version"),
                "sha256": t.get("sha256"),
                "size": t.get("size"),
                "event_time": t.get("event_time"),
                "run_id": self.run_id,
            }
        ]

    def summary(self) -> dict[str, Any]:
        """The small summary the run index keeps (what ``hookline runs`` lists, and what
        training windows read: the uploads the run brought and whether its data counts)."""
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "model": self.model,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "seconds": self.seconds,
            "trigger": self.trigger.get("uri") or self.trigger.get("pipeline"),
            "version": self.version,
            "error": (self.error or {}).get("message"),
            "unchanged": self.unchanged is not None,
            "data_ok": self.data_ok,
            "inputs": self.inputs,
        }

    # -- the mapping view, with the stored JSON's keys ---------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if f.name in _OPTIONAL and value is None:
                continue
            out[f.name] = value
        return {**self.extra, **out}

    def __eq__(self, other: object) -> bool:
        """Equal to any mapping with the same stored keys and values (a read-back dict)."""
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __getitem__(self, key: str) -> Any:
        if key != "extra" and key in _FIELDS:
            value = getattr(self, key)
            if key in _OPTIONAL and value is None:
                raise KeyError(key)
            return value
        return self.extra[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        """A record read back from storage; unknown keys are kept in :attr:`extra`."""
        known = {k: v for k, v in data.items() if k in _FIELDS and k != "extra"}
        extra = {k: v for k, v in data.items() if k not in _FIELDS or k == "extra"}
        known.setdefault("run_id", str(data.get("run_id", "")))
        for name, default in _REQUIRED_DEFAULTS.items():
            known.setdefault(name, default)
        return cls(**known, extra=extra)


_FIELDS = frozenset(f.name for f in fields(RunRecord))
_REQUIRED_DEFAULTS: dict[str, Any] = {
    "pipeline": "",
    "model": None,
    "project": "",
    "status": "unknown",
    "attempt": 1,
    "started_at": "",
    "trigger": {},
    "config_hash": "",
}


def describe_error(exc: BaseException, stage: str | None) -> dict[str, Any]:
    """The ``error`` entry of a failed run: what failed, where, and how to fix it."""
    origin = getattr(exc, "original", None) or exc
    return {
        "message": str(exc),
        "type": type(origin).__name__,
        "stage": stage,
        "plugin": getattr(exc, "plugin", None),
        "hook": getattr(exc, "hook", None),
        "distribution": getattr(exc, "distribution", None),
        "hint": getattr(origin, "hint", None) or getattr(exc, "hint", None),
        "traceback": "".join(traceback.format_exception(origin, limit=8))[-4000:],
    }


class RunRecorder:
    """Fills in one run's record as the run goes: the clock, the stage in flight, timings.

    :param record: the record of a run that just started (status ``running``).
    """

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        self._started = time.perf_counter()
        self._stage: str | None = None
        self._stage_started = 0.0

    @property
    def stage(self) -> str | None:
        """The stage in flight, or ``None`` between stages."""
        return self._stage

    def start_stage(self, stage: str) -> None:
        self._stage = stage
        self._stage_started = time.perf_counter()

    def end_stage(self) -> float:
        """Record the stage in flight as done; return its duration in seconds."""
        seconds = time.perf_counter() - self._stage_started
        if self._stage is not None:
            self.record.stages[self._stage] = {"status": "ok", "seconds": round(seconds, 4)}
        self._stage = None
        return seconds

    def skip_stage(self, stage: str, reason: str) -> None:
        self.record.stages[stage] = {"status": "skipped", "seconds": 0.0, "reason": reason}

    def fail(self, exc: BaseException) -> str | None:
        """Record ``exc`` as the run's error; return the stage it stopped (if any)."""
        stage, self._stage = self._stage, None
        if stage is not None:
            self.record.stages[stage] = {"status": "failed"}
        self.record.error = describe_error(exc, stage)
        return stage

    def finish(self, status: str, notes: Mapping[str, Any] | None = None) -> RunRecord:
        """Set the final status, end time and duration (and the plugins' notes)."""
        self.record.status = status
        self.record.finished_at = utc_now_iso()
        self.record.seconds = round(time.perf_counter() - self._started, 4)
        if notes:
            self.record.notes = dict(notes)
        return self.record
