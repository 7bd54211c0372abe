"""What answers a prediction: the :class:`Predictor` protocol and its scikit-learn form.

A served version is one :class:`~._loader.ModelBundle`; the bundle's ``predictor`` is the
only part that knows which runtime scores. Every route (``/predict``, ``/invocations``,
``/v2/.../infer``) hands it rows of validated values in the schema's column order and gets
plain Python lists back, so another runtime (an ONNX session) slots in by implementing the
same four members.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from hookline.adapters.serving._schema import FeatureSchema
from hookline.errors import ModelIntegrityError

if TYPE_CHECKING:
    from hookline.onnx import OnnxModel

__all__ = ["OnnxPredictor", "Predictor", "SklearnPredictor"]

Rows = Sequence[Sequence[Any]]


@runtime_checkable
class Predictor(Protocol):
    """A loaded model that scores rows.

    ``schema`` is the input schema: the features, in the order the values of each row
    come in. ``classes`` are the class labels of a classifier (``None`` for a regressor),
    in the column order of :meth:`predict_proba`.
    """

    schema: FeatureSchema
    classes: tuple[Any, ...] | None

    @property
    def has_proba(self) -> bool:
        """Whether :meth:`predict_proba` answers (a classifier that has probabilities)."""
        ...

    def predict(self, rows: Rows) -> list[Any]:
        """One prediction per row, as JSON-ready Python values."""
        ...

    def predict_proba(self, rows: Rows) -> list[list[float]] | None:
        """Class probabilities per row, or ``None`` when the model has none."""
        ...


class SklearnPredictor:
    """A fitted scikit-learn estimator (usually a Pipeline), fed a DataFrame when it was
    fitted on named columns, else a 2-D array.

    :param model: the estimator, loaded and verified by the registry.
    :param schema: the manifest's feature schema; reordered to the model's own columns
        when it was fitted on a DataFrame.
    :param where: the version's URI, for errors.
    :raises ModelIntegrityError: the model expects columns the schema does not describe.
    """

    runtime = "sklearn"

    def __init__(self, model: Any, schema: FeatureSchema, *, where: str) -> None:
        # numpy and pandas come with the scikit-learn runtime only
        from hookline.adapters.serving._frame import input_builder, needs_frame

        frame = needs_frame(model)
        if frame:
            schema = schema.reorder([str(c) for c in model.feature_names_in_], where=where)
        self.model = model
        self.schema = schema
        classes = getattr(model, "classes_", None)
        self.classes = tuple(classes.tolist()) if classes is not None else None
        self._build = input_builder(schema, frame=frame)
        self._proba = self.classes is not None and hasattr(model, "predict_proba")

    @property
    def has_proba(self) -> bool:
        return self._proba

    def predict(self, rows: Rows) -> list[Any]:
        return self.model.predict(self._build(rows)).tolist()  # type: ignore[no-any-return]

    def predict_proba(self, rows: Rows) -> list[list[float]] | None:
        if not self._proba:
            return None
        return self.model.predict_proba(self._build(rows)).tolist()  # type: ignore[no-any-return]

    def predict_both(self, rows: Rows, proba: bool) -> tuple[list[Any], list[list[float]] | None]:
        """Predictions and, when asked, probabilities, building the input once."""
        x = self._build(rows)
        predictions = self.model.predict(x).tolist()
        probabilities = self.model.predict_proba(x).tolist() if proba and self._proba else None
        return predictions, probabilities


class OnnxPredictor:
    """A version's verified ONNX model (:class:`hookline.onnx.OnnxModel`): onnxruntime and
    numpy only, never scikit-learn, scipy, skops or pandas.

    The schema keeps the manifest's column order (the scikit-learn model's, so every route
    reads and answers columns exactly as with :class:`SklearnPredictor`); rows are permuted
    to the graph's inputs here. Classes come from the manifest's ``onnx`` entry, in the
    scikit-learn model's ``classes_`` order, which is the column order of the
    probabilities the graph answers.

    :param model: the loaded ONNX model.
    :param schema: the manifest's feature schema.
    :param where: the version's URI, for errors.
    :raises ModelIntegrityError: the ONNX model's inputs and the feature schema disagree.
    """

    runtime = "onnx"

    def __init__(self, model: OnnxModel, schema: FeatureSchema, *, where: str) -> None:
        wanted = set(model.features)
        unknown = sorted(wanted - set(schema.names))
        if unknown or len(wanted) != len(model.features):
            raise ModelIntegrityError(
                f"{where}: the ONNX model's inputs ({', '.join(model.features)}) do not match "
                f"the manifest's feature schema ({', '.join(schema.names)})",
                hint="re-register the version, or serve its skops model: "
                '[serving] runtime = "sklearn"',
            )
        schema = schema.reorder([n for n in schema.names if n in wanted], where=where)
        self.model = model
        self.schema = schema
        position = {name: k for k, name in enumerate(schema.names)}
        self._take = [position[f] for f in model.features]
        self._identity = self._take == list(range(len(self._take)))
        classes = model.spec.get("classes")
        self.classes = tuple(classes) if classes is not None else None
        self._proba = self.classes is not None and model.has_probabilities

    @property
    def has_proba(self) -> bool:
        return self._proba

    def _rows(self, rows: Rows) -> Rows:
        if self._identity:
            return rows
        take = self._take
        return [[row[k] for k in take] for row in rows]

    def predict(self, rows: Rows) -> list[Any]:
        return self.model.predict(self._rows(rows)).tolist()  # type: ignore[no-any-return]

    def predict_proba(self, rows: Rows) -> list[list[float]] | None:
        if not self._proba:
            return None
        return self.model.predict_proba(self._rows(rows)).tolist()  # type: ignore[no-any-return]

    def predict_both(self, rows: Rows, proba: bool) -> tuple[list[Any], list[list[float]] | None]:
        """Predictions and, when asked, probabilities, from one run of the graph."""
        x = self._rows(rows)
        if not (proba and self._proba):
            return self.model.predict(x).tolist(), None
        labels, probabilities = self.model.predict_both(x)
        return labels.tolist(), probabilities.tolist()
