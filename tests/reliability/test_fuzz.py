"""Fuzzing: every cloud event parser and the configuration loader, fed arbitrary and
mutated input, answers with a parsed result or a clear ``HooklineError`` -- never another
exception. Mutations start from the real payload shapes each cloud sends."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hookline.config import Config, load_config, parse_config
from hookline.errors import ConfigError, HooklineError
from hookline.events import ScheduleEvent, StorageEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._counters import record
from ._stack import CONFIG
from ._strategies import json_values, mutated, toml_values

EXAMPLES = [pytest.param(150, id="fast"), pytest.param(3000, id="soak", marks=pytest.mark.soak)]


def fuzz(examples: int, strategy: st.SearchStrategy[Any], check: Callable[[Any], None]) -> None:
    """Run ``check`` on ``examples`` inputs drawn from ``strategy``."""
    seen = [0]

    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(strategy)
    def prop(value: Any) -> None:
        seen[0] += 1
        check(value)

    try:
        prop()
    finally:
        record("fuzz_examples", seen[0])


def answers(call: Callable[[], Any]) -> Any:
    """The result of ``call``, or ``None`` when it raised a HooklineError with a message."""
    try:
        return call()
    except HooklineError as exc:
        assert str(exc).strip(), "an error without a message"
        return None


def check_events(events: Any) -> None:
    assert isinstance(events, list), type(events)
    for event in events:
        assert isinstance(event, StorageEvent | ScheduleEvent), type(event)
        json.dumps(event.to_dict())
        event.run_id("train")
        if isinstance(event, StorageEvent):
            assert isinstance(event.key, str) and isinstance(event.bucket, str)
            assert event.uri.startswith(("s3://", "gs://", "az://")), event.uri
            assert event.size is None or (isinstance(event.size, int) and event.size >= 0)


# -- event parsers ------------------------------------------------------------------------

WHEN = "2026-01-01T00:00:00.000Z"  # fixed: seeds must not change between test cases


def aws_seeds() -> list[Any]:
    from hookline.adapters.aws import _samples
    from hookline.adapters.aws._samples import sample_event, sample_schedule

    uri = "s3://landing-bucket/landing/train/a b+c%é.csv"
    return [sample_event(uri, kind=k, version_id="v1", event_time=WHEN) for k in _samples.KINDS] + [
        sample_schedule("train", event_time=WHEN)
    ]


def gcp_seeds() -> list[Any]:
    from hookline.adapters.gcp._samples import sample_event, sample_schedule

    uri = "gs://landing-bucket/landing/train/a b+c%é.csv"
    return [
        sample_event(uri, event_time=WHEN),
        sample_event(uri, mode="binary", event_time=WHEN),
        sample_schedule("train", event_time=WHEN),
    ]


def azure_seeds() -> list[Any]:
    from hookline.adapters.azure._samples import SCHEMAS, sample_event

    uri = "az://landing/landing/train/a b+c%é.csv"
    events = [sample_event(uri, schema=s, event_time=WHEN) for s in SCHEMAS]
    return [*events, events, [events[0], {"eventType": "Microsoft.Storage.BlobDeleted"}]]


def payloads(seeds: Callable[[], list[Any]]) -> st.SearchStrategy[Any]:
    """Arbitrary JSON, or a real payload with a few nodes mutated."""
    return json_values | mutated(seeds())


@pytest.mark.parametrize("examples", EXAMPLES)
def test_aws_event_parser(examples: int) -> None:
    from hookline.adapters.aws import events

    def check(payload: Any) -> None:
        assert isinstance(events.classify(payload), str)
        parsed = answers(lambda: events.parse_event(payload))
        if parsed is not None:
            check_events(parsed)
        answers(lambda: events.sqs_messages(payload))

    fuzz(examples, payloads(aws_seeds), check)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_gcp_event_parser(examples: int) -> None:
    from hookline.adapters.gcp import events

    headers = st.dictionaries(
        st.sampled_from(
            [
                "ce-type",
                "ce-id",
                "ce-time",
                "ce-subject",
                "ce-source",
                "ce-specversion",
                "content-type",
                "Content-Type",
                "x-other",
            ]
        ),
        st.text(max_size=60)
        | st.sampled_from(
            [
                "google.cloud.storage.object.v1.finalized",
                "application/cloudevents+json",
                "hookline.schedule",
            ]
        ),
        max_size=6,
    )

    def check(case: tuple[Any, Any, bytes]) -> None:
        payload, head, body = case
        hdrs = head if isinstance(head, dict) else None
        assert isinstance(events.classify(payload, hdrs), str)
        parsed = answers(lambda: events.parse_event(payload, hdrs))
        if parsed is not None:
            check_events(parsed)
        parsed = answers(lambda: events.parse_http(head if isinstance(head, dict) else {}, body))
        if parsed is not None:
            check_events(parsed)

    binary = gcp_seeds()[1]
    bodies = st.binary(max_size=300) | payloads(gcp_seeds).map(
        lambda v: json.dumps(v, default=str).encode()
    )
    cases = st.tuples(
        payloads(gcp_seeds), st.one_of(st.none(), headers, st.just(binary["headers"])), bodies
    )
    fuzz(examples, cases, check)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_azure_event_parser(examples: int) -> None:
    from hookline.adapters.azure import events

    def check(payload: Any) -> None:
        assert isinstance(events.classify(payload), str)
        response = events.validation_response(payload)
        assert response is None or isinstance(response, dict)
        parsed = answers(lambda: events.parse_event(payload))
        if parsed is not None:
            check_events(parsed)

    fuzz(examples, payloads(azure_seeds), check)


# -- configuration ------------------------------------------------------------------------

VALID = tomllib.loads(
    CONFIG.format(
        storage="/srv/ml",
        claim_timeout=900,
        max_upload_bytes=1024,
        model="m",
        prefix="landing/train/",
        must_beat_production="false",
    )
)


def check_config(config: Config | None) -> None:
    """A parsed configuration is usable: routing and plugin tables do not blow up later."""
    if config is None:
        return
    for pipeline in config.pipelines.values():
        if pipeline.trigger is not None:
            pipeline.trigger.matches_key("landing/train/part 1.bin")
        for name in list(config.plugins) + list(pipeline.plugins):
            config.plugin_config(name, pipeline=pipeline.name)
    assert isinstance(config.digest, str) and config.storage


@pytest.mark.parametrize("examples", EXAMPLES)
def test_parse_config_on_arbitrary_tables(examples: int) -> None:
    tables = st.dictionaries(
        st.text(max_size=12) | st.sampled_from(sorted(VALID)), toml_values, max_size=6
    ) | mutated([VALID], toml_values)

    def check(table: Any) -> None:
        if not isinstance(table, dict):
            table = {"project": table}
        check_config(answers(lambda: parse_config(table, env={}, base_dir="/srv")))

    fuzz(examples, tables, check)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_load_config_on_arbitrary_bytes(examples: int, tmp_path: Path) -> None:
    text = CONFIG.format(
        storage="store",
        claim_timeout=900,
        max_upload_bytes=1024,
        model="m",
        prefix="landing/train/",
        must_beat_production="false",
    )
    lines = text.splitlines()
    edited = st.lists(st.sampled_from(lines) | st.text(max_size=40), max_size=30).map(
        lambda chosen: "\n".join(chosen).encode("utf-8", "surrogatepass")
    )
    blobs = (
        st.binary(max_size=400)
        | edited
        | st.just(text.encode()).map(lambda b: b.replace(b'"', b"", 1))
    )
    path = tmp_path / "hookline.toml"

    def check(blob: bytes) -> None:
        path.write_bytes(blob)
        check_config(answers(lambda: load_config(path)))

    fuzz(examples, blobs, check)


def test_trigger_suffixes_must_be_strings() -> None:
    """Found by the fuzzer: a suffix array holding a number loaded, then routing raised."""
    table = json.loads(json.dumps(VALID))
    table["pipelines"]["train"]["trigger"]["suffix"] = [".csv", 1]
    with pytest.raises(ConfigError, match="suffix"):
        parse_config(table, env={})


def test_a_ten_megabyte_string_gets_a_short_clear_error_fast(tmp_path: Path) -> None:
    """Hostile sizes: a 10 MB model name, unknown key and section are refused by name, in
    an error that does not echo them, without a did-you-mean search over 10 MB."""
    import time

    huge = "x" * 10_000_000
    base = json.loads(json.dumps(VALID))
    cases = {
        "model name": lambda t: t["pipelines"]["train"].update(model=huge),
        "unknown key": lambda t: t["project"].update({huge: 1}),
        "unknown section": lambda t: t.update({huge: {}}),
        "wrong type": lambda t: t["runs"].update(claim_timeout_seconds=huge),
    }
    for what, edit in cases.items():
        table = json.loads(json.dumps(base))
        table.setdefault("runs", {})
        edit(table)
        started = time.perf_counter()
        with pytest.raises(ConfigError) as info:
            parse_config(table, env={})
        assert time.perf_counter() - started < 5, what
        assert len(str(info.value)) < 1000, what
        assert "xxxx" in str(info.value), what  # the value is shown, cut short


def test_model_and_alias_names_are_checked_when_the_file_loads() -> None:
    table = json.loads(json.dumps(VALID))
    table["pipelines"]["train"]["model"] = "../escape"
    with pytest.raises(ConfigError, match=r"\[pipelines\.train\.model\] invalid model name"):
        parse_config(table, env={})
