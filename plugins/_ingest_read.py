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
MAX_HEADER_CHARS = 16 * 1024 * 1024
"""The longest CSV header row read (1,000 columns of 16 KB names)."""
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
    """Decode the whole file incrementally (one streaming pass, memory bounded by one
    chunk): fail on the first undecodable byte, and on the first NUL character anywhere
    in the file (text data never holds one; left in, it would become a category).

    :raises DataError: naming the byte, its offset and its line; or the NUL's line and
        column.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    newlines = 0
    line, column = 1, 0  # where the decoded text stands: line, characters into it
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # exc.start is relative to the decoder's buffer: pending bytes + this chunk.
                pending = len(exc.object) - len(chunk)
                at = max(0, exc.start - pending)
                position = offset + at
                bad_line = newlines + chunk[:at].count(b"\n") + 1
                bad = chunk[at] if at < len(chunk) else 0
                raise DataError(
                    f"not valid {encoding} text: byte 0x{bad:02x} at offset {position} "
                    f"(line {bad_line}) cannot be decoded",
                    uri=uri,
                    hint="save the file as UTF-8, or set [plugins.pandas] encoding to the "
                    'file\'s real encoding (e.g. "latin-1", "cp1252")',
                ) from None
            _check_no_nul(text, line, column, uri)
            breaks = text.count("\n")
            line += breaks
            column = len(text) - text.rfind("\n") - 1 if breaks else column + len(text)
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


def _check_no_nul(text: str, line: int, column: int, uri: str) -> None:
    at = text.find("\x00")
    if at < 0:
        return
    before = text[:at]
    breaks = before.count("\n")
    last_break = before.rfind("\n")
    where = (
        f"line {line + breaks}, column {at - last_break}"
        if breaks
        else f"line {line}, column {column + at + 1}"
    )
    raise DataError(
        f"a NUL character (\\x00) at {where}: text data never holds one",
        uri=uri,
        hint="the file is corrupt, binary, or in another encoding than the one configured "
        "([plugins.pandas] encoding); remove the NUL characters and upload it again",
    )


def _python_encoding(encoding: str) -> str:
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


def csv_header(path: str, uri: str, encoding: str, delimiter: str) -> list[str]:
    """The whole header row (however long), parsed with the configured delimiter; only the
    header is read, line by line, up to :data:`MAX_HEADER_CHARS`.

    :raises DataError: no header, a malformed one, or one longer than the limit.
    """
    text = ""
    with open(path, encoding=_python_encoding(encoding), newline="") as fh:
        while True:
            piece = fh.readline(MAX_HEADER_CHARS + 1 - len(text))
            if not text and piece and not piece.strip():
                continue  # blank lines before the header: pandas skips them too
            text += piece
            if len(text) > MAX_HEADER_CHARS:
                raise DataError(
                    f"the header row is longer than {MAX_HEADER_CHARS:,} characters",
                    uri=uri,
                    hint="check the line endings (the whole file may be one line) and the "
                    "delimiter ([plugins.pandas] delimiter)",
                )
            # a record is complete once its quotes balance (a quoted name may hold a newline)
            if not piece or text.count('"') % 2 == 0:
                break
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
    _refuse_duplicates(names, uri)


def _refuse_duplicates(names: Sequence[str], uri: str) -> None:
    """Every column name once, across the whole header (pandas would rename a repeat
    ``x.1`` and the file would train on a column nobody named)."""
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dupes:
        positions = [i + 1 for i, n in enumerate(names) if n == dupes[0]]
        raise DataError(
            f"duplicate column names: {', '.join(map(repr, dupes))} "
            f"({dupes[0]!r} is column {' and '.join(map(str, positions))})",
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
    names = [str(n).strip() for n in pf.schema_arrow.names]
    rows, columns = pf.metadata.num_rows, len(names)
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
    _refuse_duplicates(names, uri)  # from the schema, before any row is read
    try:
        frame = pf.read().to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"Parquet file is corrupt: {exc}", uri=uri) from None
    _check_no_nul_cells(frame, uri)
    return frame


def _check_no_nul_cells(frame: Any, uri: str) -> None:
    """Parquet is binary, so NUL bytes are normal in the file; inside a text cell one is
    not data (the text formats are checked byte by byte in :func:`check_encoding`)."""
    for column in frame.columns:
        if frame[column].dtype.kind not in "OSUT" and str(frame[column].dtype) != "string":
            continue
        values = frame[column]
        hits = values.map(lambda v: isinstance(v, str) and "\x00" in v)
        if hits.any():
            row = int(hits.to_numpy().nonzero()[0][0]) + 1
            raise DataError(
                f"column {str(column)!r} holds a NUL character (\\x00) in data row {row}: "
                "text data never holds one",
                uri=uri,
                hint="remove the NUL characters from the text cells and upload the file again",
            )


def _read_json(path: str, uri: str, fmt: str, encoding: str, limits: Limits) -> Any:
    import pandas as pd

    enc = _python_encoding(encoding)
    with open(path, "rb") as fh:
        array = sniff(fh.read(_HEAD_BYTES)) == "json"
    check_json_records(path, uri, enc, array=array)
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


class _BadRecord(Exception):
    """A JSON record with a repeated key or a NUL character (raised by the pairs hook)."""


def _record_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, value in pairs:
        if key in seen:
            raise _BadRecord(f"the key {key!r} appears twice in one record")
        seen.add(key)
        if "\x00" in key or (isinstance(value, str) and "\x00" in value):
            raise _BadRecord(f"a NUL character (\\x00) in {key!r}: text data never holds one")
    return dict(pairs)


def check_json_records(path: str, uri: str, encoding: str, *, array: bool) -> None:
    """Every record of a JSON Lines file (or a JSON array) has distinct keys and no NUL
    character in a key or a text value (``"\\u0000"`` is one, without a NUL byte in the
    file). pandas keeps one of two equal keys silently.

    One streaming pass: JSON Lines line by line, an array item by item from 1 MB chunks;
    memory is bounded by the largest record. Malformed JSON is left to the reader, which
    reports it with its line.

    :raises DataError: naming the line (JSON Lines) or the record (array) and the key.
    """
    decoder = json.JSONDecoder(object_pairs_hook=_record_pairs)
    where = "record 1"
    with open(path, encoding=encoding) as fh:
        try:
            if array:
                for index, _ in enumerate(_array_items(fh, decoder), 2):
                    where = f"record {index}"  # the one decoded next
                return
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"line {number}"
                try:
                    decoder.decode(line)
                except (ValueError, RecursionError):
                    return
        except _BadRecord as exc:
            raise DataError(
                f"{exc} ({where})",
                uri=uri,
                hint="give every field of a record a distinct name, and remove NUL characters",
            ) from None


def _array_items(fh: Any, decoder: json.JSONDecoder) -> Any:
    """Decode the items of a top-level JSON array one at a time from ``fh``; stops quietly
    at anything malformed (the reader reports it)."""
    buffer, pos, started = "", 0, False
    while True:
        chunk = fh.read(1 << 20)
        buffer, pos = buffer[pos:] + chunk, 0
        if not started:
            stripped = buffer.lstrip()
            if not stripped.startswith("["):
                return
            buffer, pos, started = stripped, 1, True
        while True:
            while pos < len(buffer) and buffer[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(buffer):
                break
            if buffer[pos] == "]":
                return
            try:
                _, end = decoder.raw_decode(buffer, pos)
            except RecursionError:
                return
            except ValueError:
                if chunk:
                    break  # the item goes on in the next chunk
                return
            if end >= len(buffer) and chunk:
                break  # a number cut by the chunk's end would decode short: read on
            pos = end
            yield None
        if not chunk:
            return


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
