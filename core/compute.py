"""Compute backends: where a run goes when a function is not enough.

A pipeline's ``compute`` table names a backend and says when to use it::

    [pipelines.train.compute]
    backend = "aws-batch"           # local, aws-batch, sagemaker, cloud-run-job, ...
    when = "auto"                   # always | auto | never
    inline_max_bytes = 104857600    # auto: larger uploads go to a job
    job_queue = "hookline-train"    # the backend's own settings, validated at load
    job_definition = "hookline-train"
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hookline@sha256:..."

Backends come from the entry-point group ``hookline.compute``: ``local`` is built in (a
separate process on the same machine, :class:`LocalBackend`); the clouds' live in their
adapters (``hookline.adapters.aws.compute`` and so on), and a third party adds one the same
way. An entry point names a class whose ``settings`` are :class:`~hookline.config.Option`
declarations, so validating a file imports no SDK; the SDK is imported when a job is
submitted. What happens around the backend -- the dispatch record, leases, job-state
events, the reconciler -- is :mod:`hookline.offload`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from hookline.errors import ConfigError

__all__ = [
    "COMPUTE",
    "ENTRY_POINT_GROUP",
    "WHEN",
    "Backend",
    "ComputeConfig",
    "JobHandle",
    "JobSpec",
    "JobStatus",
    "backend_class",
    "backend_names",
    "check_image",
    "check_nonempty",
    "digest_of_image",
    "job_name",
    "parse_compute",
]

ENTRY_POINT_GROUP = "hookline.compute"
WHEN = ("always", "auto", "never")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def _options() -> dict[str, Any]:
    from hookline.config import Option

    return {
        "backend": Option(str, required=True, help="the compute backend: local, aws-batch, ..."),
        "when": Option(
            str,
            "auto",
            "always: every run is a job; auto: a job when the upload is over "
            "inline_max_bytes or the function died on it; never: in the function",
            choices=WHEN,
        ),
        "inline_max_bytes": Option(
            int, 100 * 1024 * 1024, "auto: uploads larger than this run as a job"
        ),
        "max_runtime_seconds": Option(
            int, 24 * 3600, "the job's time limit (the platform stops it after this)"
        ),
        "heartbeat_seconds": Option(
            int, 60, "the job renews its lease this often; a dead job's lease ends 3x later"
        ),
        "max_attempts": Option(int, 3, "jobs tried per run before the run is recorded failed"),
        "start_timeout_seconds": Option(
            int, 3600, "the reconciler closes a job that has not started after this"
        ),
    }


COMPUTE: tuple[str, ...] = (
    "backend",
    "when",
    "inline_max_bytes",
    "max_runtime_seconds",
    "heartbeat_seconds",
    "max_attempts",
    "start_timeout_seconds",
)
"""The keys every ``compute`` table may hold; a backend adds its own (``settings``)."""

LEASE_HEARTBEATS = 3
"""A job's lease lasts this many heartbeats: one missed renewal is not a death."""


@dataclass(frozen=True, slots=True)
class ComputeConfig:
    """A validated ``compute`` table.

    :param backend: the backend's name (an entry point of ``hookline.compute``).
    :param settings: the backend's own settings, defaults filled in.
    """

    backend: str
    when: str = "auto"
    inline_max_bytes: int = 100 * 1024 * 1024
    max_runtime_seconds: int = 24 * 3600
    heartbeat_seconds: int = 60
    max_attempts: int = 3
    start_timeout_seconds: int = 3600
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def lease_seconds(self) -> int:
        """How long a job's lease lasts past each heartbeat."""
        return self.heartbeat_seconds * LEASE_HEARTBEATS

    @property
    def image(self) -> str | None:
        """The job image by digest (``REPO@sha256:...``), when the backend takes one."""
        image = self.settings.get("image")
        return str(image) if image else None

    @property
    def image_digest(self) -> str | None:
        """The ``sha256:...`` digest the job must run from (``None``: not checked)."""
        return digest_of_image(self.image) if self.image else None


def digest_of_image(reference: str) -> str | None:
    """``sha256:...`` of an image reference by digest, else ``None``."""
    _, sep, digest = reference.rpartition("@")
    return digest if sep and _DIGEST.match(digest) else None


# --- what a backend is ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One job to submit: a run, one attempt.

    :param run_id: the run the job runs.
    :param pipeline: its pipeline.
    :param attempt: 1 for the first job of the run, then 2, 3... up to ``max_attempts``.
    :param name: the job's name (:func:`job_name`): the platform shows it, job-state
        events carry it.
    :param command: what the job runs (``hookline job run``), for backends that say it.
    :param env: variables the job needs (``HOOKLINE_RUN_ID``, ``HOOKLINE_ATTEMPT``,
        ``HOOKLINE_JOB_NAME``, and the storage root and configuration when the
        dispatcher has them set).
    :param max_runtime_seconds: the platform's time limit for the job.
    :param image: the image by digest, for backends that take it per job.
    :param config: where the dispatcher read its configuration (a path or URI), for
        backends that run the job beside it (``local``).
    """

    run_id: str
    pipeline: str
    attempt: int
    name: str
    command: tuple[str, ...]
    env: Mapping[str, str]
    max_runtime_seconds: int
    image: str | None = None
    config: str | None = None


@dataclass(frozen=True, slots=True)
class JobHandle:
    """What a backend answers a submission with, kept in the dispatch record.

    :param backend: the backend's name.
    :param name: the job's name.
    :param id: the platform's id of the job (Batch job id, training job ARN, execution
        name, process id).
    :param details: anything else the backend needs to look the job up again.
    """

    backend: str
    name: str
    id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "name": self.name,
            "id": self.id,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobHandle:
        return cls(
            str(data.get("backend", "")),
            str(data.get("name", "")),
            data.get("id"),
            dict(data.get("details") or {}),
        )


@dataclass(frozen=True, slots=True)
class JobStatus:
    """What the platform says of a job now (the reconciler asks).

    :param state: ``pending`` (queued, starting), ``running``, ``succeeded``,
        ``failed``, or ``unknown`` (the platform has no such job).
    :param reason: the platform's words (status reason, exit code).
    :param platform_status: the platform's own status name.
    """

    state: str
    reason: str = ""
    platform_status: str | None = None


@runtime_checkable
class Backend(Protocol):
    """A compute backend. The class named by the entry point is instantiated once per
    pipeline with its validated settings; SDK clients are made on first use.

    :cvar name: the backend's name, as written in ``compute.backend``.
    :cvar settings: its own keys of the ``compute`` table (:class:`~hookline.config.Option`).
    :cvar events: how its failures come back: ``events`` (the platform emits job-state
        events the pipeline function receives) or ``reconciler`` (only the schedule finds
        them).
    """

    name: ClassVar[str]
    settings: ClassVar[Mapping[str, Any]]
    events: ClassVar[str]

    def submit(self, job: JobSpec) -> JobHandle:
        """Start ``job``.

        :raises TransientError: the platform is throttling or unreachable (the delivery
            is retried).
        :raises HooklineError: the platform refused the job (the run is recorded failed).
        """
        ...

    def find(self, name: str) -> JobHandle | None:
        """The job called ``name`` if the platform has it (a submission whose answer was
        lost must not be submitted twice); ``None`` when it cannot tell or has none."""
        ...

    def status(self, handle: JobHandle) -> JobStatus:
        """What the platform says of the job now."""
        ...

    def cancel(self, handle: JobHandle, reason: str) -> None:
        """Stop the job (it never started, or its attempt was given up)."""
        ...


# --- names ------------------------------------------------------------------------------


def job_name(run_id: str, attempt: int) -> str:
    """The job name of one attempt of ``run_id``: derived, never random, so the job is
    found again from the run, and short and plain enough for every platform (SageMaker
    allows 63 characters, letters, digits and ``-``)."""
    pipeline, sep, digest = run_id.rpartition("-")
    if not (sep and len(digest) == 20 and all(c in "0123456789abcdef" for c in digest)):
        pipeline, digest = run_id, hashlib.sha256(run_id.encode()).hexdigest()[:20]
    slug = re.sub(r"[^a-z0-9]+", "-", pipeline.lower()).strip("-")[:34].strip("-")
    return "-".join(part for part in ("hl", slug, digest, str(int(attempt))) if part)


# --- loading backends -------------------------------------------------------------------

_BUILTIN = {"local": "hookline._local_jobs:LocalBackend"}


def backend_names() -> list[str]:
    """The backends installed (entry points of ``hookline.compute``, ``local`` first)."""
    from hookline._entrypoints import entry_points

    names = list(_BUILTIN)
    for ep in entry_points(ENTRY_POINT_GROUP):
        if ep.name not in names:
            names.append(ep.name)
    return names


def backend_class(name: str, *, key: str = "compute.backend", source: str | None = None) -> Any:
    """The backend class called ``name``.

    :raises ConfigError: no such backend is installed, or its module cannot be imported
        (the error names the key and what to install).
    """
    from hookline._entrypoints import EntryPoint, entry_points

    found = {ep.name: ep for ep in entry_points(ENTRY_POINT_GROUP)}
    for builtin, value in _BUILTIN.items():
        found.setdefault(builtin, EntryPoint(builtin, value, ENTRY_POINT_GROUP))
    ep = found.get(name)
    if ep is None:
        import difflib

        guess = difflib.get_close_matches(name, list(found), n=1)
        raise ConfigError(
            f"unknown compute backend {name!r}"
            + (f" (did you mean {guess[0]!r}?)" if guess else ""),
            key=key,
            source=source,
            hint=f"installed backends: {', '.join(sorted(found))}",
        )
    try:
        cls = ep.load()
    except ImportError as exc:
        raise ConfigError(
            f"compute backend {name!r} cannot be loaded: {exc}",
            key=key,
            source=source,
            hint="install the adapter it belongs to, e.g. pip install 'hookline[aws]'",
        ) from exc
    if not isinstance(getattr(cls, "settings", None), Mapping):
        raise ConfigError(
            f"compute backend {name!r} ({ep.value}) declares no settings",
            key=key,
            source=source,
        )
    return cls


def parse_compute(table: Any, path: str, source: str | None) -> ComputeConfig:
    """Validate one ``compute`` table: the common keys, then the backend's own.

    :raises ConfigError: a key is unknown, missing, of the wrong type or out of range; the
        message names it by its dotted path (``pipelines.train.compute.job_queue``).
    """
    from hookline.config import check_table

    if not isinstance(table, dict):
        raise ConfigError(f"expected a table, got {type(table).__name__}", key=path, source=source)
    backend = table.get("backend")
    if not isinstance(backend, str) or not backend:
        raise ConfigError(
            "missing required key (the compute backend: " + ", ".join(backend_names()) + ")",
            key=f"{path}.backend",
            source=source,
        )
    cls = backend_class(backend, key=f"{path}.backend", source=source)
    common = _options()
    own: Mapping[str, Any] = cls.settings
    clash = sorted(set(own) & set(common))
    if clash:
        raise ConfigError(
            f"compute backend {backend!r} redeclares {', '.join(clash)}",
            key=f"{path}.backend",
            source=source,
        )
    values = check_table(table, {**common, **own}, path, source)
    for name, low in (
        ("inline_max_bytes", 0),
        ("max_runtime_seconds", 1),
        ("heartbeat_seconds", 1),
        ("max_attempts", 1),
        ("start_timeout_seconds", 1),
    ):
        if values[name] < low:
            raise ConfigError(
                f"expected at least {low}, got {values[name]}", key=f"{path}.{name}", source=source
            )
    settings = {k: values[k] for k in own}
    check = getattr(cls, "check", None)
    if callable(check):
        check(settings, path, source)
    return ComputeConfig(
        backend=backend,
        when=values["when"],
        inline_max_bytes=values["inline_max_bytes"],
        max_runtime_seconds=values["max_runtime_seconds"],
        heartbeat_seconds=values["heartbeat_seconds"],
        max_attempts=values["max_attempts"],
        start_timeout_seconds=values["start_timeout_seconds"],
        settings=settings,
    )


def check_image(
    settings: Mapping[str, Any], path: str, source: str | None, *, required: bool
) -> None:
    """For a backend's ``check``: ``image`` is a reference by digest (``REPO@sha256:...``)."""
    image = settings.get("image")
    if image is None:
        if required:
            raise ConfigError(
                "missing required key (the job image by digest, REPO@sha256:...)",
                key=f"{path}.image",
                source=source,
            )
        return
    if digest_of_image(str(image)) is None:
        raise ConfigError(
            f"expected an image by digest (REPO@sha256:<64 hex digits>), got {image!r}",
            key=f"{path}.image",
            source=source,
            hint="a tag can move between the dispatch and the job: use the digest that "
            "`hookline package --format image` writes in the bundle manifest",
        )


def check_nonempty(
    settings: Mapping[str, Any], names: Sequence[str], path: str, source: str | None
) -> None:
    """For a backend's ``check``: the string settings ``names`` are not empty."""
    for name in names:
        value = settings.get(name)
        if isinstance(value, str) and not value.strip():
            raise ConfigError("expected a non-empty string", key=f"{path}.{name}", source=source)
