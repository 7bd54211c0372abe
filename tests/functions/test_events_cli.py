"""``hookline events sample`` and ``hookline events parse``, through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hookline.cli import main

from ._e2e import AWKWARD_KEY

SCHEMES = {"aws": "s3", "gcp": "gs", "azure": "az"}
KINDS = {
    "aws": ["s3", "eventbridge", "sqs", "sns", "sqs-sns"],
    "gcp": ["structured", "binary"],
    "azure": ["eventgrid", "cloudevents"],
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("cloud", "kind"), [(c, k) for c, kinds in KINDS.items() for k in kinds])
def test_sample_then_parse_gives_back_the_object(
    cloud: str, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"{SCHEMES[cloud]}://acme-ml/{AWKWARD_KEY}"
    code, out, _ = run(
        capsys,
        "events",
        "sample",
        "--cloud",
        cloud,
        "--uri",
        uri,
        "--kind",
        kind,
        "--size",
        "4321",
        "--time",
        "2024-05-14T09:21:37.512Z",
    )
    assert code == 0
    payload = tmp_path / "event.json"
    payload.write_text(out)
    code, out, _ = run(capsys, "events", "parse", "--cloud", cloud, str(payload))
    assert code == 0
    parsed = json.loads(out)
    if kind.startswith("sqs"):  # a batch: one result per message, and the handler's answer
        [item] = parsed["items"]
        assert item["id"] == json.loads(payload.read_text())["Records"][0]["messageId"]
        assert parsed["answer"] == {"batchItemFailures": []}
        parsed = item["events"]
    [event] = parsed
    assert event["type"] == "storage" and event["source"] == cloud
    assert event["bucket"] == "acme-ml" and event["key"] == AWKWARD_KEY
    assert event["size"] == 4321 and event["event_time"].startswith("2024-05-14T09:21:37")


def test_aws_sample_encodes_the_key_like_s3(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "events",
        "sample",
        "--cloud",
        "aws",
        "--uri",
        "s3://b/landing/a b+c.csv",
        "--event-name",
        "ObjectCreated:CompleteMultipartUpload",
    )
    [record] = json.loads(out)["Records"]
    assert record["s3"]["object"]["key"] == "landing/a+b%2Bc.csv"
    assert record["eventName"] == "ObjectCreated:CompleteMultipartUpload"


@pytest.mark.parametrize("cloud", list(KINDS))
def test_schedule_samples_parse_as_schedules(
    cloud: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "events", "sample", "--cloud", cloud, "--schedule", "monitor")
    assert code == 0
    (tmp_path / "s.json").write_text(out)
    code, out, _ = run(capsys, "events", "parse", "--cloud", cloud, str(tmp_path / "s.json"))
    [event] = json.loads(out)
    assert event == {**event, "type": "schedule", "pipeline": "monitor", "source": cloud}


def test_non_create_notifications_parse_to_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "t.json").write_text(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}))
    code, out, _ = run(capsys, "events", "parse", "--cloud", "aws", str(tmp_path / "t.json"))
    assert code == 0 and json.loads(out) == []


@pytest.mark.parametrize(
    ("cloud", "payload", "expected"),
    [
        (
            "aws",
            {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]},
            "Records[0].s3",
        ),
        (
            "gcp",
            {"specversion": "1.0", "type": "google.cloud.pubsub.topic.v1.x", "id": "1"},
            "is not handled",
        ),
        ("azure", [{"eventType": "Microsoft.Storage.BlobCreated", "data": {}}], "no blob URL"),
    ],
)
def test_a_bad_payload_exits_2_and_says_what_was_expected(
    cloud: str, payload: object, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.json").write_text(json.dumps(payload))
    code, out, err = run(capsys, "events", "parse", "--cloud", cloud, str(tmp_path / "bad.json"))
    assert code == 2 and out == ""
    assert "bad.json" in err and expected in err and "expected" in err


def test_unreadable_input_and_bad_options_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "x.json").write_text("{not json")
    code, _, err = run(capsys, "events", "parse", "--cloud", "aws", str(tmp_path / "x.json"))
    assert code == 2 and "not JSON" in err
    code, _, err = run(capsys, "events", "parse", "--cloud", "aws", str(tmp_path / "missing"))
    assert code == 2 and "cannot read" in err
    code, _, err = run(
        capsys, "events", "sample", "--cloud", "gcp", "--uri", "gs://b/k", "--kind", "sqs"
    )
    assert code == 2 and "structured, binary" in err
    code, _, err = run(capsys, "events", "sample", "--cloud", "azure", "--uri", "s3://b/k")
    assert code == 2 and "az://BUCKET/path" in err


def test_the_installed_command_reads_standard_input() -> None:
    hookline = Path(sys.executable).parent / "hookline"
    sample = subprocess.run(
        [
            str(hookline),
            "events",
            "sample",
            "--cloud",
            "gcp",
            "--uri",
            "gs://b/landing/x.csv",
            "--kind",
            "binary",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    parsed = subprocess.run(
        [str(hookline), "events", "parse", "--cloud", "gcp", "-"],
        input=sample.stdout,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    [event] = json.loads(parsed.stdout)
    assert event["uri"] == "gs://b/landing/x.csv"
    assert event["version"] == json.loads(sample.stdout)["data"]["generation"]


# -- the command line agrees with the Lambda handler ------------------------------------------

from ._corpus import BAD_BODIES, GOOD, batch, corpus  # noqa: E402

CORPUS = corpus()


def handler_answer(payload: Any) -> tuple[str, Any, list[Any]]:
    """What the pipeline handler answers for ``payload`` when every run it starts succeeds:
    ``("answer", answer, events run)`` or ``("raised", exception, events run)``."""
    from hookline.adapters.aws.pipeline import PipelineHandler
    from hookline.adapters.cloud import PipelineRuntime

    from .test_dispatch import Context, Recorder

    recorder = Recorder()
    handler = PipelineHandler(PipelineRuntime(app=recorder), serving=lambda e, c: {"http": 1})
    try:
        return "answer", handler(payload, Context()), recorder.seen
    except Exception as exc:
        return "raised", exc, recorder.seen


def _comparable(event: dict[str, Any]) -> dict[str, Any]:
    # a schedule without an id takes the delivery's (request or message id) in the handler,
    # and one without a time is stamped when it is parsed
    if event["type"] != "schedule":
        return event
    return {k: v for k, v in event.items() if k not in ("event_id", "event_time")}


@pytest.mark.parametrize("name", list(CORPUS))
def test_events_parse_agrees_with_the_handler_on_the_corpus(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hookline.adapters.aws.events import classify

    payload = CORPUS[name]
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(payload))
    code, out, err = run(capsys, "events", "parse", "--cloud", "aws", str(path))
    kind, answer, ran = handler_answer(payload)
    ran = [_comparable(e.to_dict()) for e in ran]
    if classify(payload) == "sqs":
        assert kind == "answer", answer  # a batch is answered item by item, never raised
        report = json.loads(out)
        assert report["answer"] == answer  # the same partial-batch answer
        failed = [item for item in report["items"] if "error" in item]
        assert code == (2 if failed else 0)
        listed = [f["itemIdentifier"] for f in answer["batchItemFailures"]]
        fifo = any(
            str(r.get("eventSourceARN", "")).endswith(".fifo")
            for r in payload["Records"]
            if isinstance(r, dict)
        )
        if fifo:  # the failed messages and every one after the first of them
            first = next((n for n, i in enumerate(report["items"]) if "error" in i), None)
            after = [i["id"] for i in report["items"][first:]] if first is not None else []
            assert listed == after
            shown = [e for i in report["items"][:first] for e in i["events"]]
        else:
            assert listed == [item["id"] for item in failed]
            shown = [e for i in report["items"] if "events" in i for e in i["events"]]
        assert [_comparable(e) for e in shown] == ran  # what it shows is what the handler ran
        for item in failed:  # the error, where it is, and whether a retry would help
            assert item["error"] and item["where"].startswith("Records[")
            assert item["retry"] is False and item["where"] in item["error"]
            assert "Traceback" not in item["error"]
        return
    if classify(payload) == "http":  # the serving app's, never the pipeline's
        assert code == 2 and "HTTP request" in err and answer == {"http": 1}
    elif kind == "raised":  # not an event: the handler fails, the command exits 2
        assert code == 2 and out == ""
        assert answer.message.split(" (at ")[0] in err
    else:
        assert code == 0, err
        assert [_comparable(e) for e in json.loads(out)] == ran


def test_bad_bodies_fail_alone_and_say_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One result per message: the good ones' events, each bad one's error with its path."""
    payload = batch(GOOD, *BAD_BODIES.values(), GOOD)
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(payload))
    code, out, _ = run(capsys, "events", "parse", str(path))  # the cloud is inferred
    report = json.loads(out)
    assert code == 2 and report["cloud"] == "aws"
    items = report["items"]
    assert [i["id"] for i in items] == [r["messageId"] for r in payload["Records"]]
    assert [bool(i.get("events")) for i in (items[0], items[-1])] == [True, True]
    errors = dict(zip(BAD_BODIES, [i["error"] for i in items[1:-1]], strict=True))
    assert "not valid JSON" in errors["not-json"]
    assert "empty text" in errors["blank"] and "is not a non-empty string" in errors["empty"]
    assert "missing" in errors["missing"] and "int 42" in errors["number"]
    assert "over the 1,048,576 a message can hold" in errors["oversized"]
    assert "U+0000" in errors["c0-key"] and "U+0085" in errors["c1-key"]
    assert "lone surrogate" in errors["lone-surrogate-key"]
    assert "lone surrogate" in errors["lone-surrogate-eventbridge"]
    assert "longer than 1024 bytes" in errors["2000-byte-key"]
    assert "'..' segment" in errors["dot-dot-key"]
    assert "is not a bucket or container name" in errors["bracketed-bucket"]
    assert "expected an S3 notification" in errors["json-not-an-event"]
    assert report["answer"] == {
        "batchItemFailures": [{"itemIdentifier": i["id"]} for i in items[1:-1]]
    }


def test_the_installed_command_exits_non_zero_on_a_batch_with_a_bad_message(
    tmp_path: Path,
) -> None:
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(batch(GOOD, "{not json")))
    hookline = Path(sys.executable).parent / "hookline"
    done = subprocess.run(
        [str(hookline), "events", "parse", "--cloud", "aws", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert report["answer"] == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
