"""What each hook may return, checked value by value.

Each function returns ``None`` when the value is fine, else ``(rule, problem, fix)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from hookline.hookspecs import PROVIDER_HOOKS
from hookline.types import CheckResult, Dataset, Deployment, MonitorReport, TrainedModel

__all__ = ["check_result", "json_problem"]

Problem = tuple[str, str, str]

_ARTIFACTS: dict[str, type] = {"ingest": Dataset, "train": TrainedModel}
_RETURN_NONE = (
    "return None to pass the turn, e.g. `if source is None or source.suffix != "
    "'.jsonl': return None`"
)


def json_problem(value: Any, path: str, depth: int = 0) -> str | None:
    """Why ``value`` would not be stored faithfully in the JSON run record, or ``None``.

    Accepted: ``None``, ``bool``, ``int``, finite ``float``, ``str``, lists and tuples,
    mappings with string (or number) keys, dataclasses, and numpy scalars and arrays
    (converted as the record writer converts them). Anything else would be written as its
    ``repr``; ``NaN`` and infinities are not JSON at all.
    """
    if depth > 50:
        return f"{path} is nested more than 50 levels deep"
    if value is None or isinstance(value, bool | int | str):
        return None
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return (
            f"{path} is {value!r}, which is not valid JSON (the dashboard and most JSON "
            "readers reject it); use None for a missing value"
        )
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_problem(dataclasses.asdict(value), path, depth + 1)
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return json_problem(value.tolist(), path, depth + 1)
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str | int | float | bool) and key is not None:
                return f"{path} has a key of type {type(key).__name__} ({key!r}); use strings"
            found = json_problem(item, f"{path}[{key!r}]", depth + 1)
            if found:
                return found
        return None
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = json_problem(item, f"{path}[{i}]", depth + 1)
            if found:
                return found
        return None
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return (
        f"{path} is a {type(value).__module__}.{type(value).__qualname__} ({shown}), "
        "which the run record could only store as its repr"
    )


def _serialisable(fields: Mapping[str, Any], hook: str) -> Problem | None:
    for path, value in fields.items():
        found = json_problem(value, path)
        if found:
            return (
                "serialisable",
                f"{hook} returned a value that is not plain JSON: {found}",
                "convert values with float(...), int(...), str(...), .tolist(), and keep "
                "library objects (frames, estimators) out of these fields",
            )
    return None


def _falsy_provider(hook: str, result: Any) -> Problem:
    artifact = _ARTIFACTS[hook].__name__
    return (
        "provider-returns-artifact-or-none",
        f"{hook} returned {result!r} instead of None. {hook} is a provider hook "
        "(firstresult): pluggy stops at the first result that is not None, so "
        f"{result!r} would stop the search for a provider and reach the pipeline as the "
        f"{artifact}",
        _RETURN_NONE,
    )


def _check_provider(hook: str, result: Any) -> Problem | None:
    artifact = _ARTIFACTS[hook]
    if not isinstance(result, artifact):
        if not result:
            return _falsy_provider(hook, result)
        return (
            "provider-returns-artifact-or-none",
            f"{hook} returned a {type(result).__name__}; expected "
            f"hookline.{artifact.__name__} or None",
            f"build and return hookline.{artifact.__name__}(...), or None to pass",
        )
    if isinstance(result, Dataset):
        if not isinstance(result.schema, Mapping) or not isinstance(result.profile, Mapping):
            return (
                "provider-returns-artifact-or-none",
                "Dataset.schema and Dataset.profile must be mappings",
                "set schema={column: {'dtype': ...}} and profile={'rows': ...}",
            )
        columns = getattr(result.frame, "columns", None)
        if result.target is not None and columns is not None and result.target not in columns:
            return (
                "provider-returns-artifact-or-none",
                f"Dataset.target {result.target!r} is not a column of the frame",
                "set target to the label column's name, or None for unlabelled data",
            )
        return _serialisable(
            {"Dataset.schema": result.schema, "Dataset.profile": result.profile}, hook
        )
    assert isinstance(result, TrainedModel)
    if result.task not in ("classification", "regression"):
        return (
            "provider-returns-artifact-or-none",
            f"TrainedModel.task is {result.task!r}",
            "set task to 'classification' or 'regression'",
        )
    for key, metric in dict(result.metrics).items():
        numpy_scalar = type(metric).__module__ == "numpy" and hasattr(metric, "item")
        if isinstance(metric, bool) or not (isinstance(metric, int | float) or numpy_scalar):
            return (
                "provider-returns-artifact-or-none",
                f"TrainedModel.metrics[{key!r}] is a {type(metric).__name__}, not a number",
                "metrics map names to numbers, e.g. {'f1': 0.91}",
            )
    return _serialisable(
        {
            "TrainedModel.metrics": result.metrics,
            "TrainedModel.params": result.params,
            "TrainedModel.features": result.features,
            "TrainedModel.reference_profile": result.reference_profile,
        },
        hook,
    )


def _check_checks(result: Any) -> Problem | None:
    rule = "validate-returns-checks"
    if isinstance(result, CheckResult):
        result = [result]
    if isinstance(result, str | bytes) or not isinstance(result, Sequence):
        return (
            rule,
            f"validate returned a {type(result).__name__}; expected a list of "
            "hookline.CheckResult (possibly empty) or None",
            "return [CheckResult(name=..., passed=..., observed=..., threshold=...)]",
        )
    for i, check in enumerate(result):
        where = f"item {i}"
        if not isinstance(check, CheckResult):
            return (
                rule,
                f"{where} is a {type(check).__name__}, not a hookline.CheckResult",
                "build each check with hookline.CheckResult(...)",
            )
        where = f"check {check.name!r}"
        if not isinstance(check.name, str) or not check.name.strip():
            return (
                rule,
                f"{where}: name must be a non-empty string",
                "give every check a stable identifier such as 'min_rows'",
            )
        for attr in ("passed", "blocking"):
            value = getattr(check, attr)
            if not isinstance(value, bool):
                return (
                    rule,
                    f"{where}: {attr} is a {type(value).__module__}."
                    f"{type(value).__name__} ({value!r}), not a bool",
                    f"wrap it: {attr}=bool(...) (numpy comparisons return numpy.bool_)",
                )
        if check.kind not in ("data", "model"):
            return (rule, f"{where}: kind is {check.kind!r}", "use kind='data' or kind='model'")
        if not isinstance(check.message, str):
            return (rule, f"{where}: message must be a string", "message='...'")
        if not check.passed and not check.message.strip():
            return (
                rule,
                f"{where} failed without a message",
                "say what was wrong and what to do, e.g. message='240 rows, fewer than "
                "the 500 required: upload more data or lower min_rows'",
            )
        found = json_problem(dataclasses.asdict(check), where)
        if found:
            return (
                "serialisable",
                f"validate returned a check that is not plain JSON: {found}",
                "convert observed/threshold with float(...), int(...) or str(...)",
            )
    return None


def _check_deployment(result: Any) -> Problem | None:
    rule = "deploy-returns-deployment"
    if not isinstance(result, Deployment):
        hint = " (return None when this plugin did nothing)" if not result else ""
        return (
            rule,
            f"deploy returned {result!r:.60}; expected hookline.Deployment or None{hint}",
            "return Deployment(target=..., model=..., version=..., "
            "alias=..., status='promoted'|'staged'|'registered'|'skipped') or None",
        )
    if result.status not in ("promoted", "staged", "registered", "skipped"):
        return (
            rule,
            f"Deployment.status is {result.status!r}",
            "use 'promoted', 'staged', 'registered' or 'skipped'",
        )
    if result.version is not None and (
        isinstance(result.version, bool) or not isinstance(result.version, int)
    ):
        return (
            rule,
            f"Deployment.version is {result.version!r}; expected an int or None",
            "use the registry's version number, e.g. version=3",
        )
    return _serialisable({"Deployment": result}, "deploy")


def _check_report(result: Any) -> Problem | None:
    rule = "monitor-returns-report"
    if not isinstance(result, MonitorReport):
        hint = " (return None when there was nothing to watch)" if not result else ""
        return (
            rule,
            f"monitor returned {result!r:.60}; expected hookline.MonitorReport or None{hint}",
            "return MonitorReport(name=..., model=..., version=..., "
            "drifted=..., features={...}) or None",
        )
    if not isinstance(result.drifted, bool):
        return (
            rule,
            f"MonitorReport.drifted is a {type(result.drifted).__name__}",
            "wrap it: drifted=bool(...)",
        )
    if not isinstance(result.features, Mapping):
        return (
            rule,
            "MonitorReport.features must be a mapping of feature name to results",
            "features={'age': {'psi': 0.02, 'drifted': False}}",
        )
    return _serialisable({"MonitorReport": result}, "monitor")


def check_result(hook: str, result: Any) -> Problem | None:
    """Check what ``hook`` returned against its contract."""
    if hook in PROVIDER_HOOKS:
        return None if result is None else _check_provider(hook, result)
    if result is None:
        return None
    if hook == "validate":
        return _check_checks(result)
    if hook == "deploy":
        return _check_deployment(result)
    if hook == "monitor":
        return _check_report(result)
    return (
        "observer-returns-none",
        f"{hook} returned {result!r:.60}; observer hooks return "
        "nothing (hookline ignores the value)",
        "drop the return value; to put values in the run record use ctx.notes[...] = ...",
    )
