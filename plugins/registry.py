"""The built-in ``deploy``: register the model and move its alias (entry point ``registry``).

A version is written with everything needed to trust and use it later: the skops model,
``model.onnx`` when the pipeline converts and predicts the same on the hold-out (the
manifest's ``onnx`` entry says how to feed it, or why there is none),
``schema.json`` (the columns the next upload is held to), ``reference_profile.json`` (the
drift baseline), metrics, feature schema, task, target, library versions and lineage
back to the exact uploaded bytes. Then the pipeline's alias (``production`` by default)
moves to it; with ``require_approval = true``, ``staging`` moves instead and a person
promotes it with ``hookline models approve NAME VERSION``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from hookline import hookimpl, jsonio, layout
from hookline.config import Option
from hookline.errors import ConfigError
from hookline.jsonio import jsonable
from hookline.plugins._common import schema_columns, settings
from hookline.plugins._compare import HOLDOUT_ARTIFACT, holdout_artifact
from hookline.retrain import RetrainRequests
from hookline.types import CheckResult, Deployment, RunContext, TrainedModel

NAME = "registry"


CONFIG = {
    "require_approval": Option(
        bool,
        False,
        "move `staging` instead of the pipeline's alias; "
        "`hookline models approve NAME VERSION` promotes",
    ),
    "close_retrain_requests": Option(
        bool, True, "mark open retrain requests of the model done when a new version is promoted"
    ),
    "holdout_rows": Option(
        int,
        2000,
        "hold-out rows kept with each version (`holdout.json`): the registry's evaluation set "
        "that later candidates and production are compared on; 0 keeps none",
    ),
    "onnx": Option(
        str,
        "auto",
        "also register `model.onnx` when the pipeline converts and predicts the same on the "
        "hold-out: `auto` (otherwise keep the version and record why), `require` (otherwise "
        "fail the deploy), `off`",
        choices=("auto", "require", "off"),
    ),
}


@hookimpl(trylast=True)
def deploy(
    ctx: RunContext, model: TrainedModel, checks: Sequence[CheckResult]
) -> Deployment | None:
    """Register ``model`` as a new version and move the alias."""
    cfg = settings(ctx, NAME, CONFIG)
    from hookline.plugins._artifact import model_bytes

    name = ctx.model_name
    onnx_artifacts, onnx_entry = _onnx(ctx, model, cfg["onnx"])
    # Registration is idempotent per run id: a restarted run gets the version it made.
    holdout = holdout_artifact(model, max_rows=cfg["holdout_rows"])
    version = ctx.registry.register(
        name,
        {
            "model.skops": model_bytes(model.estimator),
            **_extra(model),
            **onnx_artifacts,
            **({HOLDOUT_ARTIFACT: holdout} if holdout is not None else {}),
        },
        {**_metadata(ctx, model, checks), "format": "skops", "onnx": onnx_entry},
    )
    alias = "staging" if cfg["require_approval"] else ctx.pipeline.alias
    passed = sum(1 for c in checks if c.passed)
    reason = f"run {ctx.run_id}: {passed}/{len(checks)} checks passed"
    compared = next((c for c in checks if c.name == "beats_production" and c.passed), None)
    if compared is not None and alias == "production":
        refused = _promote_bound(ctx, model, version.version, compared, reason)
        if refused is not None:
            return Deployment(
                target="registry",
                model=name,
                version=version.version,
                alias=None,
                status="rejected",
                uri=ctx.storage.url(layout.version_key(name, version.version, "model.skops")),
                details={"reason": refused},
            )
    else:
        ctx.registry.move_alias(
            name, alias, version.version, action="promote", run_id=ctx.run_id, reason=reason
        )
    status: Literal["staged", "promoted"] = "staged" if cfg["require_approval"] else "promoted"
    closed: list[str] = []
    if status == "promoted" and alias == "production" and cfg["close_retrain_requests"]:
        closed = RetrainRequests(ctx.storage).close_open(
            name, by_run=ctx.run_id, outcome="promoted", version=version.version
        )
    artifact = version.artifacts.get("model.skops", {})
    return Deployment(
        target="registry",
        model=name,
        version=version.version,
        alias=alias,
        status=status,
        uri=ctx.storage.url(layout.version_key(name, version.version, "model.skops")),
        details={
            "sha256": artifact.get("sha256"),
            "size": artifact.get("size"),
            "closed_retrain_requests": closed,
            "onnx": {
                k: v
                for k, v in (version.manifest.get("onnx") or {}).items()
                if k in ("status", "reason")
            },
            **(
                {"approve_with": f"hookline models approve {name} {version.version}"}
                if status == "staged"
                else {}
            ),
        },
    )


MAX_RECOMPARISONS = 5
"""How often a promotion compares again when production moved meanwhile."""


def _promote_bound(
    ctx: RunContext, model: TrainedModel, version: int, compared: CheckResult, reason: str
) -> str | None:
    """Move production to ``version`` only while it still points at the version the
    candidate beat; when it moved meanwhile, compare with the new production and try again.

    :returns: ``None`` once promoted, else why not (the run is then rejected).
    """
    from hookline.errors import PreconditionFailed
    from hookline.plugins import gates
    from hookline.plugins._gates_model import judge

    name = ctx.model_name
    expected = compared.details.get("compared_with")
    evidence = dict(compared.details)
    for _ in range(MAX_RECOMPARISONS):
        try:
            ctx.registry.move_alias(
                name,
                "production",
                version,
                action="promote",
                run_id=ctx.run_id,
                reason=reason,
                expected=expected,
                evidence=evidence,
            )
            return None
        except PreconditionFailed:
            pass
        current = ctx.registry.resolve(name, "production")
        if current is None:  # unset meanwhile: nothing to beat
            expected, evidence = None, {"compared_with": None}
            continue
        if current.version == version:
            return None  # this run's own move, made by an attempt that lost its answer
        estimator, _ = ctx.registry.load_model(name, version=current.version)
        cfg = settings(ctx, gates.NAME, gates.CONFIG)
        again = judge(ctx, model, cfg, current, estimator)
        if not again.passed:
            return (
                f"production moved to v{current.version} after the gates ran; compared "
                f"again: {again.message}"
            )
        expected, evidence = current.version, dict(again.details)
    return f"production kept moving: gave up after {MAX_RECOMPARISONS} comparisons"


def _onnx(
    ctx: RunContext, model: TrainedModel, mode: str
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The ONNX artifact (when the pipeline converts and passes the parity check) and the
    manifest's ``onnx`` entry, which records why there is none otherwise."""
    if mode == "off":
        return {}, {"status": "off", "reason": '[plugins.registry] onnx = "off"'}
    if model.flavor != "sklearn":
        result: dict[str, Any] = {
            "status": "failed",
            "reason": f"only scikit-learn models convert (this one is {model.flavor!r})",
        }
        artifacts: dict[str, bytes] = {}
    else:
        from hookline.onnx import ARTIFACT
        from hookline.plugins._onnx import export

        outcome = export(model.estimator, model.features, model.task, model.holdout)
        result = outcome.manifest()
        artifacts = {ARTIFACT: outcome.data} if outcome.ok and outcome.data else {}
    if result["status"] != "ok":
        if mode == "require":
            raise ConfigError(
                f"model {ctx.model_name!r} has no ONNX form: {result['reason']}",
                key="plugins.registry.onnx",
                hint='choose an estimator skl2onnx converts (see docs/serving.md, "ONNX"), '
                'or set onnx = "auto" to register the version without it',
            )
        ctx.log.warning("model %r: no ONNX artifact: %s", ctx.model_name, result["reason"])
    return artifacts, result


def _extra(model: TrainedModel) -> dict[str, bytes]:
    """``schema.json`` (the training data's schema, which the next uploads are held to) and
    ``reference_profile.json`` (the drift baseline)."""
    profile = dict(model.reference_profile or {})
    schema = schema_columns(profile.get("schema"))
    if not schema:  # a trainer that kept no dataset schema: the features and the label
        schema = {name: dict(spec) for name, spec in model.features.items()}
        if model.target:
            target = profile.get("target") or {}
            schema[model.target] = {"dtype": target.get("dtype", "string"), "nullable": False}
    if model.target in schema:
        schema[model.target]["target"] = True
    return {
        "schema.json": _json(schema),
        "reference_profile.json": _json(model.reference_profile),
    }


def _metadata(
    ctx: RunContext, model: TrainedModel, checks: Sequence[CheckResult]
) -> dict[str, Any]:
    event = ctx.storage_event
    source = ctx.source
    lineage = {
        "trigger_uri": source.uri if source else (event.uri if event else None),
        "trigger_version": (source.version if source else None)
        or (event.version if event else None),
        "sha256": source.sha256 if source else None,
        "size": source.size if source else None,
        "run_id": ctx.run_id,
        "config_hash": ctx.config.digest,
        "pipeline": ctx.pipeline.name,
    }
    return jsonable(
        {
            "run_id": ctx.run_id,
            "pipeline": ctx.pipeline.name,
            "task": model.task,
            "target": model.target,
            "flavor": model.flavor,
            "metrics": dict(model.metrics),
            "params": dict(model.params),
            "features": dict(model.features),
            "lineage": lineage,
            "libraries": _library_versions(),
            "checks": [
                {
                    "name": c.name,
                    "passed": c.passed,
                    "observed": c.observed,
                    "threshold": c.threshold,
                    "blocking": c.blocking,
                }
                for c in checks
            ],
        }
    )


def _library_versions() -> dict[str, str]:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in (
        "hookline",
        "scikit-learn",
        "skops",
        "numpy",
        "scipy",
        "pandas",
        "skl2onnx",
        "onnx",
        "onnxruntime",
    ):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _json(doc: Any) -> bytes:
    return jsonio.dumps(doc)
