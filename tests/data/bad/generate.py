"""Write the bad-input corpus next to this file (committed; rerun after changing it).

    .venv/bin/python tests/data/bad/generate.py

Every file is a small, realistic way an upload goes wrong. tests/plugins/test_bad_inputs.py
uploads each one to a project whose production model is healthy and asserts the exact error
in the run record, the run's status, and that nothing was promoted. (The ``rel_*`` files are
the reliability suite's: see tests/reliability/_corpus.py.)
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = "x1,x2,color,label"
COLORS = ("red", "green", "blue")


def rows(n: int, *, start: int = 0) -> list[str]:
    """Deterministic data rows shaped like the test projects' training table."""
    out = []
    for i in range(start, start + n):
        x1 = round(((i * 37) % 101) / 25.0 - 2.0, 3)
        x2 = round(((i * 53) % 97) / 24.0 - 2.0, 3)
        color = COLORS[i % 3]
        label = "yes" if x1 + 0.5 * x2 + (0.8 if color == "red" else 0.0) > 0.3 else "no"
        out.append(f"{x1},{x2},{color},{label}")
    return out


def csv(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def parquet_bytes(n: int) -> bytes:
    import pandas as pd

    frame = pd.read_csv(io.StringIO(csv([HEADER, *rows(n)])))
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def parquet_duplicate_columns(n: int) -> bytes:
    """A Parquet file whose schema names ``x1`` twice (pandas cannot write one)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    values = [r.split(",") for r in rows(n)]
    table = pa.table(
        [
            pa.array([float(v[0]) for v in values]),
            pa.array([float(v[1]) for v in values]),
            pa.array([v[2] for v in values]),
            pa.array([v[3] for v in values]),
            pa.array([float(v[1]) for v in values]),
        ],
        names=["x1", "x2", "color", "label", "x1"],
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def jsonl_line(x1: str, x2: str, color: str, label: str) -> str:
    return f'{{"x1": {x1}, "x2": {x2}, "color": "{color}", "label": "{label}"}}\n'


def long_header_duplicate() -> str:
    """A header longer than 64 KB whose last name repeats the first."""
    pads = [f"pad{i:03d}_" + "p" * 72 for i in range(900)]
    header = ",".join([HEADER, *pads, "x1"])
    return csv([header, *(r + "," + ",".join("0" for _ in pads) + ",1.0" for r in rows(30))])


def main() -> None:
    good = csv([HEADER, *rows(60)])
    files: dict[str, bytes | str] = {
        "empty.csv": b"",
        "blank.csv": "\n\n   \n",
        "header_only.csv": HEADER + "\n",
        "truncated.csv": good + "1.25,0.5",
        "unclosed_quote.csv": csv([HEADER, *rows(5), '1.0,2.0,"red,yes', *rows(5, start=5)]),
        "binary.csv": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        "gzipped.csv": gzip.compress(good.encode(), mtime=0),
        "latin1.csv": csv([HEADER, *rows(10), "1.0,2.0,vert clair é,yes"]).encode("latin-1"),
        "utf16.csv": good.encode("utf-16"),
        "semicolons.csv": good.replace(",", ";"),
        "wrong_schema.csv": good.replace(HEADER, "x1,x2,colour,outcome_label"),
        "single_class.csv": csv([HEADER, *(r.rsplit(",", 1)[0] + ",yes" for r in rows(60))]),
        "all_null_column.csv": csv([HEADER + ",notes", *(r + "," for r in rows(60))]),
        "injection.csv": csv(
            [
                HEADER,
                *rows(30),
                '1.0,2.0,"=HYPERLINK(""http://evil.example"",""x"")",yes',
                *rows(29, start=30),
            ]
        ),
        "wide.csv": csv(
            [",".join(f"c{i}" for i in range(1500)), ",".join("1" for _ in range(1500))]
        ),
        "duplicate_columns.csv": good.replace(HEADER, "x1,x1,color,label"),
        "type_change.csv": csv([HEADER, *rows(30), "n/a kg,1.0,red,yes", *rows(29, start=30)]),
        "few_rows.csv": csv([HEADER, *rows(12)]),
        "mostly_missing.csv": csv(
            [HEADER, *(",," + r.split(",", 2)[2] if i % 4 else r for i, r in enumerate(rows(60)))]
        ),
        "oversized.csv": csv([HEADER, *rows(400)]),
        "too_many_rows.csv": csv([HEADER, *rows(250)]),
        "parquet_named.csv": parquet_bytes(40),
        "csv_named.parquet": good,
        "truncated.parquet": parquet_bytes(40)[:400],
        "late_duplicate_column.csv": long_header_duplicate(),
        "late_nul_byte.csv": csv([HEADER, *rows(3500), "1.0,2.0,re\x00d,yes", *rows(20)]),
        "late_nul_escape.jsonl": "".join(jsonl_line(*r.split(",")) for r in rows(1500))
        + '{"x1": 1.0, "x2": 0.5, "color": "re\\u0000d", "label": "yes"}\n',
        "duplicate_keys.jsonl": '{"x1": 1.0, "x2": 0.5, "color": "red", "label": "yes"}\n'
        '{"x1": 0.2, "x2": 0.1, "color": "blue", "label": "no", "x1": 9.0}\n',
        "duplicate_columns.parquet": parquet_duplicate_columns(40),
        "malformed.jsonl": '{"x1": 1.0, "x2": 0.5, "color": "red", "label": "yes"}\n'
        '{"x1": 0.2, "x2": 0.1, "color": "blue", "label": "no"}\n'
        '{"x1": 0.3, "x2": 0.1, "color": "blue", "label": "no"\n',
    }
    for path in sorted(HERE.iterdir()):  # rel_* files belong to tests/reliability: left alone
        if path.suffix in (".csv", ".parquet", ".jsonl") and not path.name.startswith("rel_"):
            path.unlink()
    for name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        (HERE / name).write_bytes(data)
    print(f"wrote {len(files)} files to {HERE}")


if __name__ == "__main__":
    main()
