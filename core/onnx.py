"""Predicting with a registered ONNX model: onnxruntime and numpy, nothing else.

A version whose pipeline converted carries ``model.onnx`` and, in its manifest, an ``onnx``
entry that says how to feed it (which input takes which feature columns, as float32 or as
text), what comes out, and the classes in the order of the scikit-learn model's
``classes_``. :func:`load` turns verified bytes and that entry into an :class:`OnnxModel`;
:func:`load_version` reads both from the registry, checking the artifact's sha256.

Serving and the monitor use this module, so it lives in the core, where adapters and
plugins may both import it; scikit-learn, scipy and pandas are never imported here (a test
asserts it), and numpy and onnxruntime only when a model is loaded.

Input values are what a request or a batch holds: numbers (``None`` and NaN are missing),
booleans, and text (``None``, NaN and pandas' NA are missing). A data frame or any mapping
of column name to values works as well as a sequence of rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hookline.errors import ModelIntegrityError, NotFound

if TYPE_CHECKING:
    from hookline.registry import Registry

__all__ = ["ARTIFACT", "MISSING_TEXT", "OnnxModel", "import_onnxruntime", "load", "load_version"]

ARTIFACT = "model.onnx"
"""The artifact name of a version's ONNX model."""

MISSING_TEXT = "\u2400hookline:missing"
"""What a missing text value is fed as (ONNX string tensors have no NaN); the converted
graph imputes it exactly where scikit-learn imputes NaN."""


class OnnxModel:
    """An ONNX model ready to predict, with the scikit-learn model's interface:
    :meth:`predict`, :meth:`predict_proba` (classifiers with probabilities) and
    ``classes_``.

    :param session: an ``onnxruntime.InferenceSession`` over the model.
    :param spec: the manifest's ``onnx`` entry (``inputs``, ``outputs``, ``task``,
        ``classes``, ``missing_text``).
    """

    def __init__(self, session: Any, spec: Mapping[str, Any]) -> None:
        import numpy as np

        self.session = session
        self.spec = spec
        self.task: str = str(spec.get("task", "regression"))
        self.inputs: tuple[dict[str, Any], ...] = tuple(dict(i) for i in spec["inputs"])
        self.features: tuple[str, ...] = tuple(f for i in self.inputs for f in i["features"])
        """Every feature column, in the order :meth:`predict` expects row values."""
        self.missing_text: str = str(spec.get("missing_text", MISSING_TEXT))
        outputs: Mapping[str, str] = spec.get("outputs", {})
        self._label = outputs.get("label")
        self._proba = outputs.get("probabilities")
        self._value = outputs.get("value")
        classes = spec.get("classes")
        self.classes_: Any = None if classes is None else np.asarray(classes)
        self._class_of: dict[Any, Any] | None = None
        if classes is not None and not all(isinstance(c, str) for c in classes):
            # numbers and booleans come out of the graph as int64: map them back
            self._class_of = {int(c): c for c in classes}
        names = {i.name for i in session.get_inputs()}
        missing = [i["name"] for i in self.inputs if i["name"] not in names]
        if missing:
            raise ModelIntegrityError(
                f"the ONNX model has no input(s) {', '.join(map(repr, missing))} its "
                "manifest describes",
                hint="re-register the version, or serve its skops model",
            )
        position = {name: k for k, name in enumerate(self.features)}
        self._columns = [
            ([position[f] for f in i["features"]], i["type"] == "string") for i in self.inputs
        ]

    @property
    def has_probabilities(self) -> bool:
        return self._proba is not None

    # -- input -------------------------------------------------------------------------

    def feeds(self, data: Any) -> dict[str, Any]:
        """The session's input tensors for ``data``: rows (sequences in :attr:`features`
        order) or a mapping / data frame of columns."""
        import numpy as np

        if isinstance(data, Mapping) or hasattr(data, "columns"):
            missing = [f for f in self.features if f not in data]
            if missing:
                raise ValueError(f"missing feature column(s): {', '.join(map(repr, missing))}")
            columns = [data[f] for f in self.features]
        else:
            rows = list(data)
            width = len(self.features)
            for number, row in enumerate(rows):
                if len(row) != width:
                    raise ValueError(
                        f"row {number} has {len(row)} values; the model takes {width}: "
                        f"{', '.join(self.features)}"
                    )
            columns = list(zip(*rows, strict=True)) if rows else [() for _ in self.features]
        out = {}
        for spec, (positions, text) in zip(self.inputs, self._columns, strict=True):
            parts = [
                _text_column(columns[p], self.missing_text) if text else _number_column(columns[p])
                for p in positions
            ]
            out[spec["name"]] = parts[0] if len(parts) == 1 else np.hstack(parts)
        return out

    # -- prediction --------------------------------------------------------------------

    def run(self, data: Any) -> dict[str, Any]:
        """Every output of the graph for ``data``, by name."""
        feeds = self.feeds(data)
        names = [o.name for o in self.session.get_outputs()]
        return dict(zip(names, self.session.run(names, feeds), strict=True))

    def predict(self, data: Any) -> Any:
        """Labels (classifiers, as the scikit-learn model's classes) or values (regressors)
        as a 1-D numpy array."""
        import numpy as np

        if self.task == "classification":
            return self._labels(self._run_one(self._label, data))
        return np.asarray(self._run_one(self._value, data), dtype="float64").reshape(-1)

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities, one column per class in ``classes_`` order (float64)."""
        import numpy as np

        if self._proba is None:
            raise AttributeError("this model gives no class probabilities")
        return np.asarray(self._run_one(self._proba, data), dtype="float64")

    def predict_both(self, data: Any) -> tuple[Any, Any]:
        """Labels and probabilities from one run of the graph."""
        import numpy as np

        if self._proba is None:
            return self.predict(data), None
        out = self.session.run([self._label, self._proba], self.feeds(data))
        return self._labels(out[0]), np.asarray(out[1], dtype="float64")

    def _run_one(self, name: str | None, data: Any) -> Any:
        if name is None:
            raise ModelIntegrityError("the ONNX manifest entry names no output for this task")
        return self.session.run([name], self.feeds(data))[0]

    def _labels(self, raw: Any) -> Any:
        import numpy as np

        raw = np.asarray(raw).reshape(-1)
        if self._class_of is None:
            return raw
        try:
            return np.asarray([self._class_of[int(v)] for v in raw.tolist()])
        except KeyError as exc:
            raise ModelIntegrityError(f"the ONNX model answered an unknown class {exc}") from None


def _number_column(values: Any) -> Any:
    import numpy as np

    try:
        column = np.asarray(values, dtype="float32")
    except (TypeError, ValueError):  # None, pandas NA, text among the numbers
        column = np.array([_float(v) for v in values], dtype="float32")
    return column.reshape(-1, 1)


def _float(value: Any) -> float:
    if value is None or _is_na(value):
        return math.nan
    return float(value)


def _text_column(values: Any, missing: str) -> Any:
    import numpy as np

    out = [
        missing if v is None or _is_na(v) else v if isinstance(v, str) else str(v) for v in values
    ]
    return np.array(out, dtype=object).reshape(-1, 1)


def _is_na(value: Any) -> bool:
    if isinstance(value, float):
        return value != value
    # pandas.NA and NaT without importing pandas: neither equals itself truthfully
    return type(value).__name__ in ("NAType", "NaTType")


def load(data: bytes, spec: Mapping[str, Any], *, threads: int = 1) -> OnnxModel:
    """An :class:`OnnxModel` over verified ONNX bytes.

    :param spec: the version manifest's ``onnx`` entry.
    :param threads: onnxruntime's intra-op threads (one suits a function instance).
    :raises ModelIntegrityError: the bytes are not a model onnxruntime can run.
    """
    ort = import_onnxruntime()

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(
            bytes(data), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        raise ModelIntegrityError(
            f"onnxruntime cannot load the ONNX model: {exc}",
            hint="serve the version's skops model, or re-register it",
        ) from None
    return OnnxModel(session, spec)


def load_version(
    registry: Registry, model: str, version: int, *, threads: int = 1
) -> tuple[OnnxModel, Any]:
    """Read ``model.onnx`` of a version (sha256 checked against its manifest) and load it.

    :returns: the model and the :class:`~hookline.registry.ModelVersion`.
    :raises NotFound: the version has no usable ONNX artifact (``onnx.status`` is not
        ``ok``): use its skops model.
    :raises ModelIntegrityError: checksum mismatch or an unloadable graph.
    """
    mv = registry.get(model, version)
    spec = mv.manifest.get("onnx") or {}
    if spec.get("status") != "ok" or ARTIFACT not in mv.artifacts:
        reason = spec.get("reason") or "it was registered without one"
        raise NotFound(f"model {model!r} version {version} has no ONNX artifact: {reason}")
    data = registry.read_artifact(model, version, ARTIFACT)
    return load(data, spec, threads=threads), mv


def import_onnxruntime() -> Any:
    """onnxruntime, imported with its telemetry off unless the operator says otherwise.

    Since 1.32 onnxruntime's Linux builds collect telemetry: a device-id file in the
    temporary directory (shared by every invocation of a warm function) and HTTPS uploads
    from a serving or scoring function. ``ORT_DISABLE_TELEMETRY`` is read when it loads.
    """
    import os

    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime

    return onnxruntime
