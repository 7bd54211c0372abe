"""Converting a fitted scikit-learn pipeline to ONNX, kept only if it predicts the same.

:func:`export` converts with skl2onnx and then runs the ONNX model, through the same
:class:`hookline.onnx.OnnxModel` serving and scoring use, on the hold-out rows (plus a
few probe rows with every feature missing in turn and every text feature set to a value
never seen in training). It is kept when the labels are identical, class probabilities
within 1e-4 and regression outputs within a relative 1e-5 (relative to the output, or
to the hold-out outputs' root mean square when the output is smaller than that);
otherwise the result records why, and the version is registered without it.

How the pipeline is fed: every numeric or boolean feature is one float32 input of shape
``[N, 1]`` named after the column, every text feature one string input; a missing text
value is fed as :data:`hookline.onnx.MISSING_TEXT`. skl2onnx's ``SimpleImputer``
converter wants the missing marker of a text column to be a string, so the pipeline is
converted from a copy whose text imputers (and one-hot categories) use that marker where
the fitted model uses NaN; the fitted model itself is not changed. Pipelines that do not
start with a ``ColumnTransformer`` over named columns get a single float32 input holding
every feature. Double precision is not used: onnxruntime has no double kernel for the
``Imputer`` operator, and the tree ensembles of the ``ai.onnx.ml`` domain below opset 5
compute in float32 anyway.

skl2onnx, onnx and onnxruntime are imported inside the functions (``hookline[onnx]``).
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LABEL_TOLERANCE",
    "PROBABILITY_TOLERANCE",
    "TARGET_OPSET",
    "VALUE_TOLERANCE",
    "OnnxExport",
    "export",
]

TARGET_OPSET: dict[str, int] = {"": 17, "ai.onnx.ml": 3}
"""The opsets asked of skl2onnx; the model records the (lower or equal) ones it uses.
Every converter the built-in pipelines need exists at these versions, and the ``onnx``
extra's lowest onnxruntime (1.20.1) runs them."""

LABEL_TOLERANCE = 0
"""Labels must be identical."""
PROBABILITY_TOLERANCE = 1e-4
"""Largest absolute difference allowed between class probabilities."""
VALUE_TOLERANCE = 1e-5
"""Largest relative difference allowed between regression outputs."""

_UNSEEN = "\u2400hookline:unseen"


@dataclass(frozen=True)
class OnnxExport:
    """The outcome of :func:`export`.

    :param status: ``ok`` (``data`` holds the model) or ``failed`` (``reason`` says why).
    :param data: the serialised ONNX model when ``ok``.
    :param reason: why there is no ONNX model (conversion error, parity failure).
    :param spec: how to feed and read the model; the manifest's ``onnx`` entry.
    :param parity: what the parity check measured.
    """

    status: str
    data: bytes | None = None
    reason: str | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    parity: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def manifest(self) -> dict[str, Any]:
        """The version manifest's ``onnx`` entry."""
        return {
            **self.spec,
            "status": self.status,
            "reason": self.reason,
            "parity": dict(self.parity),
        }


def export(
    estimator: Any,
    features: Mapping[str, Mapping[str, Any]],
    task: str,
    holdout: Any,
    *,
    target_opset: Mapping[str, int] | None = None,
) -> OnnxExport:
    """Convert ``estimator`` and check it on ``holdout``; never raises for a model that
    does not convert (the reason is in the result).

    :param features: the feature schema (name to ``{"dtype", ...}``), in column order.
    :param task: ``classification`` or ``regression``.
    :param holdout: ``(X, y)`` or ``X``: the rows the parity check predicts (a DataFrame
        with the feature columns).
    """
    opsets = dict(target_opset or TARGET_OPSET)
    try:
        data, spec = convert(estimator, features, task, target_opset=opsets)
    except ImportError as exc:
        return OnnxExport(
            "failed",
            reason=f"ONNX conversion needs {exc.name or 'skl2onnx'}: pip install 'hookline[onnx]'",
        )
    except Exception as exc:
        return OnnxExport("failed", reason=_conversion_reason(exc))
    X = holdout[0] if isinstance(holdout, tuple) else holdout
    if X is None or len(X) == 0:
        return OnnxExport(
            "failed", reason="no hold-out rows to check the ONNX model against", spec=spec
        )
    try:
        parity = check_parity(estimator, data, spec, _probe(X, features))
    except Exception as exc:
        return OnnxExport(
            "failed", reason=f"the ONNX model failed to predict: {_first_line(exc)}", spec=spec
        )
    if not parity["passed"]:
        return OnnxExport("failed", reason=parity["reason"], spec=spec, parity=parity)
    return OnnxExport("ok", data=data, spec=spec, parity=parity)


def convert(
    estimator: Any,
    features: Mapping[str, Mapping[str, Any]],
    task: str,
    *,
    target_opset: Mapping[str, int] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """Convert without checking: the ONNX bytes and their ``spec`` (inputs, outputs,
    classes, opsets). Raises whatever skl2onnx raises."""
    from hookline.onnx import MISSING_TEXT, import_onnxruntime

    import_onnxruntime()  # before skl2onnx imports it: telemetry off
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    text = {name for name, spec in features.items() if spec.get("dtype") == "string"}
    names = list(features)
    prepared = copy.deepcopy(estimator)
    columnwise = _starts_with_column_transformer(prepared)
    if columnwise:
        _mark_text_missing(prepared, text, MISSING_TEXT)
        inputs = [
            {"name": n, "features": [n], "type": "string" if n in text else "float"} for n in names
        ]
    elif text:
        raise NotImplementedError(
            "text features reach the model without a ColumnTransformer over named columns"
        )
    else:
        inputs = [{"name": "input", "features": names, "type": "float"}]
    initial_types = [
        (
            i["name"],
            StringTensorType([None, 1])
            if i["type"] == "string"
            else FloatTensorType([None, len(i["features"])]),
        )
        for i in inputs
    ]
    final = prepared.steps[-1][1] if hasattr(prepared, "steps") else prepared
    classifier = task == "classification"
    # probabilities as one tensor rather than a list of maps (classifiers that have them)
    options = {id(final): {"zipmap": False}} if classifier and _has_proba(final) else None
    with warnings.catch_warnings():
        # protobuf 6 warns about the booleans skl2onnx writes (see pyproject's onnx extra)
        warnings.simplefilter("ignore", DeprecationWarning)
        onx = convert_sklearn(
            prepared,
            initial_types=initial_types,
            target_opset=dict(target_opset or TARGET_OPSET),
            options=options,
        )
    graph_inputs = [i.name for i in onx.graph.input]
    for described, actual in zip(inputs, graph_inputs, strict=True):
        described["name"] = actual  # skl2onnx may rename inputs to identifiers
    outputs = [o.name for o in onx.graph.output]
    spec: dict[str, Any] = {
        "format": "onnx",
        "task": task,
        "inputs": inputs,
        "opsets": {(o.domain or "ai.onnx"): int(o.version) for o in onx.opset_import},
        "missing_text": MISSING_TEXT,
    }
    if classifier:
        classes = getattr(estimator, "classes_", None)
        if classes is None:
            raise NotImplementedError("the classifier has no classes_")
        spec["classes"] = [_plain(c) for c in classes]
        spec["outputs"] = {"label": outputs[0]}
        if _has_proba(estimator) and len(outputs) > 1:
            spec["outputs"]["probabilities"] = outputs[1]
    else:
        spec["outputs"] = {"value": outputs[0]}
    return onx.SerializeToString(), spec


def check_parity(estimator: Any, data: bytes, spec: Mapping[str, Any], X: Any) -> dict[str, Any]:
    """Predict ``X`` with the fitted model and with the ONNX model, and compare."""
    import numpy as np
    from hookline.onnx import load

    model = load(data, spec)
    ours = model.predict(X)
    theirs = np.asarray(estimator.predict(X))
    out: dict[str, Any] = {"rows": len(X)}
    if spec["task"] == "classification":
        differ = np.flatnonzero(np.asarray(ours) != theirs)
        out["labels_differ"] = len(differ)
        reasons = []
        if len(differ):
            first = int(differ[0])
            reasons.append(
                f"{len(differ)} of {len(X)} labels differ (first at row {first}: "
                f"scikit-learn {_plain(theirs[first])!r}, ONNX {_plain(ours[first])!r})"
            )
        if model.has_probabilities and _has_proba(estimator):
            gap = float(np.max(np.abs(model.predict_proba(X) - estimator.predict_proba(X))))
            out["max_probability_deviation"] = gap
            out["probability_tolerance"] = PROBABILITY_TOLERANCE
            if not gap <= PROBABILITY_TOLERANCE:
                reasons.append(
                    f"probabilities differ by up to {gap:.3g} (tolerance {PROBABILITY_TOLERANCE:g})"
                )
        out["passed"] = not reasons
        if reasons:
            out["reason"] = "parity: " + "; ".join(reasons)
        return out
    expected = theirs.astype("float64").reshape(-1)
    got = np.asarray(ours, dtype="float64").reshape(-1)
    rms = float(np.sqrt(np.mean(expected**2))) if len(expected) else 0.0
    scale = np.maximum(np.abs(expected), rms if rms > 0 else 1.0)
    relative = np.abs(got - expected) / scale
    worst = float(np.max(relative)) if len(relative) else 0.0
    out.update(max_relative_deviation=worst, value_tolerance=VALUE_TOLERANCE)
    out["passed"] = bool(np.all(np.isfinite(got))) and worst <= VALUE_TOLERANCE
    if not out["passed"]:
        row = int(np.nanargmax(relative)) if np.isfinite(relative).any() else 0
        out["reason"] = (
            f"parity: outputs differ by a relative {worst:.3g} (tolerance {VALUE_TOLERANCE:g}; "
            f"row {row}: scikit-learn {expected[row]:.9g}, ONNX {got[row]:.9g})"
        )
    return out


# --- preparing the copy that is converted -------------------------------------------------


def _starts_with_column_transformer(estimator: Any) -> bool:
    from sklearn.compose import ColumnTransformer

    first = estimator.steps[0][1] if hasattr(estimator, "steps") else estimator
    return isinstance(first, ColumnTransformer) and all(
        isinstance(c, str) for _, _, cols in first.transformers_ for c in _as_list(cols)
    )


def _as_list(columns: Any) -> list[Any]:
    if isinstance(columns, str | int):
        return [columns]
    try:
        return list(columns)
    except TypeError:
        return [columns]


def _mark_text_missing(estimator: Any, text: set[str], marker: str) -> None:
    """In the copy to convert, make the first step over text columns treat ``marker`` as
    the missing value where the fitted model treats NaN."""
    first = estimator.steps[0][1] if hasattr(estimator, "steps") else estimator
    for _, transformer, columns in first.transformers_:
        cols = _as_list(columns)
        if not cols or not set(cols) <= text or isinstance(transformer, str):
            continue
        step = transformer.steps[0][1] if hasattr(transformer, "steps") else transformer
        _mark_step(step, marker)


def _mark_step(step: Any, marker: str) -> None:
    import numpy as np
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    if isinstance(step, SimpleImputer) and _is_nan(step.missing_values):
        step.missing_values = marker
    elif isinstance(step, OneHotEncoder | OrdinalEncoder):
        step.categories_ = [
            np.array([marker if _is_nan(c) else c for c in cats], dtype=object)
            if cats.dtype == object
            else cats
            for cats in step.categories_
        ]


def _has_proba(estimator: Any) -> bool:
    try:  # scikit-learn hides predict_proba where it is unavailable (SVC without probability)
        return hasattr(estimator, "predict_proba")
    except Exception:
        return False


def _is_nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _probe(X: Any, features: Mapping[str, Mapping[str, Any]]) -> Any:
    """The hold-out rows, plus rows exercising what the hold-out may lack: each feature
    missing in turn, and each text feature holding a value never seen in training."""
    import numpy as np
    import pandas as pd

    X = X[list(features)]
    base = X.iloc[[0]]
    extra = []
    for name, spec in features.items():
        text = spec.get("dtype") == "string"
        missing = base.copy()
        # what ingest gives for a gap: NaN in a text column of its own dtype, else a float
        missing[name] = pd.Series(
            [np.nan], index=base.index, dtype=base[name].dtype if text else "float64"
        )
        extra.append(missing)
        if text:
            unseen = base.copy()
            unseen[name] = pd.Series([_UNSEEN], index=base.index, dtype=base[name].dtype)
            extra.append(unseen)
    return pd.concat([X, *extra], ignore_index=True)


# --- messages -------------------------------------------------------------------------------


def _conversion_reason(exc: Exception) -> str:
    message = _first_line(exc)
    if "Expected an int, got a boolean" in f"{exc} {exc.__cause__}":
        return (
            f"skl2onnx cannot write this model's trees with protobuf 7 ({message}); "
            "install protobuf<7 (the hookline[onnx] extra pins it) until skl2onnx "
            "releases its fix"
        )
    return f"conversion failed: {type(exc).__name__}: {message}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line[:400]


def _plain(value: Any) -> Any:
    """A numpy scalar as the plain Python value JSON can hold."""
    return value.item() if hasattr(value, "item") else value
