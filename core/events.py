"""The cloud-neutral events hookline runs on.

Every trigger -- an S3 notification, a GCS CloudEvent, an Azure Event Grid event, a file
dropped in a local folder -- becomes exactly one :class:`StorageEvent` per object. Schedules
(EventBridge Scheduler, Cloud Scheduler, the Azure timer) become a :class:`ScheduleEvent`.
Two kinds concern runs handed to a job (see :mod:`hookline.offload`): a platform's report
that a job changed state (AWS Batch and SageMaker through EventBridge, the ``local``
backend's supervisor) becomes a :class:`JobEvent`, and the reconciler's schedule a
:class:`ReconcileEvent`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "JOB_STATES",
    "Event",
    "JobEvent",
    "ReconcileEvent",
    "RunEvent",
    "ScheduleEvent",
    "StorageEvent",
    "event_from_dict",
    "skip_reason",
    "utc_now_iso",
]


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class StorageEvent:
    """An object was created.

    :param uri: the object's full URI, percent-encoded, e.g.
        ``s3://bucket/landing/train/a%20b.csv``.
    :param bucket: bucket or container name (empty for local folders).
    :param key: the object key, decoded once (``a b.csv``, never ``a+b.csv``).
    :param size: size in bytes as the event reported it (``None`` when it did not).
    :param etag: the object's ETag / MD5 / content token, when reported.
    :param version: S3 versionId, GCS generation, or another per-write identifier.
    :param event_time: when the object was created, ISO 8601 UTC.
    :param event_id: the platform's id for this delivery (S3 sequencer, CloudEvent id, ...).
    :param source: where the event came from: ``aws``, ``gcp``, ``azure`` or ``local``.
    :param replay: set when an operator replays the object on purpose (see below).
    """

    uri: str
    bucket: str
    key: str
    size: int | None = None
    etag: str | None = None
    version: str | None = None
    event_time: str = field(default_factory=utc_now_iso)
    event_id: str | None = None
    source: str = "local"
    replay: str | None = None
    """Set when an operator deliberately runs an object again (``hookline retrain``): part
    of the identity, so a replay is a new run while redeliveries stay duplicates."""

    @property
    def identity(self) -> str:
        """A string that names this exact object version.

        Two deliveries of the same upload share it; a new upload of the same key does not
        (its version, generation or etag differs).
        """
        if self.version:
            token = self.version
        elif self.etag and self.event_id:
            # Unversioned S3: the same bytes uploaded again keep their ETag, but each upload
            # has its own sequencer; a redelivery repeats both.
            token = f"{self.etag}@{self.event_id}"
        else:
            token = self.etag or self.event_id or self.event_time
        return f"{self.uri}#{token}" + (f"!{self.replay}" if self.replay else "")

    def run_id(self, pipeline: str) -> str:
        """The run id of ``pipeline`` on this object version: derived, never random, so a
        second delivery finds the first one's run."""
        import hashlib

        digest = hashlib.sha256(f"{pipeline}\n{self.identity}".encode()).hexdigest()
        return f"{pipeline}-{digest[:20]}"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "storage", **asdict(self)}


@dataclass(frozen=True, slots=True)
class ScheduleEvent:
    """A schedule fired for a named pipeline (e.g. nightly monitoring).

    :param pipeline: the pipeline to run.
    :param event_time: when the schedule fired, ISO 8601 UTC.
    :param event_id: the platform's id for this firing; deliveries with the same id are
        the same run.
    :param source: ``aws``, ``gcp``, ``azure`` or ``local``.
    """

    pipeline: str
    event_time: str = field(default_factory=utc_now_iso)
    event_id: str | None = None
    source: str = "local"

    @property
    def identity(self) -> str:
        return f"schedule:{self.pipeline}#{self.event_id or self.event_time}"

    def run_id(self, pipeline: str) -> str:
        import hashlib

        digest = hashlib.sha256(f"{pipeline}\n{self.identity}".encode()).hexdigest()
        return f"{pipeline}-{digest[:20]}"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "schedule", **asdict(self)}


JOB_STATES = ("pending", "running", "succeeded", "failed")
"""The states a job reports, whatever the platform calls them."""


@dataclass(frozen=True, slots=True)
class JobEvent:
    """A platform reports that a job hookline submitted changed state.

    Only what decides the run's fate is kept; the platform's own words travel in
    ``reason`` and ``platform_status``.

    :param backend: the compute backend (``aws-batch``, ``sagemaker``, ``local``...).
    :param job_name: the name hookline gave the job (derived from the run id).
    :param state: one of :data:`JOB_STATES`.
    :param job_id: the platform's id of the job (Batch job id, training job ARN...).
    :param reason: why, in the platform's words (``statusReason``, ``FailureReason``,
        an exit code or signal).
    :param platform_status: the platform's own status (``FAILED``, ``Stopped``...).
    :param event_time: when the platform emitted it, ISO 8601 UTC.
    :param event_id: the platform's id of the event (deliveries repeat it).
    :param source: ``aws``, ``gcp``, ``azure`` or ``local``.
    """

    backend: str
    job_name: str
    state: str
    job_id: str | None = None
    reason: str = ""
    platform_status: str | None = None
    event_time: str = field(default_factory=utc_now_iso)
    event_id: str | None = None
    source: str = "local"

    @property
    def identity(self) -> str:
        return f"job:{self.backend}:{self.job_name}#{self.state}"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "job", **asdict(self)}


@dataclass(frozen=True, slots=True)
class ReconcileEvent:
    """The reconciler's schedule fired: visit every job in flight and close those the
    platform says are gone, stuck or never started (for platforms that emit no job-state
    events, and for events that were lost).

    :param event_time: when the schedule fired, ISO 8601 UTC.
    :param event_id: the platform's id for this firing.
    :param source: ``aws``, ``gcp``, ``azure`` or ``local``.
    """

    event_time: str = field(default_factory=utc_now_iso)
    event_id: str | None = None
    source: str = "local"

    @property
    def identity(self) -> str:
        return f"reconcile#{self.event_id or self.event_time}"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "reconcile", **asdict(self)}


RunEvent = StorageEvent | ScheduleEvent
"""What a run runs on: the events that route to pipelines and name runs."""

Event = StorageEvent | ScheduleEvent | JobEvent | ReconcileEvent
"""Every event a pipeline function handles."""


def skip_reason(event: Event, *, skip_empty: bool = True) -> str | None:
    """Why no pipeline runs on ``event``, or ``None`` to route it -- the one "skip this
    event" rule, applied by :meth:`hookline.runner.Hookline.route` on every trigger.

    Folder placeholders (keys ending in ``/``, which consoles and Data Lake tools create) are
    never run; zero-byte objects (gcsfuse-style writers and ADLS ``CreateFile`` announce an
    empty object before the real one) are skipped unless ``[limits] skip_empty_objects`` is
    off (``skip_empty=False``). Schedules are never skipped.
    """
    if not isinstance(event, StorageEvent):
        return None
    if event.key.endswith("/"):
        return f"{event.uri} is a folder placeholder (its key ends with '/'): skipped"
    if skip_empty and event.size == 0:
        return f"{event.uri} is empty (zero bytes): skipped"
    return None


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from the ``to_dict()`` of any event kind."""
    data = dict(data)
    kind = data.pop("type", "storage")
    if kind == "schedule":
        return ScheduleEvent(**data)
    if kind == "job":
        return JobEvent(**data)
    if kind == "reconcile":
        return ReconcileEvent(**data)
    return StorageEvent(**data)
