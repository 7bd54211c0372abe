"""Bounds checks of the tree structures in a loaded model, before anything predicts.

scikit-learn's ``Tree`` (decision trees, forests, gradient boosting), ``TreePredictor``
(histogram gradient boosting) and ``KDTree`` (nearest neighbours) walk indices from their
arrays without bounds checks. A crafted file with an index outside the array reads memory it
does not own (a crash, or worse) the first time the model predicts; skops leaves both
types out of its defaults for that reason. hookline trusts them, because its own trainer
writes them, and checks every index here: children must come after their parent (which
also rules out cycles) and inside the array, and features inside the model's input.

numpy is imported when a tree is found.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_trees"]

_TREE = "sklearn.tree._tree.Tree"
_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
_KDTREE = "sklearn.neighbors._kd_tree.KDTree"
_MAX_OBJECTS = 1_000_000


def _name(obj: Any) -> str:
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def check_trees(root: Any) -> str | None:
    """The first problem found in a ``Tree`` or ``TreePredictor`` reachable from
    ``root`` (through estimators' attributes, lists, tuples, dicts and object arrays),
    or ``None`` when every index is in bounds."""
    seen: set[int] = set()
    stack: list[tuple[Any, int | None, str]] = [(root, None, "the model")]
    while stack and len(seen) < _MAX_OBJECTS:
        obj, n_features, path = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, str | bytes | int | float | bool):
            continue
        seen.add(id(obj))
        name = _name(obj)
        if name == _TREE:
            problem = _check_tree(obj, n_features)
        elif name == _PREDICTOR:
            problem = _check_predictor(obj, n_features)
        elif name == _KDTREE:
            problem = _check_kdtree(obj, n_features)
        else:
            problem = None
            stack.extend(_children(obj, n_features, path))
        if problem:
            return f"{path}: {problem}"
    return None


def _children(obj: Any, n_features: int | None, path: str) -> list[tuple[Any, int | None, str]]:
    if isinstance(obj, dict):
        return [(v, n_features, f"{path}[{k!r}]") for k, v in obj.items()]
    if isinstance(obj, list | tuple | set | frozenset):
        return [(v, n_features, f"{path}[{i}]") for i, v in enumerate(obj)]
    if type(obj).__module__ == "numpy" and getattr(obj, "dtype", None) is not None:
        if obj.dtype.kind != "O":  # numbers: nothing to walk
            return []
        return [(v, n_features, f"{path}[{i}]") for i, v in enumerate(obj.ravel().tolist())]
    if not type(obj).__module__.startswith("sklearn") or not hasattr(obj, "__dict__"):
        return []
    own = getattr(obj, "n_features_in_", None)
    width = own if isinstance(own, int) else n_features
    return [(v, width, f"{path}.{k}") for k, v in vars(obj).items()]


def _check_tree(tree: Any, n_features: int | None) -> str | None:
    import numpy as np

    count = int(tree.node_count)
    left = np.asarray(tree.children_left, dtype=np.int64)
    right = np.asarray(tree.children_right, dtype=np.int64)
    feature = np.asarray(tree.feature, dtype=np.int64)
    width = int(tree.n_features)
    if count < 1 or not len(left) == len(right) == len(feature) == count:
        return f"a tree with {count} nodes but arrays of other lengths"
    if n_features is not None and width != n_features:
        return f"a tree over {width} features inside an estimator of {n_features}"
    return _check_nodes("tree", left, right, feature, left != -1, width, leaf=-1)


def _check_predictor(predictor: Any, n_features: int | None) -> str | None:
    import numpy as np

    nodes = predictor.nodes
    if len(nodes) < 1:
        return "a gradient-boosting tree without nodes"
    internal = nodes["is_leaf"] == 0
    left = nodes["left"].astype(np.int64)
    right = nodes["right"].astype(np.int64)
    feature = nodes["feature_idx"].astype(np.int64)
    if n_features is None:
        return "a gradient-boosting tree outside an estimator that says its input width"
    problem = _check_nodes("gradient-boosting tree", left, right, feature, internal, n_features)
    if problem:
        return problem
    categorical = internal & (nodes["is_categorical"] != 0)
    if categorical.any():
        rows = len(getattr(predictor, "raw_left_cat_bitsets", ()))
        bitsets = nodes["bitset_idx"][categorical].astype(np.int64)
        if (bitsets < 0).any() or (bitsets >= rows).any():
            return "a gradient-boosting tree whose categorical split points past its bitsets"
    return None


def _check_kdtree(tree: Any, n_features: int | None) -> str | None:
    """A nearest-neighbours KD tree: its sample indices inside the data, its nodes' index
    ranges inside the index array, and the children of every inner node (``2i+1``,
    ``2i+2``) inside the node array."""
    import numpy as np

    data, idx_array, node_data, node_bounds = tree.get_arrays()
    samples, width = data.shape
    nodes = len(node_data)
    if n_features is not None and width != n_features:
        return f"a KD tree over {width} features inside an estimator of {n_features}"
    index = np.asarray(idx_array, dtype=np.int64)
    if len(index) != samples or (index < 0).any() or (index >= samples).any():
        return f"a KD tree whose sample indices point outside its {samples} samples"
    start = node_data["idx_start"].astype(np.int64)
    end = node_data["idx_end"].astype(np.int64)
    if nodes < 1 or (start < 0).any() or (start > end).any() or (end > samples).any():
        return "a KD tree node whose index range lies outside the index array"
    inner = np.flatnonzero(node_data["is_leaf"] == 0)
    if len(inner) and int(inner.max()) * 2 + 2 >= nodes:
        return f"a KD tree inner node whose children lie past its {nodes} nodes"
    if node_bounds.shape != (2, nodes, width):
        return f"a KD tree whose node bounds have shape {node_bounds.shape}"
    return None


def _check_nodes(
    what: str,
    left: Any,
    right: Any,
    feature: Any,
    internal: Any,
    width: int,
    leaf: int | None = None,
) -> str | None:
    import numpy as np

    count = len(left)
    index = np.arange(count)
    if leaf is not None and ((left == leaf) != (right == leaf)).any():
        return f"a {what} node with one child"
    for side, child in (("left", left), ("right", right)):
        bad = internal & ((child <= index) | (child >= count))
        if bad.any():
            at = int(np.flatnonzero(bad)[0])
            return (
                f"a {what} node {at} whose {side} child is {int(child[at])} "
                f"(the tree has {count} nodes)"
            )
    bad = internal & ((feature < 0) | (feature >= width))
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        return f"a {what} node {at} that splits on feature {int(feature[at])} of {width}"
    return None
