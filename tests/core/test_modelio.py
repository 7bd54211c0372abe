"""The loader's own checks: trees with indices outside their arrays are refused before
anything predicts; genuine tree models load."""

from __future__ import annotations

import numpy as np
import pytest
from hookline import modelio
from hookline.errors import ModelIntegrityError

X = np.random.default_rng(0).random((200, 3))
Y = (X[:, 0] > 0.5).astype(int)


def roundtrip(model):  # type: ignore[no-untyped-def]
    return modelio.loads(modelio.dumps(model), expected_sha256=None, where="model 'm' v1")


def test_genuine_tree_models_load() -> None:
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.tree import DecisionTreeClassifier

    for model in (
        DecisionTreeClassifier(max_depth=4),
        RandomForestClassifier(n_estimators=3, max_depth=3),
        GradientBoostingClassifier(n_estimators=3),
        HistGradientBoostingClassifier(max_iter=3),
    ):
        model.fit(X, Y)
        assert (roundtrip(model).predict(X) == model.predict(X)).all()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("left_child", 10**6, "node 0 whose left child is 1000000"),
        ("right_child", 0, "node 0 whose right child is 0"),  # a cycle back to the root
        ("feature", 7, "node 0 that splits on feature 7 of 3"),
    ],
)
def test_a_tree_with_an_index_outside_its_arrays_is_refused(
    field: str, value: int, message: str
) -> None:
    from sklearn.tree import DecisionTreeClassifier

    model = DecisionTreeClassifier(max_depth=3).fit(X, Y)
    state = model.tree_.__getstate__()
    nodes = state["nodes"].copy()
    nodes[field][0] = value
    state["nodes"] = nodes
    model.tree_.__setstate__(state)  # scikit-learn checks dtypes, not indices
    with pytest.raises(ModelIntegrityError, match=message) as refused:
        roundtrip(model)
    assert str(refused.value).startswith("model 'm' v1: refused to use: the model.tree_:")


def test_a_gradient_boosting_tree_with_a_bad_index_is_refused() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=3).fit(X, Y)
    model._predictors[1][0].nodes["left"][0] = 10**5
    with pytest.raises(ModelIntegrityError, match=r"_predictors\[1\]\[0\]: a gradient-boosting"):
        roundtrip(model)


def test_object_arrays_and_non_skops_bytes_are_refused_unread() -> None:
    import pickle

    with pytest.raises(ModelIntegrityError, match="this is a pickle"):
        modelio.loads(pickle.dumps([1]), expected_sha256=None, where="w")
    with pytest.raises(ModelIntegrityError, match="not a skops model file"):
        modelio.loads(b"{}", expected_sha256=None, where="w")
    with pytest.raises(ModelIntegrityError, match="unreadable skops file"):
        modelio.loads(b"PK\x03\x04garbage", expected_sha256=None, where="w")


def test_a_kd_tree_with_an_index_outside_its_arrays_is_refused() -> None:
    from sklearn.neighbors import KNeighborsClassifier

    model = KNeighborsClassifier(algorithm="kd_tree").fit(X, Y)
    assert (roundtrip(model).predict(X[:20]) == model.predict(X[:20])).all()
    _, idx_array, node_data, _ = model._tree.get_arrays()
    idx_array[3] = 10**6  # the arrays are the tree's own buffers
    with pytest.raises(ModelIntegrityError, match=r"_tree: a KD tree whose sample indices"):
        roundtrip(model)
    idx_array[3] = 3
    node_data["is_leaf"][:] = 0  # every node "inner": children past the array
    with pytest.raises(ModelIntegrityError, match="inner node whose children lie past"):
        roundtrip(model)
