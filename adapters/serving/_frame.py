"""Turning validated records into the model's input, with as little per-request work as
possible: the column order, the dtype of each column and the constructor are decided once
per loaded version, not per request.

pandas is imported here only when a model needs a DataFrame (it was fitted on one: it has
``feature_names_in_``, as every scikit-learn Pipeline with a ColumnTransformer over named
columns does). In practice scikit-learn imports pandas itself when the model is loaded, so
the serving entry point pays for pandas at the first model load, never at import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hookline.adapters.serving._schema import FeatureSchema

__all__ = ["InputBuilder", "input_builder", "needs_frame"]

InputBuilder = Callable[[Sequence[Sequence[Any]]], Any]
"""Rows (one sequence of values per record, in schema order) to the model's input."""


def needs_frame(model: Any) -> bool:
    """Whether ``model`` was fitted on a DataFrame with named columns."""
    names = getattr(model, "feature_names_in_", None)
    return names is not None and len(names) > 0 and isinstance(names[0], str)


def _column_dtype(dtype: str, nullable: bool) -> Any:
    import numpy as np

    if dtype == "number" or (dtype == "integer" and nullable):
        return np.float64  # None becomes NaN, as when pandas reads a column with gaps
    if dtype == "integer":
        return np.int64
    if dtype == "boolean" and not nullable:
        return np.bool_
    return object


def input_builder(schema: FeatureSchema, *, frame: bool) -> InputBuilder:
    """Build the function that turns rows into the model's input.

    :param schema: the features, in the model's column order.
    :param frame: build a pandas DataFrame (named columns); else a 2-D numpy array.
    """
    import numpy as np

    names = list(schema.names)
    dtypes = [_column_dtype(f.dtype, f.nullable) for f in schema.features]
    indices = range(len(names))
    if frame:
        import pandas as pd

        columns = pd.Index(names)  # immutable: built once, shared by every request
        if len(set(dtypes)) == 1 and dtypes[0] is not object:
            block_dtype = dtypes[0]

            def to_block(rows: Sequence[Sequence[Any]]) -> Any:
                # one homogeneous block: an order of magnitude cheaper than column by column
                block = np.array(rows, dtype=block_dtype).reshape(len(rows), len(names))
                return pd.DataFrame(block, columns=columns, copy=False)

            return to_block

        def to_frame(rows: Sequence[Sequence[Any]]) -> Any:
            columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
            data = {names[i]: np.array(columns[i], dtype=dtypes[i]) for i in indices}
            return pd.DataFrame(data, copy=False)

        return to_frame
    numeric = all(d is not object for d in dtypes)
    matrix_dtype = np.float64 if numeric else object

    def to_matrix(rows: Sequence[Sequence[Any]]) -> Any:
        return np.array(rows, dtype=matrix_dtype).reshape(len(rows), len(names))

    return to_matrix
