"""What answers a prediction: the :class:`Predictor` protocol and its scikit-learn form.

A served version is one :class:`~._loader.ModelBundle`; the bundle's ``predictor`` is the
only part that knows which runtime scores. Every route (``/predict``, ``/invocations``,
``/v2/.../infer``) hands it rows of validated values in the schema's column order and gets
plain Python lists back, so another runtime (an ONNX session) slots in by implementing the
same four members.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from hookline.adapters.serving._frame import input_builder, needs_frame
from hookline.adapters.serving._schema import FeatureSchema

__all__ = ["Predictor", "SklearnPredictor"]

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

    def __init__(self, model: Any, schema: FeatureSchema, *, where: str) -> None:
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
