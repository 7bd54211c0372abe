"""Model serialisation: skops only, verified by sha256, never pickle; loaded only when every
type and function it names is trusted by its exact name.

Every path that loads a model (the registry, so serving, the gates, the drift monitor,
the CLI and the plugin kit) ends in :func:`loads`. Trust is a set of exact names:

* skops' own defaults (scikit-learn's estimator classes, numpy's and scipy's ufuncs,
  builtin containers and primitives: exact names skops keeps, never a namespace);
* :data:`BUILTIN_TRUSTED_TYPES`: what the built-in trainer's pipelines contain beyond
  those (derived by fitting every estimator the docs name; a test keeps it exact);
* what a project lists in ``trusted_types``.

Nothing is trusted by prefix: ``numpy.`` and ``sklearn.`` hold functions that run a
string as code or a command (``numpy.testing``'s ``runstring``, ``subprocess.check_output``
re-exported by ``sklearn.utils._testing``), so a function is allowed only when named
exactly. The check reads the file's structure without constructing anything; a refused
file constructs no object at all.

scikit-learn and skops are imported only when a model is actually saved or loaded.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from hookline.errors import ModelIntegrityError

__all__ = ["BUILTIN_TRUSTED_TYPES", "check_type_names", "dumps", "loads", "sha256"]

BUILTIN_TRUSTED_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.tree._tree.Tree",
)
"""Types the built-in trainer's models contain that skops does not trust by default, for
every estimator the docs and the project's own configurations name: the dtype of the
one-hot encoder's output; the tree structures of decision trees, forests, gradient
boosting (``Tree``, ``TreePredictor``) and nearest neighbours (``KDTree`` and its
Euclidean metric); the MLP's optimiser state. skops leaves the tree structures out
because a crafted index array can crash ``predict``; hookline trusts them because its own
trainer writes them, and checks their indices before a model is used
(:mod:`hookline._treecheck`). None of them is a function."""

TRUSTED_TYPES_KEY = "[registry] trusted_types"
"""Where a project lists the extra names it trusts (named in refusals)."""

_PICKLE_MAGIC = (b"\x80", b"(dp", b"(lp", b"ccopy_reg", b"cnumpy", b"csklearn")
_ZIP_MAGIC = b"PK\x03\x04"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_type_names(names: Iterable[Any]) -> tuple[str, ...]:
    """Validate trusted names: each a fully qualified, exact ``module.Name`` (no wildcard,
    no trailing dot, no bare module: trust is never a namespace).

    :raises ValueError: naming the first bad entry.
    """
    out = []
    for name in names:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                f"{name!r} is not an exact type or function name such as "
                '"lightgbm.sklearn.LGBMClassifier": trust is by exact name, never a prefix '
                "or a pattern"
            )
        out.append(name)
    return tuple(out)


def _pickled_arrays(data: bytes) -> list[str]:
    """The ``.npy`` members of a skops zip whose dtype holds Python objects: numpy stores
    those as a pickle. (skops itself would refuse them too, but only while constructing.)"""
    import io
    import zipfile

    import numpy as np

    found = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if not name.endswith(".npy"):
                continue
            with zf.open(name) as fh:
                try:
                    version = np.lib.format.read_magic(fh)
                    header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    _, _, dtype = header(fh)
                except Exception:
                    continue  # not an array numpy can read: skops' own load refuses it
            if dtype.hasobject:
                found.append(name)
    return found


def dumps(estimator: Any) -> bytes:
    """Serialise a scikit-learn estimator (or pipeline) with skops."""
    import skops.io as sio

    return bytes(sio.dumps(estimator))


def loads(
    data: bytes, *, expected_sha256: str | None, where: str, trusted: Iterable[str] = ()
) -> Any:
    """Verify and load a skops artifact.

    :param expected_sha256: the digest recorded when the artifact was written; a mismatch
        means the bytes were changed and nothing is loaded.
    :param where: what is loaded, for error messages (model, version and URI).
    :param trusted: extra exact type and function names to trust.
    :raises ModelIntegrityError: checksum mismatch, a pickle, not a skops file, a name
        outside the trusted set (nothing is constructed then), or tree structures whose
        node indices point outside their arrays.
    """
    if expected_sha256 is not None:
        actual = sha256(data)
        if actual != expected_sha256:
            raise ModelIntegrityError(
                f"{where}: checksum mismatch (expected sha256 {expected_sha256[:12]}..., "
                f"got {actual[:12]}...): the artifact was modified after it was registered",
                hint="re-register the model from its run, or roll the alias back",
            )
    if data.startswith(_PICKLE_MAGIC):
        raise ModelIntegrityError(
            f"{where}: this is a pickle; hookline never loads pickles (they run code on load)",
            hint="save models with skops (hookline's registry does this for you)",
        )
    if not data.startswith(_ZIP_MAGIC):
        raise ModelIntegrityError(f"{where}: not a skops model file")
    import skops.io as sio

    try:
        # Reads the file's structure into skops' node tree; constructs nothing.
        named = sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise ModelIntegrityError(f"{where}: unreadable skops file: {exc}") from exc
    allowed = {*BUILTIN_TRUSTED_TYPES, *trusted}
    refused = sorted(t for t in named if t not in allowed)
    if refused:
        listed = ", ".join(f'"{t}"' for t in refused)
        raise ModelIntegrityError(
            f"{where}: refused to load: it names {len(refused)} type(s) or function(s) "
            f"hookline does not trust: {', '.join(refused)}. Nothing in it was constructed",
            hint="a model from hookline's own trainer with its documented estimators never "
            f"needs these. If you built this "
            f"model and reviewed these exact names, trust them deliberately in "
            f"{TRUSTED_TYPES_KEY} = [{listed}] (exact names only: a prefix never trusts "
            "anything)",
        )
    pickled = _pickled_arrays(data)  # the zip opened above: it is one
    if pickled:
        raise ModelIntegrityError(
            f"{where}: refused to load: its array member(s) {', '.join(pickled)} hold "
            "pickled Python objects (an object array); hookline never unpickles. Nothing "
            "in it was constructed",
            hint="save models with skops (hookline's registry does this for you)",
        )
    try:
        estimator = sio.loads(data, trusted=sorted(named))
    except Exception as exc:
        raise ModelIntegrityError(f"{where}: failed to load the skops file: {exc}") from exc
    from hookline._treecheck import check_trees

    problem = check_trees(estimator)
    if problem:
        raise ModelIntegrityError(
            f"{where}: refused to use: {problem}; a crafted tree would read memory outside "
            "its arrays when it predicts",
            hint="re-train the model, or roll the alias back to another version",
        )
    return estimator
