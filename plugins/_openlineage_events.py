"""OpenLineage run events for hookline runs, built with the official client's classes.

Imported only when the ``openlineage`` plugin is enabled (the client and its ``attrs``,
``requests`` and ``dateutil`` cost about a second of import).

Naming follows OpenLineage's dataset naming conventions: an object ``s3://bucket/key`` is
namespace ``s3://bucket``, name ``key`` (``gs://`` alike); Azure Blob is
``wasbs://container@account.blob.core.windows.net`` when ``$AZURE_STORAGE_ACCOUNT_URL``
names the account (``az://container`` otherwise); a local file is namespace ``file``, name
its absolute path. A model version is the dataset ``registry/<model>/versions/<NNNNNN>``
in its storage root's namespace.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import attr
from hookline.events import utc_now_iso
from hookline.types import RunContext
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    RunFacet,
    data_quality_assertions_dataset,
    dataset_type_dataset,
    dataset_version_dataset,
    error_message_run,
    input_statistics_input_dataset,
    job_type_job,
    processing_engine_run,
    schema_dataset,
)

__all__ = [
    "HOOKLINE_FACET_SCHEMA",
    "HooklineRunFacet",
    "dataset_name",
    "end_event",
    "run_uuid",
    "start_event",
]

HOOKLINE_FACET_SCHEMA = (
    "https://hookline.dev/spec/facets/1-0-0/HooklineRunFacet.json#/$defs/HooklineRunFacet"
)
"""Where the schema of the ``hookline_run`` facet is published (``docs/spec/`` of the site)."""


def _versions() -> tuple[str, str]:
    from hookline import __version__ as hookline_version
    from openlineage.client import __version__ as client_version

    return str(hookline_version), str(client_version)


def producer() -> str:
    return f"https://hookline.dev/releases/{_versions()[0]}"


@attr.define
class HooklineRunFacet(RunFacet):
    """hookline's own run facet: the run as hookline knows it."""

    runId: str
    pipeline: str
    model: str
    status: str | None = attr.field(default=None)
    attempt: int | None = attr.field(default=None)
    recordUri: str | None = attr.field(default=None)
    rejectedBy: list[str] | None = attr.field(default=None)
    metrics: dict[str, float] | None = attr.field(default=None)
    modelVersion: int | None = attr.field(default=None)
    alias: str | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return HOOKLINE_FACET_SCHEMA


def run_uuid(namespace: str, run_id: str) -> str:
    """The OpenLineage run id of a hookline run: ``uuid5(NAMESPACE_URL,
    "hookline:<job namespace>/<run id>")``, the same for every event and every attempt."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hookline:{namespace}/{run_id}"))


def dataset_name(uri: str) -> tuple[str, str]:
    """``(namespace, name)`` of an object URI, per OpenLineage's naming conventions."""
    parts = urlsplit(uri)
    path = unquote(parts.path)
    if parts.scheme in ("", "file"):
        return "file", unquote(parts.netloc) + path if parts.netloc else path
    if parts.scheme == "az":
        account = urlsplit(os.environ.get("AZURE_STORAGE_ACCOUNT_URL", "")).hostname
        if account:
            return f"wasbs://{parts.netloc}@{account}", path.lstrip("/")
    return f"{parts.scheme}://{parts.netloc}", path.lstrip("/")


def _job(namespace: str, name: str) -> Job:
    return Job(
        namespace=namespace,
        name=name,
        facets={
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH",
                integration="HOOKLINE",
                jobType="PIPELINE",
                producer=producer(),
            )
        },
    )


def _run_facets(ctx: RunContext, record: Mapping[str, Any] | None) -> dict[str, Any]:
    hookline_version, client_version = _versions()
    facets: dict[str, Any] = {
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=hookline_version,
            name="hookline",
            openlineageAdapterVersion=client_version,
            producer=producer(),
        )
    }
    extra: dict[str, Any] = {}
    if record is not None:
        status = str(record.get("status") or "failed")
        version = next(
            (d for d in record.get("deployments") or () if d.get("version") is not None), None
        )
        metrics = {
            str(k): float(v)
            for k, v in (record.get("metrics") or {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        extra = {
            "status": "retrying" if status == "running" else status,
            "attempt": int(record.get("attempt") or 1),
            "recordUri": ctx.storage.url(f"{ctx.run_prefix}record.json"),
            "rejectedBy": list(record.get("rejected_by") or []) or None,
            "metrics": metrics or None,
            "modelVersion": version["version"] if version else None,
            "alias": version.get("alias") if version else None,
        }
        error = record.get("error") or {}
        if error.get("message"):
            facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=str(error["message"]),
                programmingLanguage="python",
                stackTrace=str(error.get("traceback") or "") or None,
                producer=producer(),
            )
    facets["hookline_run"] = HooklineRunFacet(
        runId=ctx.run_id,
        pipeline=ctx.pipeline.name,
        model=ctx.model_name,
        producer=producer(),
        **extra,
    )
    return facets


_TYPES = {"number": "DOUBLE", "integer": "BIGINT", "string": "VARCHAR", "boolean": "BOOLEAN"}


def _input(ctx: RunContext, record: Mapping[str, Any] | None) -> list[InputDataset]:
    event = ctx.storage_event
    if event is None:
        return []
    namespace, name = dataset_name(event.uri)
    trigger: Mapping[str, Any] = (record or {}).get("trigger") or event.to_dict()
    version = trigger.get("read_version") or trigger.get("version") or trigger.get("etag")
    sha256 = trigger.get("sha256")
    facets: dict[str, Any] = {}
    if version or sha256:
        facet = dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=str(version or f"sha256:{sha256}"), producer=producer()
        )
        facets["version"] = facet.with_additional_properties(sha256=sha256) if sha256 else facet
    data = (record or {}).get("data") or {}
    columns = {k: v for k, v in (data.get("schema") or {}).items() if isinstance(v, Mapping)}
    if columns:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[
                schema_dataset.SchemaDatasetFacetFields(
                    name=str(column), type=_TYPES.get(str(info.get("dtype")), "VARCHAR")
                )
                for column, info in columns.items()
            ],
            producer=producer(),
        )
    input_facets: dict[str, Any] = {}
    checks = [c for c in (record or {}).get("checks") or () if c.get("kind") == "data"]
    if checks:
        input_facets["dataQualityAssertions"] = (
            data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
                assertions=[
                    data_quality_assertions_dataset.Assertion(
                        assertion=str(c.get("name")),
                        success=bool(c.get("passed")),
                        severity="error" if c.get("blocking") else "warn",
                        name=str(c.get("name")),
                        description=str(c.get("message") or "") or None,
                        expected=None if c.get("threshold") is None else str(c["threshold"]),
                        actual=None if c.get("observed") is None else str(c["observed"]),
                    )
                    for c in checks
                ],
                producer=producer(),
            )
        )
    rows = (data.get("profile") or {}).get("rows")
    if rows is not None or trigger.get("size") is not None:
        input_facets["inputStatistics"] = (
            input_statistics_input_dataset.InputStatisticsInputDatasetFacet(
                rowCount=int(rows) if rows is not None else None,
                size=int(trigger["size"]) if trigger.get("size") is not None else None,
                producer=producer(),
            )
        )
    return [InputDataset(namespace=namespace, name=name, facets=facets, inputFacets=input_facets)]


def _outputs(ctx: RunContext, record: Mapping[str, Any]) -> list[OutputDataset]:
    outputs = []
    root_namespace, root = dataset_name(ctx.storage.uri)
    base = root.rstrip("/") + "/" if root else ""
    for dep in record.get("deployments") or ():
        if dep.get("version") is None:
            continue
        model = str(dep.get("model") or ctx.model_name)
        outputs.append(
            OutputDataset(
                namespace=root_namespace,
                name=f"{base}registry/{model}/versions/{int(dep['version']):06d}",
                facets={
                    "version": dataset_version_dataset.DatasetVersionDatasetFacet(
                        datasetVersion=str(dep["version"]), producer=producer()
                    ),
                    "datasetType": dataset_type_dataset.DatasetTypeDatasetFacet(
                        datasetType="MODEL",
                        subType=str(record.get("task") or "") or None,
                        producer=producer(),
                    ),
                },
            )
        )
    for report in record.get("reports") or ():
        if report.get("uri"):
            namespace, name = dataset_name(str(report["uri"]))
            outputs.append(OutputDataset(namespace=namespace, name=name))
    return outputs


def start_event(ctx: RunContext, namespace: str) -> RunEvent:
    """The START event of ``ctx``'s run."""
    return RunEvent(
        eventType=RunState.START,
        eventTime=utc_now_iso(),
        run=Run(runId=run_uuid(namespace, ctx.run_id), facets=_run_facets(ctx, None)),
        job=_job(namespace, ctx.pipeline.name),
        inputs=_input(ctx, None),
        outputs=[],
        producer=producer(),
    )


def end_event(ctx: RunContext, namespace: str, record: Mapping[str, Any]) -> RunEvent:
    """COMPLETE for a succeeded or rejected run (the ``hookline_run`` facet says which), FAIL
    for a failed one (with an ``errorMessage`` facet), from its run record."""
    complete = record.get("status") in ("succeeded", "rejected")
    return RunEvent(
        eventType=RunState.COMPLETE if complete else RunState.FAIL,
        eventTime=str(record.get("finished_at") or utc_now_iso()),
        run=Run(runId=run_uuid(namespace, ctx.run_id), facets=_run_facets(ctx, record)),
        job=_job(namespace, ctx.pipeline.name),
        inputs=_input(ctx, record),
        outputs=_outputs(ctx, record) if complete else [],
        producer=producer(),
    )
