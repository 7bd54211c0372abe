"""``hookline events sample`` and ``hookline events parse``, through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
