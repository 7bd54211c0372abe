"""The values that flow between lifecycle stages.

Everything a hook receives or returns is one of these frozen dataclasses, so a plugin can
rely on the shape and the run record can serialise it. Fields typed ``Any`` hold library
objects (a pandas ``DataFrame``, a scikit-learn estimator) that the core never imports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from hookline.events import Event, StorageEvent

if TYPE_CHECKING:
    import logging

    from hookline.config import Config, PipelineConfig
    from hookline.registry import Registry
    from hookline.storage import Storage

__all__ = [
    "AliasMove",
    "CheckResult",
    "Dataset",
    "Deployment",
    "ModelVersion",
    "MonitorReport",
    "RunContext",
    "Source",
    "Task",
    "TrainedModel",
    "VersionMeta",
]

Task = Literal["classification", "regression"]


@dataclass(frozen=True, slots=True)
class Source:
    """The triggering object's exact bytes, fetched once and checksummed by the core.

    :param uri: the object's URI.
    :param path: a local file holding exactly those bytes (read it, do not move it).
    :param size: size in bytes.
    :param sha256: hex digest of the bytes: the lineage anchor of every model.
    :param version: the object version that was read (version id, generation or etag).
    """

    uri: str
    path: str
    size: int
    sha256: str
    version: str | None = None

    @property
    def suffix(self) -> str:
        name = self.uri.rsplit("/", 1)[-1]
        return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""

    def open(self) -> BinaryIO:
        return open(self.path, "rb")


@dataclass(frozen=True, slots=True)
class Dataset:
    """A table read by ``ingest``.

    :param frame: the data; a ``pandas.DataFrame`` for the built-in plugins.
    :param schema: column names to ``{"dtype": ..., ...}``, plus ``target`` when known.
    :param profile: row count, nulls and per-column statistics, for the run record.
    :param target: the label column, or ``None`` for unlabelled (scoring) data.
    :param source: the object it was read from (``None`` for scheduled runs).
    :param sources: every object read, when the dataset spans several (scheduled runs).
    """

    frame: Any
    schema: Mapping[str, Any]
    profile: Mapping[str, Any]
    target: str | None
    source: Source | None
    sources: Sequence[Source] = ()


@dataclass(frozen=True, slots=True)
class TrainedModel:
    """What ``train`` produces.

    :param estimator: the fitted model (a scikit-learn estimator for the built-ins).
    :param task: ``classification`` or ``regression``.
    :param features: the training feature schema, name to ``{"dtype", "categories"?, ...}``;
        serving derives its request model from it.
    :param target: the label column.
    :param metrics: hold-out metrics, name to value.
    :param params: the estimator's parameters, for the run record.
    :param reference_profile: per-feature statistics of the training data, for drift.
    :param holdout: the hold-out split ``(X, y)`` so gates can compare models on the same
        rows; never serialised.
    :param flavor: how the estimator is serialised (``sklearn`` means skops).
    """

    estimator: Any
    task: Task
    features: Mapping[str, Any]
    target: str | None
    metrics: Mapping[str, float]
    params: Mapping[str, Any]
    reference_profile: Mapping[str, Any]
    holdout: Any = None
    flavor: str = "sklearn"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One gate's verdict, as ``validate`` returns it.

    :param name: a stable identifier, e.g. ``min_rows`` or ``metric.f1``.
    :param passed: whether the check passed.
    :param observed: the value measured.
    :param threshold: the value it was held against.
    :param blocking: a failed blocking check rejects the run: nothing is promoted.
    :param kind: ``data`` or ``model``.
    :param message: a sentence a person can act on, for failures especially.
    :param details: what the verdict rests on, JSON-serialisable (e.g. the production
        version and the evaluation data a comparison used), for the run record and for a
        ``deploy`` that must act on exactly that evidence.
    """

    name: str
    passed: bool
    observed: Any
    threshold: Any
    blocking: bool = True
    kind: Literal["data", "model"] = "data"
    message: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Deployment:
    """What one ``deploy`` implementation did.

    :param target: where it deployed (``registry`` for the built-in).
    :param model: the model name.
    :param version: the registered version, when there is one.
    :param alias: the alias it moved (``production``, ``staging``), if any.
    :param status: ``promoted``, ``staged`` (waiting for approval), ``registered``,
        ``skipped``, or ``rejected``: the deploy found, at the moment of acting, that the
        evidence the gates judged on no longer holds (production moved to a better
        version); the run is then recorded as rejected, with ``details["reason"]``.
    :param uri: where the deployed artifact lives.
    """

    target: str
    model: str
    version: int | None
    alias: str | None
    status: Literal["promoted", "staged", "registered", "skipped", "rejected"]
    uri: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MonitorReport:
    """What one ``monitor`` implementation found.

    :param name: the monitor, e.g. ``drift``.
    :param model: the model name watched.
    :param version: the model version that scored the batch.
    :param drifted: whether any feature crossed its drift threshold.
    :param features: per-feature results, name to ``{"psi", "ks_pvalue", "drifted", ...}``.
    :param metrics: performance on the batch when labels were present.
    :param retrain_requested: whether a retrain request was written.
    :param uri: where the full report was written.
    """

    name: str
    model: str
    version: int | None
    drifted: bool
    features: Mapping[str, Any]
    metrics: Mapping[str, float] = field(default_factory=dict)
    retrain_requested: bool = False
    uri: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """A complete registered version: its number and manifest (the manifest is written
    last, so a version that has one has all its artifacts)."""

    model: str
    version: int
    manifest: Mapping[str, Any]

    @property
    def metrics(self) -> Mapping[str, float]:
        return self.manifest.get("metrics", {})

    @property
    def artifacts(self) -> Mapping[str, Mapping[str, Any]]:
        return self.manifest.get("artifacts", {})


@dataclass(frozen=True, slots=True)
class AliasMove:
    """One move of a registry alias, as its history records it.

    :param model: the model name.
    :param alias: the alias that moved (``production``, ``staging``, ...).
    :param version: the version it points at now (``None``: unset).
    :param previous: the version it pointed at before (``None``: unset).
    :param action: ``promote``, ``approve``, ``rollback`` or ``demote``.
    :param by: who moved it (a user name, ``$HOOKLINE_ACTOR``, or the run's actor).
    :param at: when, ISO 8601 UTC.
    :param reason: why, as given.
    :param run_id: the run that moved it, or ``None`` for a person's move.
    :param seq: the alias's sequence number after this move (1 for the first).
    """

    model: str
    alias: str
    version: int | None
    previous: int | None
    action: str
    by: str
    at: str
    reason: str = ""
    run_id: str | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class VersionMeta:
    """A version's tags and description: the only part of a version that changes after
    it is registered (kept beside the immutable manifest, never signed or trusted).

    :param model: the model name.
    :param version: the version number.
    :param tags: ``key -> value`` strings, as set by ``hookline models tag``.
    :param description: free text, as set by ``hookline models describe``.
    :param seq: the number of changes made so far (0: never changed).
    :param by: who made the latest change (``None`` before any).
    :param at: when, ISO 8601 UTC (``None`` before any).
    :param changed: what the latest change touched: tag keys set or removed, and
        ``"description"`` when it changed.
    """

    model: str
    version: int
    tags: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    seq: int = 0
    by: str | None = None
    at: str | None = None
    changed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "tags": dict(self.tags),
            "description": self.description,
            "seq": self.seq,
            "by": self.by,
            "at": self.at,
        }


@dataclass(frozen=True)
class RunContext:
    """Everything a hook may need about the run it is part of; always the first argument.

    :param run_id: derived from the triggering object's identity.
    :param pipeline: the pipeline's configuration (name, model, stages, trigger).
    :param event: the event that started the run.
    :param storage: the storage root (registry, run records, reports).
    :param registry: the model registry in that storage root.
    :param config: the whole project configuration.
    :param log: a logger named after the run.
    :param notes: free-form, JSON-serialisable values a plugin wants in the run record.
    :param sources: the objects this run read, filled in by the core when it fetches the
        trigger (lineage for ``deploy``: URI, version and sha256 of the exact bytes).
    """

    run_id: str
    pipeline: PipelineConfig
    event: Event
    storage: Storage
    registry: Registry
    config: Config
    log: logging.Logger
    notes: dict[str, Any] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)

    @property
    def source(self) -> Source | None:
        """The triggering object once fetched (``None`` before ``ingest`` or on schedules)."""
        return self.sources[0] if self.sources else None

    @property
    def model_name(self) -> str:
        return self.pipeline.model

    @property
    def run_prefix(self) -> str:
        """The key prefix of this run's outputs: ``runs/<run_id>/``."""
        from hookline.layout import run_prefix

        return run_prefix(self.run_id)

    @property
    def storage_event(self) -> StorageEvent | None:
        return self.event if isinstance(self.event, StorageEvent) else None

    def plugin_config(self, plugin: str) -> dict[str, Any]:
        """The ``[plugins.<plugin>]`` table, overlaid with this pipeline's
        ``[pipelines.<name>.plugins.<plugin>]`` table."""
        return self.config.plugin_config(plugin, pipeline=self.pipeline.name)

    def write_output(self, name: str, data: bytes) -> str:
        """Write ``runs/<run_id>/<name>`` and return its URI."""
        from hookline.layout import run_output_key

        key = run_output_key(self.run_id, name)
        self.storage.write(key, data)
        return self.storage.url(key)
