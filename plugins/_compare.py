"""Champion against challenger, on evidence the challenger's upload cannot corrupt.

The one owner of "does this candidate beat production": the ``beats_production`` and
``label_sanity`` gates call it while validating, and the built-in ``deploy`` calls it again
when production moved between the check and the promotion (the alias then moves by
compare-and-swap on exactly the version the candidate was compared with).

The evaluation data has up to three parts, and the new batch's hold-out is never used
alone when any other exists:

* **the registry's evaluation set** -- the hold-outs of the versions production was
  promoted to (each stored with its version as ``holdout.json``, sha256-checked and signed
  like every artifact), newest first, up to ``evaluation_rows`` rows;
* **a golden set** -- a fixed labelled file a project names by URI (``golden_set``);
* **the new batch's hold-out** -- what the candidate was measured on.

The first two are *trusted*: the candidate must be at least as good as production (by the
configured margin) on the trusted rows and on the new hold-out. A batch whose labels were
shuffled trains a candidate that loses on the trusted rows; and :func:`label_agreement`
measures, chance-corrected, how far the new labels agree with production's predictions,
so a batch whose labels collapsed is blocked even before the first evaluation set exists.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hookline import jsonio
from hookline.errors import HooklineError, NotFound
from hookline.plugins.metrics import direction, is_better
from hookline.plugins.metrics import threshold as beat_threshold
from hookline.types import ModelVersion, RunContext, TrainedModel

__all__ = [
    "HOLDOUT_ARTIFACT",
    "Comparison",
    "EvaluationPart",
    "compare",
    "holdout_artifact",
    "label_agreement",
]

HOLDOUT_ARTIFACT = "holdout.json"
"""The artifact holding a version's hold-out rows (features and label)."""


@dataclass(frozen=True)
class EvaluationPart:
    """Labelled rows both models are scored on.

    :param source: where they come from (``registry v3 hold-out``, a golden-set URI, ``this
        batch's hold-out``).
    :param sha256: digest of the bytes they were read from (or of their canonical JSON).
    :param trusted: ``False`` only for the candidate's own hold-out.
    """

    source: str
    sha256: str
    trusted: bool
    X: Any = field(repr=False)
    y: Any = field(repr=False)

    @property
    def rows(self) -> int:
        return len(self.y)

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "rows": self.rows,
            "trusted": self.trusted,
        }


@dataclass(frozen=True)
class Comparison:
    """The verdict of one comparison and everything it rests on.

    :param production: the version compared with (the alias must still point at it when
        the candidate is promoted).
    :param scores: ``{"trusted": {"candidate", "production", "rows"}, "new": {...}}``.
    :param skipped: evaluation parts that could not be used, with why.
    """

    passed: bool
    metric: str
    production: int | None
    message: str
    scores: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    parts: Sequence[Mapping[str, Any]] = ()
    skipped: Sequence[str] = ()
    observed: float | None = None
    threshold: float | None = None

    def evidence(self) -> dict[str, Any]:
        """What an alias move records of this comparison (its history entry)."""
        return jsonio.jsonable(
            {
                "compared_with": self.production,
                "metric": self.metric,
                "better": direction(self.metric),
                "scores": self.scores,
                "evaluation": list(self.parts),
                "skipped": list(self.skipped),
                "passed": self.passed,
            }
        )


# --- the evaluation set ----------------------------------------------------------------------


def holdout_artifact(model: TrainedModel, *, max_rows: int, seed: int = 0) -> bytes | None:
    """The bytes of ``holdout.json`` for ``model``: its hold-out rows (at most ``max_rows``,
    a seeded sample), the label as column ``__target__``, and the dtypes to restore."""
    if model.holdout is None or max_rows <= 0:
        return None
    X, y = model.holdout
    if not len(y):
        return None
    frame = X.copy()
    frame["__target__"] = list(y)
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=seed)
    doc = {
        "columns": [str(c) for c in frame.columns],
        "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
        "data": frame.astype(object).where(frame.notna(), None).values.tolist(),
    }
    return jsonio.dumps(doc)


def _read_holdout(data: bytes) -> tuple[Any, Any]:
    import pandas as pd

    doc = jsonio.loads(data)
    frame = pd.DataFrame(doc["data"], columns=doc["columns"])
    for column, dtype in (doc.get("dtypes") or {}).items():
        try:
            frame[column] = frame[column].astype(dtype)
        except (TypeError, ValueError):
            continue  # leave it as read; the model's own preprocessing copes or says so
    y = frame.pop("__target__")
    return frame, y


def _registry_parts(
    ctx: RunContext, production: ModelVersion, budget: int
) -> tuple[list[EvaluationPart], list[str]]:
    """Hold-outs of the versions production was promoted to, newest first."""
    state = ctx.registry.alias(ctx.model_name, "production")
    history = list(state.history) if state else []
    versions: list[int] = []
    for entry in reversed(history):
        v = entry.get("version")
        if v is not None and v not in versions:
            versions.append(int(v))
    if production.version not in versions:
        versions.insert(0, production.version)
    parts: list[EvaluationPart] = []
    skipped: list[str] = []
    rows = 0
    for version in versions:
        if rows >= budget:
            break
        try:
            data = ctx.registry.read_artifact(ctx.model_name, version, HOLDOUT_ARTIFACT)
        except NotFound:
            continue  # registered before hold-outs were kept, or removed
        except HooklineError as exc:
            skipped.append(f"registry v{version} hold-out: {exc.message}")
            continue
        X, y = _read_holdout(data)
        take = min(len(y), budget - rows)
        X, y = X.iloc[:take], y.iloc[:take]
        parts.append(
            EvaluationPart(
                f"registry v{version} hold-out", hashlib.sha256(data).hexdigest(), True, X, y
            )
        )
        rows += take
    return parts, skipped


def _golden_part(ctx: RunContext, uri: str, target: str | None) -> EvaluationPart:
    """The project's golden set: a labelled CSV, Parquet or JSON Lines file, by URI.

    :raises HooklineError: it does not exist, cannot be read, or lacks the label column.
    """
    import pandas as pd
    from hookline.storage import open_storage, parse_uri

    parsed = parse_uri(uri)
    try:
        if parsed.scheme == "file":
            import os

            folder, name = os.path.split(parsed.path)
            data = open_storage(folder).read(name)
        else:
            root = f"{parsed.scheme}://{parsed.bucket}"
            data = open_storage(root).read(parsed.path)
    except NotFound:
        raise HooklineError(
            f"the golden set {uri} does not exist",
            hint="fix [plugins.gates] golden_set, or upload the file",
        ) from None
    lowered = uri.lower()
    try:
        if lowered.endswith(".parquet"):
            frame = pd.read_parquet(io.BytesIO(data))
        elif lowered.endswith((".jsonl", ".ndjson")):
            frame = pd.read_json(io.BytesIO(data), lines=True)
        else:
            frame = pd.read_csv(io.BytesIO(data))
    except Exception as exc:
        raise HooklineError(f"the golden set {uri} cannot be read: {exc}") from None
    if target is None or target not in frame.columns:
        raise HooklineError(
            f"the golden set {uri} has no label column {target!r}",
            hint="a golden set holds the features and the label, like a training upload",
        )
    frame = frame.loc[frame[target].notna()]
    y = frame.pop(target)
    return EvaluationPart(uri, hashlib.sha256(data).hexdigest(), True, frame, y)


def _new_part(model: TrainedModel) -> EvaluationPart | None:
    if model.holdout is None:
        return None
    X, y = model.holdout
    digest = jsonio.digest(
        {"columns": [str(c) for c in X.columns], "rows": X.astype(str).values.tolist()}
    )
    return EvaluationPart("this batch's hold-out", digest, False, X, y)


# --- scoring ---------------------------------------------------------------------------------


def _usable(part: EvaluationPart, needed: Sequence[str]) -> str | None:
    missing = [c for c in needed if c not in part.X.columns]
    if missing:
        return f"{part.source}: lacks column(s) {', '.join(missing[:5])}"
    if not part.rows:
        return f"{part.source}: no rows"
    return None


def _score(task: str, estimator: Any, parts: Sequence[EvaluationPart], metric: str) -> float:
    import pandas as pd
    from hookline.plugins._stats import metrics_for

    X = pd.concat([p.X for p in parts], ignore_index=True)
    y = pd.concat([p.y.reset_index(drop=True) for p in parts], ignore_index=True)
    found = metrics_for(task, estimator, X, y, probabilities=metric == "roc_auc")
    if metric not in found:
        raise HooklineError(
            f"metric {metric!r} is not defined on these rows",
            hint="set [plugins.gates] compare_metric",
        )
    return float(found[metric])


def compare(
    ctx: RunContext,
    model: TrainedModel,
    cfg: Mapping[str, Any],
    production: ModelVersion,
    production_estimator: Any,
) -> Comparison:
    """Score ``model`` and ``production`` on the same evaluation data and judge.

    :param cfg: the ``[plugins.gates]`` settings (``compare_metric``, ``margin``,
        ``evaluation_rows``, ``golden_set``).
    :raises HooklineError: the golden set is missing or unreadable.
    """
    from hookline.plugins._stats import compare_metric

    metric = compare_metric(model.task, cfg["compare_metric"])
    margin = float(cfg["margin"])
    needed = sorted(set(model.features) | set((production.manifest.get("features") or {}).keys()))
    trusted, skipped = _registry_parts(ctx, production, int(cfg["evaluation_rows"]))
    if cfg["golden_set"]:
        trusted.append(_golden_part(ctx, str(cfg["golden_set"]), model.target))
    usable = []
    for part in trusted:
        why = _usable(part, needed)
        if why:
            skipped.append(why)
        else:
            usable.append(part)
    new = _new_part(model)
    groups = {"trusted": usable, "new": [new] if new is not None else []}
    scores: dict[str, dict[str, Any]] = {}
    passed = True
    for group, parts in groups.items():
        if not parts:
            continue
        candidate = _score(model.task, model.estimator, parts, metric)
        champion = _score(model.task, production_estimator, parts, metric)
        ok = is_better(metric, candidate, champion, margin)
        scores[group] = {
            "candidate": candidate,
            "production": champion,
            "rows": sum(p.rows for p in parts),
            "passed": ok,
        }
        passed = passed and ok
    if not scores:
        return Comparison(
            False,
            metric,
            production.version,
            "no evaluation data: the trainer kept no hold-out and the registry has none",
        )
    where = f"production v{production.version}"
    said = []
    for group in ("trusted", "new"):
        if group in scores:
            s = scores[group]
            label = "the evaluation set" if group == "trusted" else "this batch's hold-out"
            said.append(
                f"{metric} {s['candidate']:.4g} vs {where} {s['production']:.4g} on {label} "
                f"({s['rows']} rows){'' if s['passed'] else ': worse'}"
            )
    if "trusted" not in scores:
        said.append("no evaluation set yet: compared on this batch's hold-out only")
    main = scores.get("trusted") or scores["new"]
    verdict = (
        ("at least as good" if not margin else "better by at least the margin")
        if passed
        else "not better: production stays"
    )
    return Comparison(
        passed,
        metric,
        production.version,
        "; ".join(said) + f" ({direction(metric)} is better, margin {margin:g}): {verdict}",
        scores=scores,
        parts=[p.describe() for p in (*usable, *groups["new"])],
        skipped=skipped,
        observed=main["candidate"],
        threshold=beat_threshold(metric, main["production"], margin),
    )


def label_agreement(task: str, production_estimator: Any, X: Any, y: Any) -> float | None:
    """How far the labels ``y`` agree with production's predictions, beyond chance.

    Classification: Cohen's kappa (0 for labels unrelated to production's predictions, 1
    for full agreement). Regression: the Spearman correlation of predictions and labels.
    ``None`` when it is undefined (constant predictions or labels, fewer than two rows).
    """
    import numpy as np

    if len(y) < 2:
        return None
    predicted = production_estimator.predict(X)
    if task == "classification":
        from sklearn.metrics import cohen_kappa_score

        truth = np.asarray(y).astype(str)
        guess = np.asarray(predicted).astype(str)
        if len(set(truth.tolist()) | set(guess.tolist())) < 2:
            return None
        value = float(cohen_kappa_score(truth, guess))
    else:
        from scipy.stats import spearmanr

        truth = np.asarray(y, dtype="float64")
        guess = np.asarray(predicted, dtype="float64")
        if np.ptp(truth) == 0 or np.ptp(guess) == 0:
            return None
        value = float(spearmanr(truth, guess).statistic)
    return value if np.isfinite(value) else None
