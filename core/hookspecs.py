"""The hook specifications: the whole contract between hookline and its plugins.

This module is also the hooks reference (``docs/hooks.md`` is generated from it). Hooks are
listed in the order a run calls them. Every docstring has the same shape: what the hook is
for, its call semantics, its parameters, what it returns, and where it runs.

Rules that hold for every hook:

* The run context comes first, then the stage's inputs. No argument has a default value
  (pluggy never passes an argument that has one, so hookline refuses such implementations).
* An implementation may accept fewer arguments than the spec, in any order, by name.
* **Provider** hooks (``ingest``, ``train``) stop at the first result that is not ``None``:
  return ``None`` to pass the turn. Built-in providers are ``trylast``, so an installed
  third-party provider wins without configuration.
* **Collecting** hooks (``validate``, ``deploy``, ``monitor``) gather every plugin's answer.
* **Observer** hooks (``before_*``, ``after_*``, ``on_*_error``) return nothing; an error
  hook observes, and hookline re-raises afterwards.
* **Registry events** (``after_version_registered``, ``after_alias_moved``,
  ``after_version_updated``) fire however
  the change happens: a pipeline run, the command line or the dashboard. ``ctx`` is the
  run's context when a run made the change and ``None`` when a person did.
* An exception raised inside a hook is reported as ``plugin 'NAME' failed in hook 'HOOK'``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hookline._markers import hookspec
from hookline.types import (
    AliasMove,
    CheckResult,
    Dataset,
    Deployment,
    ModelVersion,
    MonitorReport,
    RunContext,
    Source,
    TrainedModel,
    VersionMeta,
)

if TYPE_CHECKING:
    from hookline.project import Project

STAGES = ("ingest", "train", "validate", "deploy", "monitor")
"""The lifecycle stages, in the order a pipeline runs them."""

PROVIDER_HOOKS = ("ingest", "train")
COLLECTING_HOOKS = ("validate", "deploy", "monitor")


# --- run level ---------------------------------------------------------------------------


@hookspec
def before_pipeline_run(ctx: RunContext) -> None:
    """Observe the start of a run, after it has been claimed and before its first stage.

    Call semantics: every implementation is called; results are ignored.

    :param ctx: the run context.
    :returns: nothing.

    Runs: once per run, wherever the pipeline runs (function or local machine).
    """


# --- stages, in order --------------------------------------------------------------------


@hookspec
def before_stage_run(ctx: RunContext, stage: str) -> None:
    """Observe the start of one stage.

    Call semantics: every implementation is called; results are ignored.

    :param ctx: the run context.
    :param stage: the stage about to run: ``ingest``, ``train``, ``validate``, ``deploy``
        or ``monitor``.
    :returns: nothing.

    Runs: before each stage of the pipeline.
    """


@hookspec(firstresult=True)
def ingest(ctx: RunContext, source: Source | None) -> Dataset | None:
    """Read the triggering object into a :class:`~hookline.types.Dataset`.

    Call semantics: provider; stops at the first result that is not ``None``. Return
    ``None`` for a format you do not handle. If no plugin answers, the run fails with a
    message listing the implementations that passed.

    :param ctx: the run context.
    :param source: the uploaded object, already fetched to a local file and checksummed;
        ``None`` for a scheduled run (read what you need from ``ctx.storage``).
    :returns: the dataset with its schema and profile, or ``None`` to pass.

    Runs: first stage of every pipeline; on the function the upload triggered.
    """


@hookspec(firstresult=True)
def train(ctx: RunContext, dataset: Dataset) -> TrainedModel | None:
    """Fit a model on the ingested dataset and measure it on a hold-out split.

    Call semantics: provider; stops at the first result that is not ``None``. Return
    ``None`` to let another plugin train (for instance when the task is not yours).

    :param ctx: the run context; ``ctx.plugin_config("NAME")`` holds your settings.
    :param dataset: the output of ``ingest``.
    :returns: the fitted model with metrics, feature schema and reference profile, or
        ``None`` to pass.

    Runs: in training pipelines, after ``ingest``.
    """


@hookspec
def validate(
    ctx: RunContext, dataset: Dataset, model: TrainedModel | None
) -> Sequence[CheckResult] | None:
    """Check the data and the model before anything is promoted.

    Call semantics: collecting; every implementation's checks are gathered. A failed
    check with ``blocking=True`` marks the run ``rejected`` and ``deploy`` is skipped.

    :param ctx: the run context.
    :param dataset: the output of ``ingest``.
    :param model: the output of ``train``, or ``None`` when the pipeline does not train.
    :returns: the checks performed (may be empty), or ``None``.

    Runs: after ``train`` (or after ``ingest`` in a pipeline without training).
    """


@hookspec
def deploy(
    ctx: RunContext, model: TrainedModel, checks: Sequence[CheckResult]
) -> Deployment | None:
    """Register and promote a model that passed every blocking check.

    Call semantics: collecting; every implementation is called and each
    :class:`~hookline.types.Deployment` is recorded. Not called when a blocking check failed.

    :param ctx: the run context; ``ctx.registry`` is the model registry.
    :param model: the output of ``train``.
    :param checks: every check ``validate`` produced (all blocking ones passed).
    :returns: what was deployed, or ``None`` when this plugin did nothing.

    Runs: in training pipelines, after ``validate``.
    """


@hookspec
def monitor(ctx: RunContext, dataset: Dataset) -> MonitorReport | None:
    """Watch the production model on new data: drift, performance decay, shadow scoring.

    Call semantics: collecting; every implementation's report is recorded.

    :param ctx: the run context.
    :param dataset: the output of ``ingest`` (labelled or not).
    :returns: a report, or ``None`` when this plugin had nothing to watch.

    Runs: in monitoring pipelines (e.g. triggered on a ``score/`` prefix or a schedule).
    """


@hookspec
def after_stage_run(ctx: RunContext, stage: str, result: Any, seconds: float) -> None:
    """Observe the successful end of one stage.

    Call semantics: every implementation is called; results are ignored.

    :param ctx: the run context.
    :param stage: the stage that finished.
    :param result: what the stage produced (a Dataset, TrainedModel, list of checks, ...).
    :param seconds: how long the stage took.
    :returns: nothing.

    Runs: after each stage that did not raise.
    """


@hookspec
def on_stage_error(ctx: RunContext, stage: str, error: BaseException) -> None:
    """Observe a stage that raised. hookline re-raises the error afterwards.

    Call semantics: every implementation is called; results are ignored; an exception
    raised here is logged and does not hide the original error.

    :param ctx: the run context.
    :param stage: the stage that failed.
    :param error: the exception (a :class:`~hookline.errors.HookFailed` naming the plugin
        when it came from a hook implementation).
    :returns: nothing.

    Runs: when a stage raises.
    """


# --- run level, end ------------------------------------------------------------------------


@hookspec
def after_pipeline_run(ctx: RunContext, record: Mapping[str, Any]) -> None:
    """Observe the end of a run that completed (``succeeded`` or ``rejected``).

    Call semantics: every implementation is called; results are ignored. The run record
    is final and already written; use this to notify, track experiments or write reports.

    :param ctx: the run context.
    :param record: the run record as written to ``runs/<run_id>/record.json``.
    :returns: nothing.

    Runs: once per completed run -- at least once: when the invocation dies after writing
    the record and before its observers finish, the next delivery calls them again, so
    write outputs idempotently (the same key, the same bytes).
    """


@hookspec
def on_pipeline_error(ctx: RunContext, error: BaseException, record: Mapping[str, Any]) -> None:
    """Observe a run that failed. hookline records the failure and re-raises afterwards
    when the failure is transient.

    Call semantics: every implementation is called; results are ignored; an exception
    raised here is logged and does not hide the original error.

    :param ctx: the run context.
    :param error: the exception that ended the run.
    :param record: the run record with status ``failed`` and the error.
    :returns: nothing.

    Runs: once per failed run, at least once (as ``after_pipeline_run``); on a repeat
    call ``error`` is rebuilt from the record's ``error`` entry.
    """


# --- registry events ------------------------------------------------------------------------


@hookspec
def after_version_registered(
    ctx: RunContext | None, project: Project, version: ModelVersion
) -> None:
    """Observe a new model version, once its manifest (and signature) are written.

    Call semantics: every implementation is called; results are ignored; an exception
    raised here is logged and never undoes or fails the registration.

    :param ctx: the run context when a pipeline run registered it, else ``None``.
    :param project: the project whose registry changed: its configuration (your plugin's
        table: ``project.config.plugin_config(NAME)``), storage and registry, also when
        ``ctx`` is ``None``.
    :param version: the complete version (model name, number and manifest).
    :returns: nothing.

    Runs: once per registered version, in the process that registered it (a retried run
    that resumes an already complete version does not fire it again).
    """


@hookspec
def after_alias_moved(ctx: RunContext | None, project: Project, move: AliasMove) -> None:
    """Observe an alias move: a promotion, an approval, a rollback or a demotion.

    Call semantics: every implementation is called; results are ignored; an exception
    raised here is logged and never undoes or fails the move.

    :param ctx: the run context when a pipeline run moved it; ``None`` when a person did
        (``hookline models promote|approve|rollback``, the dashboard).
    :param project: the project whose registry changed (configuration, storage, registry).
    :param move: what moved: model, alias, new and previous version, action, who, when,
        why, the run id (if any) and the alias's sequence number after the move.
    :returns: nothing.

    Runs: once per move that changed the alias, wherever it was made (a retry that finds
    its move already made does not fire it again).
    """


@hookspec
def after_version_updated(
    ctx: RunContext | None, project: Project, version: ModelVersion, meta: VersionMeta
) -> None:
    """Observe a change to a version's tags or description (the only part of a version
    that changes after it is registered; the manifest never does).

    Call semantics: every implementation is called; results are ignored; an exception
    raised here is logged and never undoes or fails the change.

    :param ctx: the run context when a pipeline run made the change; ``None`` when a person
        did (``hookline models tag|describe``).
    :param project: the project whose registry changed (configuration, storage, registry).
    :param version: the version whose notes changed (model name, number and manifest).
    :param meta: the tags and description after the change, who made it and when, and
        ``meta.changed``: the tag keys set or removed and ``"description"`` if it changed.
    :returns: nothing.

    Runs: once per change that changed something (setting a tag to the value it already
    has writes nothing and fires nothing).
    """
