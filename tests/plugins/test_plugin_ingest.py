"""The pandas ingest plugin in isolation: formats, schema, profile, limits, bad files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from _plugin_helpers import context, source_for, table, write_csv
from hookline.errors import ConfigError, DataError
from hookline.plugins import ingest


def read(storage, path: Path, *, pipeline: str = "train", **config):
    """Ingest ``path`` uploaded to the pipeline's landing prefix; return the Dataset."""
    plugins = {"pandas": {"target": "label", **config}}
    ctx = context(storage, pipeline=pipeline, upload=path, plugins=plugins)
    return ingest.ingest(ctx=ctx, source=source_for(ctx, path))


def fails(storage, path: Path, *, pipeline: str = "train", **config) -> str:
    with pytest.raises(DataError) as info:
        read(storage, path, pipeline=pipeline, **config)
    message = str(info.value)
    assert path.name in message, f"the error must name the file: {message}"
    return message


def register_schema(storage, schema: dict) -> None:
    """A production model whose saved schema the next uploads are held to."""
    from hookline.registry import Registry

    registry = Registry(storage)
    version = registry.register("sample-model", {"schema.json": json.dumps(schema).encode()}, {})
    registry.move_alias("sample-model", "production", version.version)


# --- reading -----------------------------------------------------------------------------


def test_csv_schema_profile_and_target(storage, tmp_path):
    frame = table(120)
    dataset = read(storage, write_csv(tmp_path / "batch.csv", frame))
    assert dataset.target == "label"
    assert len(dataset.frame) == 120
    assert dataset.schema["x1"] == {"dtype": "number", "nullable": False}
    assert dataset.schema["x2"]["nullable"] is True
    assert dataset.schema["color"]["dtype"] == "string"
    assert dataset.schema["label"] == {"dtype": "string", "nullable": False, "target": True}
    profile = dataset.profile
    assert profile["rows"] == 120 and profile["column_count"] == 4
    assert profile["nulls"]["x2"] == int(frame["x2"].isna().sum()) == 6
    assert profile["columns"]["x1"]["min"] == pytest.approx(frame["x1"].min())
    assert profile["columns"]["color"]["distinct"] == 3
    assert profile["format"] == "csv" and profile["schema_origin"] == "inferred"
    json.dumps(dataset.schema), json.dumps(dataset.profile)  # JSON-ready for the run record


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "json"])
def test_parquet_and_json_read_the_same_table(storage, tmp_path, fmt):
    frame = table(60)
    path = tmp_path / f"batch.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_json(path, orient="records")
    dataset = read(storage, path)
    assert dataset.profile["format"] == fmt
    assert list(dataset.frame.columns) == list(frame.columns)
    assert dataset.frame["x1"].tolist() == pytest.approx(frame["x1"].tolist())
    assert dataset.schema["color"]["dtype"] == "string"


def test_chunked_reading_gives_the_same_frame(storage, tmp_path):
    path = write_csv(tmp_path / "batch.csv", table(101))
    whole = read(storage, path).frame
    chunked = read(storage, path, chunk_rows=7).frame
    pd.testing.assert_frame_equal(whole.reset_index(drop=True), chunked.reset_index(drop=True))


def test_unlabelled_batch_is_fine_when_the_pipeline_does_not_train(storage, tmp_path):
    path = write_csv(tmp_path / "score.csv", table(30, label=False))
    dataset = read(storage, path, pipeline="monitor")
    assert dataset.target is None
    assert "label" not in dataset.schema


def test_first_run_without_a_target_guesses_the_last_column(storage, tmp_path):
    path = write_csv(tmp_path / "batch.csv", table(30))
    ctx = context(storage, upload=path)
    dataset = ingest.ingest(ctx=ctx, source=source_for(ctx, path))
    assert dataset.target == "label"
    assert dataset.profile["target_guessed"] is True


def test_rows_without_a_label_are_dropped_and_counted(storage, tmp_path):
    frame = table(40)
    frame.loc[[3, 7], "label"] = None
    dataset = read(storage, write_csv(tmp_path / "batch.csv", frame))
    assert len(dataset.frame) == 38
    assert dataset.profile["dropped_rows"] == {"null_target": 2}


def test_a_scheduled_run_reads_the_newest_upload(storage, tmp_path):
    from hookline.events import ScheduleEvent
    from hookline.testing import make_context

    old = write_csv(tmp_path / "a.csv", table(30, seed=1))
    new = write_csv(tmp_path / "b.csv", table(45, seed=2))
    for path in (old, new):
        storage.write(f"landing/score/{path.name}", path.read_bytes())
    storage.write("landing/score/placeholder.csv", b"")  # zero-byte objects are skipped
    ctx = make_context(
        storage,
        pipeline="monitor",
        plugins={"pandas": {"target": "label"}},
        event=ScheduleEvent("monitor", event_id="n1"),
    )
    dataset = ingest.ingest(ctx=ctx, source=None)
    assert len(dataset.frame) == 45
    assert ctx.source is not None and ctx.source.uri.endswith("landing/score/b.csv")
    assert (
        dataset.source == ctx.source
        and ctx.source.sha256 == hashlib.sha256(new.read_bytes()).hexdigest()
    )


def test_a_scheduled_run_holds_the_upload_to_the_size_limit(storage, tmp_path):
    """The scheduled path fetches through the core's one fetcher: the limit applies."""
    import dataclasses

    from hookline.events import ScheduleEvent
    from hookline.testing import make_context

    big = write_csv(tmp_path / "big.csv", table(200, seed=3))
    storage.write(f"landing/score/{big.name}", big.read_bytes())
    ctx = make_context(
        storage,
        pipeline="monitor",
        plugins={"pandas": {"target": "label"}},
        event=ScheduleEvent("monitor", event_id="n2"),
    )
    limits = {**ctx.config.limits, "max_upload_bytes": 1000}
    ctx = dataclasses.replace(ctx, config=dataclasses.replace(ctx.config, limits=limits))
    with pytest.raises(DataError, match=r"big\.csv: object is [\d,]+ bytes, over .* 1,000"):
        ingest.ingest(ctx=ctx, source=None)


def test_a_scheduled_run_with_nothing_uploaded_passes(storage):
    from hookline.events import ScheduleEvent
    from hookline.testing import make_context

    ctx = make_context(storage, pipeline="monitor", event=ScheduleEvent("monitor"))
    assert ingest.ingest(ctx=ctx, source=None) is None
    assert "nothing uploaded under" in ctx.notes["pandas"]


# --- schemas -----------------------------------------------------------------------------


def test_declared_schema_coerces_codes_to_text(storage, tmp_path):
    frame = table(30)
    frame["zip"] = [1000 + i for i in range(30)]
    path = write_csv(tmp_path / "batch.csv", frame)
    dataset = read(
        storage, path, columns={"zip": "string", "x1": {"dtype": "number", "min": -10, "max": 10}}
    )
    assert dataset.schema["zip"]["dtype"] == "string"
    assert dataset.frame["zip"].iloc[0] == "1000"
    assert dataset.schema["x1"]["min"] == -10
    assert dataset.profile["schema_origin"] == "the declared schema"


def test_declared_column_missing(storage, tmp_path):
    path = write_csv(tmp_path / "batch.csv", table(30))
    message = fails(storage, path, columns={"x1": "number", "age": "integer"})
    assert "declared column(s) missing: 'age'" in message


def test_undeclared_column_with_strict_columns(storage, tmp_path):
    path = write_csv(tmp_path / "batch.csv", table(30))
    message = fails(
        storage,
        path,
        columns={"x1": "number", "x2": "number", "label": "string"},
        strict_columns=True,
    )
    assert "undeclared column(s): 'color'" in message


def test_bad_declared_schema_is_a_config_error(storage, tmp_path):
    path = write_csv(tmp_path / "batch.csv", table(30))
    with pytest.raises(ConfigError, match=r"plugins.pandas.columns.x1.*dtype must be one of"):
        read(storage, path, columns={"x1": "float"})


def test_column_type_change_against_the_production_schema(storage, tmp_path):
    register_schema(
        storage,
        {
            "x1": {"dtype": "number"},
            "x2": {"dtype": "number"},
            "color": {"dtype": "string"},
            "label": {"dtype": "string", "target": True},
        },
    )
    frame = table(30).astype({"x1": object})
    frame.loc[4, "x1"] = "twelve"
    message = fails(storage, write_csv(tmp_path / "batch.csv", frame))
    assert (
        "column 'x1' changed type: the production model's schema (v1) has it as number, "
        "but this file holds text in it, e.g. 'twelve' (data rows [5])"
    ) in message


def test_production_schema_supplies_the_target_and_needed_columns(storage, tmp_path):
    register_schema(
        storage,
        {
            "x1": {"dtype": "number"},
            "x2": {"dtype": "number"},
            "color": {"dtype": "string"},
            "label": {"dtype": "string", "target": True},
        },
    )
    path = write_csv(tmp_path / "score.csv", table(30).drop(columns=["x2"]))
    ctx = context(storage, pipeline="monitor", upload=path)
    with pytest.raises(
        DataError,
        match=r"the production model \(v1\) needs column\(s\) this "
        r"file lacks: 'x2'",
    ):
        ingest.ingest(ctx=ctx, source=source_for(ctx, path))
    path = write_csv(tmp_path / "train.csv", table(30))
    ctx = context(storage, upload=path)
    assert ingest.ingest(ctx=ctx, source=source_for(ctx, path)).target == "label"


# --- bad files ---------------------------------------------------------------------------


def test_empty_file(storage, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert "the file is empty (0 bytes)" in fails(storage, path)


def test_blank_file(storage, tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n  \n")
    assert "the file holds only blank lines" in fails(storage, path)


def test_header_only(storage, tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("x1,x2,color,label\n")
    assert "the file has a header but no data rows" in fails(storage, path)


def test_wrong_delimiter(storage, tmp_path):
    path = tmp_path / "semi.csv"
    table(20).to_csv(path, index=False, sep=";")
    message = fails(storage, path)
    assert (
        "found a single column 'x1;x2;color;label': the file seems to be delimited by "
        "semicolons, not commas"
    ) in message
    assert 'hint: set [plugins.pandas] delimiter = ";"' in message
    assert read(storage, path, delimiter=";").frame.shape == (20, 4)


def test_missing_target(storage, tmp_path):
    path = write_csv(tmp_path / "nolabel.csv", table(20, label=False))
    message = fails(storage, path)
    assert "the target column 'label' is missing" in message
    assert "the file's columns are: x1, x2, color" in message


def test_all_null_column(storage, tmp_path):
    frame = table(20)
    frame["notes"] = None
    message = fails(storage, write_csv(tmp_path / "nulls.csv", frame))
    assert "column 'notes' is empty in every row" in message
    assert read(storage, tmp_path / "nulls.csv", allow_all_null=["notes"]).frame.shape[1] == 5


def test_non_utf8_bytes(storage, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("x1,x2,color,label\n1,2,rouge,yes\n3,4,crème,no\n".encode("latin-1"))
    message = fails(storage, path)
    assert "not valid utf-8 text: byte 0xe8 at offset 38 (line 3) cannot be decoded" in message
    assert read(storage, path, encoding="latin-1").frame["color"].tolist()[1] == "crème"


def test_suffix_lies_parquet_named_csv(storage, tmp_path):
    path = tmp_path / "data.csv"
    table(20).to_parquet(path)
    message = fails(storage, path)
    assert "its name ends in '.csv' (CSV), but the content is Parquet" in message
    assert read(storage, path, format="parquet").frame.shape == (20, 4)


def test_suffix_lies_text_named_parquet(storage, tmp_path):
    path = tmp_path / "data.parquet"
    table(20).to_csv(path, index=False)
    message = fails(storage, path)
    assert (
        "its name ends in '.parquet' (Parquet), but the content is CSV (first line: "
        "'x1,x2,color,label')"
    ) in message


def test_binary_content(storage, tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert "the content is a PNG image, not CSV" in fails(storage, path)


def test_truncated_last_line(storage, tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text("x1,x2,color,label\n1,2,red,yes\n3,4,blue,no\n5,6,re")
    assert "the file seems truncated: its last line has 3 of 4 fields" in fails(storage, path)


def test_unterminated_quote(storage, tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('x1,x2,color,label\n1,2,red,yes\n3,4,"blue\n5,6,red,no\n')
    message = fails(storage, path)
    assert "malformed CSV: EOF inside string" in message
    assert "an opening quote is never closed" in message


def test_duplicate_and_unnamed_columns(storage, tmp_path):
    path = tmp_path / "dupes.csv"
    path.write_text("x1,x1,label\n1,2,yes\n3,4,no\n")
    assert "duplicate column names: 'x1'" in fails(storage, path)
    path = tmp_path / "index.csv"
    path.write_text(",x1,label\n0,1,yes\n1,3,no\n")
    assert "column 1 of the header has no name" in fails(storage, path)


def test_csv_injection_is_an_error_by_default_and_flagged_on_request(storage, tmp_path):
    frame = table(20)
    frame["comment"] = "ok"
    frame.loc[3, "comment"] = '=HYPERLINK("http://x.example","click")'
    frame.loc[5, "comment"] = "-2.5"  # a number, not a formula
    frame.loc[6, "comment"] = "@SUM(A1)"
    path = write_csv(tmp_path / "inject.csv", frame)
    message = fails(storage, path)
    assert (
        "2 cell(s) look like spreadsheet formulas (CSV injection), e.g. "
        "'=HYPERLINK(\"http://x.example\",\"click\")' in column 'comment' (data row 4)"
    ) in message
    dataset = read(storage, path, formula_cells="flag")
    assert dataset.profile["formula_cells"]["comment"]["count"] == 2
    assert dataset.profile["formula_cells"]["comment"]["rows"] == [4, 7]
    assert dataset.frame.loc[3, "comment"].startswith("=HYPERLINK")  # kept as text


def test_row_limit_is_an_error_not_a_truncation(storage, tmp_path):
    path = write_csv(tmp_path / "big.csv", table(50))
    message = fails(storage, path, max_rows=49)
    assert "has more than 49 rows, the configured limit; nothing past the limit was read" in message
    assert len(read(storage, path, max_rows=50).frame) == 50


def test_column_limit(storage, tmp_path):
    frame = pd.DataFrame([[1] * 30], columns=[f"c{i}" for i in range(30)])
    frame["label"] = "yes"
    path = write_csv(tmp_path / "wide.csv", frame)
    assert "has 31 columns, over the configured limit of 30" in fails(storage, path, max_columns=30)


def test_parquet_row_limit_is_checked_before_reading(storage, tmp_path):
    path = tmp_path / "big.parquet"
    table(50).to_parquet(path)
    assert "has 50 rows, over the configured limit of 10; nothing was read" in fails(
        storage, path, max_rows=10
    )


def test_truncated_parquet(storage, tmp_path):
    path = tmp_path / "cut.parquet"
    table(50).to_parquet(path)
    path.write_bytes(path.read_bytes()[:300])
    assert "not a readable Parquet file (truncated or corrupt)" in fails(storage, path)


def test_malformed_json_lines_names_the_line(storage, tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"x1": 1, "label": "yes"}\n{"x1": 2, "label": "no"\n{"x1": 3}\n')
    assert "malformed JSON Lines on line 2" in fails(storage, path)


def test_nested_json_values(storage, tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(
        '{"x1": 1, "tags": ["a"], "label": "yes"}\n{"x1": 2, "tags": ["b"], "label": "no"}\n'
    )
    assert "column 'tags' holds nested objects or arrays" in fails(storage, path)


def test_encoding_check_across_chunk_boundaries(tmp_path):
    from hookline.plugins._ingest_read import check_encoding

    good = tmp_path / "good.csv"
    body = ("a,b\n" + "é" * 700_000 + ",1\n").encode()  # 2-byte chars straddle the 1 MiB chunks
    good.write_bytes(body)
    check_encoding(str(good), "u", "utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(body[:1_200_004] + b"\xff" + body[1_200_004:])
    with pytest.raises(DataError, match=r"byte 0xff at offset 1200004 \(line 2\)"):
        check_encoding(str(bad), "u", "utf-8")


def test_nul_check_reads_the_whole_file_and_places_the_character(tmp_path):
    """Past the first 1 MiB chunk, and in an encoding where NUL bytes are normal."""
    from hookline.plugins._ingest_read import check_encoding

    path = tmp_path / "late.csv"
    path.write_text("a,b\n" + "1,22\n" * 300_000 + "3,4\x005\n")
    with pytest.raises(DataError, match=r"NUL character \(\\x00\) at line 300002, column 4"):
        check_encoding(str(path), "u", "utf-8")
    wide = tmp_path / "utf16.csv"
    wide.write_bytes("a,b\n1,2\n".encode("utf-16-le"))  # every other byte is 0x00
    check_encoding(str(wide), "u", "utf-16-le")


def test_csv_header_is_read_whole_and_bounded(tmp_path, monkeypatch):
    from hookline.plugins import _ingest_read
    from hookline.plugins._ingest_read import csv_header

    path = tmp_path / "h.csv"
    names = [f"column_{i:04d}_" + "n" * 90 for i in range(900)]
    path.write_text("\n\n" + ",".join(names) + ',"two\nlines"\n1,2\n')
    assert csv_header(str(path), "u", "utf-8", ",") == [*names, "two\nlines"]
    monkeypatch.setattr(_ingest_read, "MAX_HEADER_CHARS", 1000)
    with pytest.raises(DataError, match="header row is longer than 1,000 characters"):
        csv_header(str(path), "u", "utf-8", ",")


def test_json_array_records_are_checked_one_by_one_across_chunks(tmp_path):
    import json

    from hookline.plugins._ingest_read import check_json_records

    records = [{"x1": i, "note": "n" * 200} for i in range(20_000)]  # ~4.3 MB, many chunks
    path = tmp_path / "a.json"
    path.write_text(json.dumps(records))
    check_json_records(str(path), "u", "utf-8", array=True)
    text = json.dumps(records)
    cut = text.index('{"x1": 15000,')
    path.write_text(text[:cut] + '{"x1": 1, "note": "a", "note": "b"}, ' + text[cut:])
    twice = r"the key 'note' appears twice in one record \(record 15001\)"
    with pytest.raises(DataError, match=twice):
        check_json_records(str(path), "u", "utf-8", array=True)
