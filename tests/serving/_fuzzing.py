"""What the HTTP fuzz suites of serving and the dashboard share: a storage that records
every key the app touches, hostile path segments, headers and bodies, one check of every
answer, and the figures each run reports (``test-artifacts/fuzz/*.json``).

Example counts are fixed (scaled by ``$HOOKLINE_FUZZ_SCALE``, which ``make fuzz`` raises);
the ``ci`` hypothesis profile (tests/conftest.py) derandomizes them in CI.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hookline.storage import ObjectInfo, Storage, check_key
from hypothesis import strategies as st

SCALE = max(1, int(os.environ.get("HOOKLINE_FUZZ_SCALE", "1")))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "fuzz"
ALLOWED = ("runs/", "registry/", "monitoring/", "landing/predictions/")
MAX_ERROR_BODY = 16_000


def examples(n: int) -> int:
    return n * SCALE


class RecordingStorage:
    """A storage root that records every key read, listed, stat'ed or written."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.touched: list[tuple[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _see(self, op: str, key: str) -> None:
        self.touched.append((op, key))

    def read(self, key: str) -> bytes:
        self._see("read", key)
        return self.inner.read(key)

    def read_with_info(self, key: str) -> tuple[bytes, ObjectInfo]:
        self._see("read", key)
        return self.inner.read_with_info(key)

    def open(self, key: str) -> Any:
        self._see("read", key)
        return self.inner.open(key)

    def stat(self, key: str) -> ObjectInfo | None:
        self._see("stat", key)
        return self.inner.stat(key)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        self._see("list", prefix)
        return self.inner.list(prefix)

    def write(self, key: str, data: bytes) -> ObjectInfo:
        self._see("write", key)
        return self.inner.write(key, data)

    def create(self, key: str, data: bytes) -> ObjectInfo:
        self._see("write", key)
        return self.inner.create(key, data)

    def replace(self, key: str, data: bytes, etag: str) -> ObjectInfo:
        self._see("write", key)
        return self.inner.replace(key, data, etag)

    def check_inside(self) -> int:
        """Every key touched is a valid key under hookline's own prefixes; returns how
        many were touched, and forgets them."""
        seen = len(self.touched)
        for op, key in self.touched:
            if op == "list" and key in ("", *ALLOWED):
                continue
            check_key(key)  # raises InvalidKey for traversal, NUL, control characters...
            assert key.startswith(ALLOWED), (op, key)
            assert ".." not in key.split("/"), (op, key)
        self.touched.clear()
        return seen


HOSTILE = [
    "..",
    ".",
    "%2e%2e",
    "%2E%2E",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%2f..%2f..%2fetc",
    "%00",
    "a%00b",
    "%2f",
    "%5c..%5c",
    "%c0%ae%c0%ae",
    "%ff%fe",
    "%0d%0aSet-Cookie:%20x=1",
    "x" * 5000,
    "%25",
    "~",
    "-",
    "a.b",
    "%e2%80%ae",
    "%7f",
    "%c2%85",
]


def segments(valid: list[str]) -> st.SearchStrategy[str]:
    """A path segment as it goes on the wire: valid names, hostile shapes, and arbitrary
    text (control characters, lone surrogates' replacements, long) percent-encoded."""
    text = st.text(max_size=300).map(lambda s: quote(s.encode("utf-8", "replace"), safe=""))
    return st.one_of(
        st.sampled_from(valid or ["x"]),
        st.sampled_from(HOSTILE),
        text.filter(bool),
        st.integers(-5, 10**12).map(str),
    )


VALUES = st.one_of(
    st.sampled_from(["", "1", "true", "x" * 3000, "%00", "..", "../..", "\u202e", "none", "any"]),
    st.text(max_size=60),
)


def query(keys: list[str]) -> st.SearchStrategy[str]:
    pairs = st.lists(st.tuples(st.sampled_from([*keys, "x", "after", "proba"]), VALUES), max_size=4)
    return pairs.map(
        lambda ps: "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'replace'))}" for k, v in ps)
    )


CONTENT_TYPES = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=latin-1",
        "text/csv",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
        "application/xml",
        "application/vnd.api+json",
        "*/*",
        "",
    ]
)


def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


BODIES = st.one_of(
    st.just(b""),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "replace")),
    st.sampled_from(
        [
            _deep(40),
            _deep(5000),
            b'{"a":' * 3000 + b"1" + b"}" * 3000,
            b'{"records": [' + b"[" * 100 + b"]" * 100 + b"]}",
            b"NaN",
            b'{"dataframe_split": {"columns": ["age"], "data": [[1]]}}',
            b'{"inputs": [{"name": "age", "shape": [1], "datatype": "INT64", "data": [1]}]}',
            b"age,plan\n1,pro\n",
            b"key=x&operator=y&csrf=z&version=1&alias=..&expected=any",
            b"\xff\xfe\x00",
            b"x" * 30_000,
        ]
    ),
)


def send(client: Any, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Any:
    """The response, or ``None`` when the HTTP client itself refuses to send the request
    (an invalid URL or header value: it never reaches the app)."""
    try:
        return client.request(method, url, content=body, headers=headers)
    except Exception as exc:
        refused = ("InvalidURL", "LocalProtocolError", "UnicodeEncodeError")
        assert type(exc).__name__ in refused, exc
        return None


def check_answer(status: int, body: str, root: str, *, anonymous: bool) -> None:
    """No 5xx; an error answer has no traceback and a bounded body; an error (or an
    anonymous visitor) never sees the storage root. (A 200 may show a run's own error
    traceback: the dashboard's run pages do, to operators.)"""
    assert status < 500, body[:2000]
    if status >= 400:
        assert "Traceback" not in body and 'File "' not in body, body[:2000]
        assert len(body) <= MAX_ERROR_BODY, (status, len(body))
    if status >= 400 or anonymous:
        assert root not in body, body[:2000]


def record(
    suite: str, case: str, examples: int, five_xx: int = 0, *, target: str | None = None
) -> None:
    """Append one fuzzed case's figures to ``test-artifacts/fuzz/<suite>.jsonl`` (one line
    per case, so xdist workers can all append). ``target`` is what the case fuzzes (a
    route, a command); by default the case without its first word (``<mode> GET /path``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    what = target if target is not None else case.split(" ", 1)[-1]
    line = json.dumps({"case": case, "target": what, "examples": examples, "5xx": five_xx})
    line += "\n"
    with open(ARTIFACTS / f"{suite}.jsonl", "a", encoding="utf-8") as out:
        out.write(line)


def route_templates(app: Any) -> list[tuple[str, str, list[str]]]:
    """Every (method, path template, path parameter names) the app routes."""
    out = []

    def walk(routes: Any, prefix: str) -> None:
        for route in routes:
            if hasattr(route, "original_router"):  # FastAPI's included router
                walk(route.original_router.routes, prefix + route.include_context.prefix)
                continue
            path = getattr(route, "path", None)
            methods = getattr(route, "methods", None) or set()
            if not path:
                continue
            names = re.findall(r"{([^}:]+)(?::[^}]*)?}", path)
            for method in sorted(methods - {"HEAD", "OPTIONS"}):
                out.append((method, prefix + path, names))

    walk(app.routes, "")
    return out


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"{([^}:]+)(?::[^}]*)?}", lambda m: values[m.group(1)], path)
