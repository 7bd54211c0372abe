"""Hypothesis strategies for the fuzz tests: JSON and TOML-like values, values that have
broken parsers before, and structure-aware mutations of real payloads."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

__all__ = ["INTERESTING", "json_values", "mutated", "toml_values"]

INTERESTING: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    -(2**63) - 1,
    1e308,
    float("nan"),
    float("inf"),
    "",
    " ",
    "null",
    "0",
    "../../etc/passwd",
    "a/../../b",
    "%",
    "%2F%2e%2e",
    "+",
    "a+b c",
    "\x00",
    "\n",
    "\u202e",
    "\U0001f984",
    "/",
    "//",
    "s3://",
    "gs://b/o",
    "az://c/../../x",
    "https://acct.blob.core.windows.net/c/../../x",
    "http://127.0.0.1:1/c/b",
    "9" * 400,
    "x" * 5000,
    "2024-13-45T99:99:99Z",
    [],
    {},
    [{}],
    {"": None},
    "{}",
    "[]",
    '"',
]

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(INTERESTING).map(copy.deepcopy)  # never hand out the shared objects
)
json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)
"""Any JSON-like value (plus NaN and infinities, which json.loads also produces)."""

_toml_scalars = (
    st.text(max_size=30)
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats()
    | st.booleans()
    | st.datetimes()
    | st.dates()
    | st.times()
    | st.sampled_from(
        [
            v
            for v in INTERESTING
            if isinstance(v, str | int | float)
            and not isinstance(v, bool)
            and not (isinstance(v, int) and abs(v) >= 2**63)
        ]
    )
)
toml_values = st.recursive(
    _toml_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)
"""What ``tomllib`` can produce: strings, 64-bit integers, floats, booleans, dates and
times, arrays and tables with string keys."""


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


@st.composite
def mutated(draw: st.DrawFn, seeds: list[Any], values: st.SearchStrategy[Any] = json_values) -> Any:
    """One of ``seeds`` with one to three of its nodes replaced, deleted, wrapped in a
    list, turned into their JSON text, or given a new sibling key."""
    result = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3), label="mutations")):
        paths = _paths(result)
        path = draw(st.sampled_from(paths), label="path")
        op = draw(st.sampled_from(["replace", "delete", "wrap", "stringify", "add"]), label="op")
        if not path:
            if op in ("replace", "delete"):
                result = copy.deepcopy(draw(values, label="root"))
            elif op == "wrap":
                result = [result]
            elif op == "stringify":
                result = json.dumps(result, default=str)
            continue
        parent = result
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if op == "replace":
            parent[last] = copy.deepcopy(draw(values, label="value"))
        elif op == "delete":
            del parent[last]
        elif op == "wrap":
            parent[last] = [parent[last]]
        elif op == "stringify":
            parent[last] = json.dumps(parent[last], default=str)
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=12), label="key")] = copy.deepcopy(draw(values))
        else:
            parent.append(copy.deepcopy(draw(values, label="value")))
    return result
