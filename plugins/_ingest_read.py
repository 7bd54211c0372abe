"""Reading one uploaded file into a DataFrame, safely: sniff the content, check the text
encoding, read with explicit limits, and turn every parser failure into a
:class:`~hookline.errors.DataError` that names the file and the problem.

pandas and pyarrow are imported inside the functions that need them.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hookline.errors import ConfigError, DataError

__all__ = ["SUFFIX_FORMATS", "Limits", "choose_format", "read_frame", "sniff"]

SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}
_HEAD_BYTES = 64 * 1024
_MAGIC = (
    (b"PAR1", "parquet"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"PK\x03\x04", "a zip archive (or an Excel .xlsx workbook)"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ", "an xz archive"),
    (b"SQLite format 3", "an SQLite database"),
    (b"ARROW1", "an Arrow IPC file"),
    (b"Obj\x01", "an Avro file"),
    (b"\xff\xfe", "UTF-16 text"),
    (b"\xfe\xff", "UTF-16 text"),
)
_FORMAT_NAMES = {"csv": "CSV", "parquet": "Parquet", "jsonl": "JSON Lines", "json": "JSON"}
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}
_HINT_FORMATS = (
    "upload CSV, Parquet or JSON Lines, with a suffix that matches the content "
    "(.csv, .parquet, .jsonl), or set [plugins.pandas] format"
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Explicit reading limits: exceeding one is an error, never a silent truncation."""

    max_rows: int
    max_columns: int
    chunk_rows: int


def sniff(head: bytes) -> str:
    """What the first bytes of a file say it is.

    :returns: ``empty``, ``blank``, ``parquet``, ``jsonl``, ``json`` (a JSON array), ``csv``,
        or ``binary:<description>``.
    """
    if not head:
        return "empty"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return "parquet" if what == "parquet" else f"binary:{what}"
    if b"\x00" in head:
        return "binary:binary data (it contains NUL bytes)"
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if not text:
        return "blank"
    if text.startswith(b"{"):
        return "jsonl"
    if text.startswith(b"["):
        return "json"
    return "csv"


def choose_format(path: str, uri: str, suffix: str, configured: str) -> str:
    """Decide how to read the file: the configured format, else the suffix's, checked
    against what the content looks like.

    :raises DataError: the file is empty or binary, or its suffix (or the configured
        format) disagrees with its content.
    """
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    sniffed = sniff(head)
    if sniffed == "empty":
        raise DataError(
            "the file is empty (0 bytes)",
            uri=uri,
            hint="upload a file with a header row and at least one data row",
        )
    if sniffed == "blank":
        raise DataError(
            "the file holds only blank lines: no header, no data",
            uri=uri,
            hint="upload a file with a header row and at least one data row",
        )
    declared = configured if configured != "auto" else SUFFIX_FORMATS.get(suffix)
    said = (
        f"[plugins.pandas] format = {configured!r}"
        if configured != "auto"
        else f"its name ends in {suffix!r}"
    )
    if sniffed.startswith("binary:"):
        what = sniffed.split(":", 1)[1]
        expected = _FORMAT_NAMES.get(declared or "", "a data table")
        raise DataError(f"the content is {what}, not {expected}", uri=uri, hint=_HINT_FORMATS)
    if declared is None:
        return sniffed
    if declared == sniffed or {declared, sniffed} == {"json", "jsonl"}:
        return declared
    looks = _FORMAT_NAMES[sniffed]
    first = head.split(b"\n", 1)[0][:60].decode("utf-8", "replace")
    raise DataError(
        f"{said} ({_FORMAT_NAMES[declared]}), but the content is {looks}"
        + (f" (first line: {first!r})" if sniffed != "parquet" else ""),
        uri=uri,
        hint="rename the file so its suffix matches its content, or set "
        "[plugins.pandas] format to the real format",
    )


def check_encoding(path: str, uri: str, encoding: str) -> None:
    """Decode the whole file incrementally and fail on the first undecodable byte.

    :raises DataError: naming the byte, its offset and its line.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    newlines = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # exc.start is relative to the decoder's buffer: pending bytes + this chunk.
                pending = len(exc.object) - len(chunk)
                at = max(0, exc.start - pending)
                position = offset + at
                line = newlines + chunk[:at].count(b"\n") + 1
                bad = chunk[at] if at < len(chunk) else 0
                raise DataError(
                    f"not valid {encoding} text: byte 0x{bad:02x} at offset {position} "
                    f"(line {line}) cannot be decoded",
                    uri=uri,
                    hint="save the file as UTF-8, or set [plugins.pandas] encoding to the "
                    'file\'s real encoding (e.g. "latin-1", "cp1252")',
                ) from None
            offset += len(chunk)
            newlines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DataError(
                f"not valid {encoding} text: the file ends in the middle of a "
                "multi-byte character (truncated?)",
                uri=uri,
                hint="upload the complete file, saved as UTF-8",
            ) from None


def _python_encoding(encoding: str) -> str:
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


def csv_header(path: str, uri: str, encoding: str, delimiter: str) -> list[str]:
    """The header row, parsed with the configured delimiter."""
    with open(path, encoding=_python_encoding(encoding), newline="") as fh:
        text = fh.read(_HEAD_BYTES)
    try:
        return next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except StopIteration:
        raise DataError("the file holds no header row", uri=uri) from None
    except csv.Error as exc:
        raise DataError(f"malformed CSV header: {exc}", uri=uri) from None


def check_header(
    header: Sequence[str], uri: str, delimiter: str, expected: int, limits: Limits
) -> None:
    """Fail early on a header that cannot be right: too wide, one column where several
    are expected (wrong delimiter), duplicate or empty names, formula-like names."""
    if len(header) > limits.max_columns:
        raise DataError(
            f"has {len(header):,} columns, over the configured limit of {limits.max_columns:,}",
            uri=uri,
            hint="raise [plugins.pandas] max_columns, or drop unneeded columns",
        )
    if len(header) == 1:
        only = header[0]
        others = [d for d in (";", "\t", "|", ",") if d != delimiter and d in only]
        if others:
            d = others[0]
            raise DataError(
                f"found a single column {only[:60]!r}: the file seems to be delimited by "
                f"{_DELIMITER_NAMES.get(d, repr(d))}, "
                f"not {_DELIMITER_NAMES.get(delimiter, repr(delimiter))}",
                uri=uri,
                hint=f"set [plugins.pandas] delimiter = {json.dumps(d)}, or export "
                "the file with commas",
            )
        if expected > 1:
            raise DataError(
                f"found a single column {only[:60]!r}, expected {expected}",
                uri=uri,
                hint="check the delimiter ([plugins.pandas] delimiter)",
            )
    names = [h.strip() for h in header]
    if any(not n for n in names):
        position = next(i for i, n in enumerate(names) if not n) + 1
        raise DataError(
            f"column {position} of the header has no name",
            uri=uri,
            hint="name every column (an unnamed first column is often a saved "
            "index: export with index=False)",
        )
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dupes:
        raise DataError(
            f"duplicate column names: {', '.join(map(repr, dupes))}",
            uri=uri,
            hint="give every column a distinct name",
        )


def check_truncated_tail(path: str, uri: str, encoding: str, delimiter: str, width: int) -> None:
    """A CSV whose last line has no line ending and fewer fields than the header was
    almost certainly cut short in transfer: say so rather than read a partial row."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 65536))
        tail = fh.read()
    if not tail or tail.endswith((b"\n", b"\r")) or b"\n" not in tail:
        return
    last = tail.rsplit(b"\n", 1)[1].decode(_python_encoding(encoding), "replace")
    try:
        fields = next(csv.reader([last], delimiter=delimiter), [])
    except csv.Error:
        return
    if 0 < len(fields) < width:
        raise DataError(
            f"the file seems truncated: its last line has {len(fields)} of {width} fields "
            "and no line ending",
            uri=uri,
            hint="upload the complete file (the transfer may have been cut short)",
        )


def read_frame(
    path: str,
    uri: str,
    fmt: str,
    *,
    encoding: str,
    delimiter: str,
    na_values: Sequence[str],
    limits: Limits,
) -> Any:
    """Read the file into a DataFrame, enforcing ``limits``.

    :raises DataError: malformed content, or more rows or columns than the limits allow.
    """
    if fmt == "parquet":
        frame = _read_parquet(path, uri, limits)
    elif fmt in ("jsonl", "json"):
        frame = _read_json(path, uri, fmt, encoding, limits)
    else:
        frame = _read_csv(path, uri, encoding, delimiter, na_values, limits)
    if len(frame) > limits.max_rows:
        raise DataError(
            f"has more than {limits.max_rows:,} rows, the configured limit; nothing past the "
            "limit was read",
            uri=uri,
            hint="raise [plugins.pandas] max_rows, or split the file into smaller uploads",
        )
    if frame.shape[1] > limits.max_columns:
        raise DataError(
            f"has {frame.shape[1]:,} columns, over the configured limit of {limits.max_columns:,}",
            uri=uri,
            hint="raise [plugins.pandas] max_columns",
        )
    return frame


def _read_csv(
    path: str, uri: str, encoding: str, delimiter: str, na_values: Sequence[str], limits: Limits
) -> Any:
    import pandas as pd

    try:
        reader = pd.read_csv(
            path,
            sep=delimiter,
            encoding=_python_encoding(encoding),
            na_values=list(na_values) or None,
            nrows=limits.max_rows + 1,
            chunksize=limits.chunk_rows,
            skipinitialspace=False,
        )
        with reader:
            chunks = list(reader)
    except pd.errors.EmptyDataError:
        raise DataError(
            "the file holds no columns",
            uri=uri,
            hint="upload a file with a header row and data rows",
        ) from None
    except pd.errors.ParserError as exc:
        detail = str(exc).replace("Error tokenizing data. C error: ", "").strip()
        hint = (
            "an opening quote is never closed: the file may be truncated"
            if "EOF inside string" in detail
            else "check the quoting and the delimiter on that line"
        )
        raise DataError(f"malformed CSV: {detail}", uri=uri, hint=hint) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not valid {encoding} text: {exc}", uri=uri) from None
    if not chunks:
        raise DataError("the file holds no columns", uri=uri)
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)


PARQUET_INSTALL = (
    "pip install 'hookline[parquet]' where the pipeline runs; a deployed bundle: "
    "`hookline package --parquet` (or name a .parquet suffix in a trigger), then redeploy"
)


def _read_parquet(path: str, uri: str, limits: Limits) -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ConfigError(
            f"{uri}: reading Parquet needs pyarrow, which is not installed here ({exc}); "
            "the upload was not read and stays where it landed",
            hint=PARQUET_INSTALL,
        ) from None

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(
            f"not a readable Parquet file (truncated or corrupt): {exc}",
            uri=uri,
            hint="upload the complete file",
        ) from None
    rows, columns = pf.metadata.num_rows, len(pf.schema_arrow.names)
    if columns > limits.max_columns:
        raise DataError(
            f"has {columns:,} columns, over the configured limit of {limits.max_columns:,}",
            uri=uri,
            hint="raise [plugins.pandas] max_columns",
        )
    if rows > limits.max_rows:
        raise DataError(
            f"has {rows:,} rows, over the configured limit of {limits.max_rows:,};"
            " nothing was read",
            uri=uri,
            hint="raise [plugins.pandas] max_rows, or split the file",
        )
    try:
        return pf.read().to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"Parquet file is corrupt: {exc}", uri=uri) from None


def _read_json(path: str, uri: str, fmt: str, encoding: str, limits: Limits) -> Any:
    import pandas as pd

    enc = _python_encoding(encoding)
    with open(path, "rb") as fh:
        array = sniff(fh.read(_HEAD_BYTES)) == "json"
    try:
        if array:
            frame = pd.read_json(path, orient="records", encoding=enc, dtype=False)
        else:
            reader = pd.read_json(
                path,
                lines=True,
                chunksize=limits.chunk_rows,
                nrows=limits.max_rows + 1,
                encoding=enc,
                dtype=False,
            )
            with reader:
                chunks = list(reader)
            frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    except ValueError as exc:
        line = _bad_json_line(path, enc) if not array else None
        where = f" on line {line}" if line else ""
        raise DataError(
            f"malformed {_FORMAT_NAMES[fmt]}{where}: {exc}",
            uri=uri,
            hint='each line must be one JSON object: {"column": value, ...}',
        ) from None
    for column in frame.columns:
        if frame[column].dtype == object:
            kinds = frame[column].dropna().map(type)
            if kinds.isin([dict, list]).any():
                raise DataError(
                    f"column {column!r} holds nested objects or arrays",
                    uri=uri,
                    hint="flatten the records to one value per column",
                )
    return frame


def _bad_json_line(path: str, encoding: str) -> int | None:
    with open(path, encoding=encoding, errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                return number
            if not isinstance(value, dict):
                return number
    return None
