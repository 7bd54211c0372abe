"""The model input built per request: same values, dtypes and column order as training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hookline.adapters.serving._frame import input_builder, needs_frame
from hookline.adapters.serving._schema import FeatureSchema

from .conftest import FEATURES


def test_mixed_columns_keep_their_dtypes_and_order() -> None:
    schema = FeatureSchema.from_manifest({"features": FEATURES}, where="test")
    build = input_builder(schema, frame=True)
    frame = build([(31, None, "pro", True, None), (40, 2.5, "team", False, "web")])
    assert list(frame.columns) == list(FEATURES)
    assert frame["age"].dtype == np.int64 and frame["income"].dtype == np.float64
    assert np.isnan(frame["income"][0]) and frame["income"][1] == 2.5
    assert frame["active"].dtype == np.bool_
    assert frame["plan"].tolist() == ["pro", "team"]
    assert pd.isna(frame["signup channel"][0])


@pytest.mark.parametrize("nullable", [False, True])
def test_homogeneous_numeric_columns_make_one_block(nullable: bool) -> None:
    spec = {n: {"dtype": "number", "nullable": nullable} for n in ("b", "a", "c d")}
    schema = FeatureSchema.from_manifest({"features": spec}, where="test")
    frame = input_builder(schema, frame=True)([(1, 2.5, None if nullable else 3.0), (4, 5, 6)])
    assert list(frame.columns) == ["b", "a", "c d"]
    assert (frame.dtypes == np.float64).all()
    assert frame["b"].tolist() == [1.0, 4.0] and frame["c d"][1] == 6.0
    assert np.isnan(frame["c d"][0]) == nullable


def test_matrix_for_models_fitted_on_arrays() -> None:
    spec = {n: {"dtype": "number"} for n in ("x0", "x1")}
    schema = FeatureSchema.from_manifest({"features": spec}, where="test")
    matrix = input_builder(schema, frame=False)([(1, 2), (3, 4)])
    assert matrix.shape == (2, 2) and matrix.dtype == np.float64

    class Plain:
        pass

    class Named:
        feature_names_in_ = np.array(["a"], dtype=object)

    assert not needs_frame(Plain()) and needs_frame(Named())
