"""The serialised model, computed once per fitted estimator.

The gates measure the size of the skops file and the registry plugin writes it; both call
:func:`model_bytes`, so the bytes whose size was checked are the bytes registered.
"""

from __future__ import annotations

import weakref
from typing import Any

from hookline import modelio

__all__ = ["model_bytes"]

_CACHE: weakref.WeakKeyDictionary[Any, bytes] = weakref.WeakKeyDictionary()


def model_bytes(estimator: Any) -> bytes:
    """The estimator saved with skops (cached for as long as the estimator lives)."""
    try:
        return _CACHE[estimator]
    except (KeyError, TypeError):
        pass
    data = modelio.dumps(estimator)
    try:
        _CACHE[estimator] = data
    except TypeError:  # not weak-referenceable or not hashable: no cache
        pass
    return data
