"""The samples of docs/clouds/aws.md, docs/clouds/gcp.md and docs/clouds/azure.md are run.

* every ``json`` block carries a label on the line before its fence: ``<!-- payload -->``
  (parsed as that cloud's function parses it), ``<!-- events -->`` (what the payload above
  it must parse to; the keys shown must match), ``<!-- report -->`` (what ``hookline events
  parse`` prints for the batch above it: every key shown, in every item, must match),
  ``<!-- response: transient=N -->`` (what the AWS handler answers for an SQS batch of two
  messages whose message N met a transient failure), or ``<!-- log: run_finished -->`` (a
  log line: every key shown is one the function writes, and the metric directive is the
  one it writes for a run of that status);
* every ``$ hookline ...`` line of a ``console`` block runs, pipes included, and exits 0;
* every relative link names a page that exists.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hookline.adapters.aws.events import sample_event
from hookline.adapters.aws.pipeline import PipelineHandler
from hookline.adapters.cloud import PipelineRuntime
from hookline.adapters.events_cli import parse_payload
from hookline.errors import TransientError

from .test_dispatch import Context, Recorder

ROOT = Path(__file__).resolve().parents[2]
PAGES = {
    "aws": ROOT / "docs/clouds/aws.md",
    "gcp": ROOT / "docs/clouds/gcp.md",
    "azure": ROOT / "docs/clouds/azure.md",
}
HOOKLINE = Path(sys.executable).parent / "hookline"
FENCE = re.compile(
    r"(?:<!--\s*(?P<label>[^>]*?)\s*-->\n)?```(?P<lang>\w*)\n(?P<body>.*?)\n```", re.S
)


def blocks(page: Path) -> list[tuple[str, str, str]]:
    """``(label, language, body)`` of every fenced block, in order."""
    return [(m["label"] or "", m["lang"], m["body"]) for m in FENCE.finditer(page.read_text())]


@pytest.mark.parametrize("cloud", list(PAGES))
def test_payloads_parse_to_the_events_shown(cloud: str) -> None:
    pending: Any = None
    checked = 0
    for label, lang, body in blocks(PAGES[cloud]):
        if lang != "json":
            continue
        assert label, f"{PAGES[cloud].name}: a json block without a label:\n{body[:200]}"
        if label == "payload":
            raw = json.loads(body)
            from hookline.adapters.cloud import get_cloud

            batch = any(item.id is not None for item in get_cloud(cloud).items(raw))
            pending = raw if batch else parse_payload(cloud, raw)
        elif label == "report":
            from hookline.adapters.events_cli import parse_report

            report, status = parse_report(cloud, pending)
            shown = json.loads(body)
            assert _subset(shown, report), (shown, report)
            assert status == (2 if any("error" in i for i in report["items"]) else 0)
            pending = None
            checked += 1
        elif label == "events":
            assert pending is not None, "an events block without a payload before it"
            shown = json.loads(body)
            got = [e.to_dict() for e in pending]
            assert len(got) == len(shown)
            for event, expected in zip(got, shown, strict=True):
                assert {k: event[k] for k in expected} == expected
            pending = None
            checked += 1
        else:
            assert label.startswith(("response:", "log:")), label
    assert checked >= 2


def _subset(shown: Any, got: Any) -> bool:
    """Every key shown is in ``got`` with the same value (lists item by item)."""
    if isinstance(shown, dict):
        return isinstance(got, dict) and all(
            k in got and _subset(v, got[k]) for k, v in shown.items()
        )
    if isinstance(shown, list):
        return (
            isinstance(got, list)
            and len(shown) == len(got)
            and all(_subset(a, b) for a, b in zip(shown, got, strict=True))
        )
    return bool(shown == got)


def test_the_sqs_partial_batch_response_shown() -> None:
    found = [(lbl, b) for lbl, _, b in blocks(PAGES["aws"]) if lbl.startswith("response:")]
    assert found
    for label, body in found:
        shown = json.loads(body)
        failing = int(label.split("transient=")[1])
        ids = [item["itemIdentifier"] for item in shown["batchItemFailures"]]
        records = []
        for i in range(2):
            [record] = sample_event(f"s3://acme-ml/landing/train/m{i}.csv", kind="sqs")["Records"]
            record["messageId"] = ids[0] if i == failing else f"other-{i}"
            records.append(record)
        recorder = Recorder({f"landing/train/m{failing}.csv": TransientError("SlowDown")})
        answer = PipelineHandler(PipelineRuntime(app=recorder))({"Records": records}, Context())
        assert answer == shown


def _run_pipeline(line: str) -> str:
    stages = [shlex.split(part) for part in line.split(" | ")]
    data: str | None = None
    for argv in stages:
        assert argv[0] == "hookline", line
        done = subprocess.run(
            [str(HOOKLINE), *argv[1:]],
            input=data,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        data = done.stdout
    return data or ""


@pytest.mark.parametrize("cloud", list(PAGES))
def test_console_commands_run(cloud: str) -> None:
    lines = [
        line[2:]
        for _, lang, body in blocks(PAGES[cloud])
        if lang == "console"
        for line in body.splitlines()
        if line.startswith("$ hookline ")
    ]
    assert lines
    for line in lines:
        out = json.loads(_run_pipeline(line))
        if "events parse" in line:
            first = shlex.split(line.split(" | ")[0])
            uri = first[first.index("--uri") + 1]
            assert [e["uri"] for e in out] == [uri.replace(" ", "%20")]


@pytest.mark.parametrize("cloud", list(PAGES))
def test_links_name_pages_that_exist(cloud: str) -> None:
    page = PAGES[cloud]
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text())
    assert links
    for link in links:
        if "://" not in link:
            assert (page.parent / link).resolve().is_file(), f"{page.name}: {link}"


def _logged(cloud: str, shown: dict[str, Any]) -> dict[str, Any]:
    """The fields the function writes for a finished run like the one shown."""
    from hookline.adapters.cloud import run_fields
    from hookline.runner import RunResult

    record = {
        "project": shown.get("project", "p"),
        "model": shown.get("model", "m"),
        "seconds": shown.get("seconds", 1.0),
        "stages": {"monitor": {"status": "ok"}} if "drifted" in shown else {},
        "reports": [{"drifted": bool(shown.get("drifted"))}],
        "error": {"stage": shown.get("stage"), "message": "x"} if "error" in shown else None,
        "rejected_by": shown.get("rejected_by", []),
    }
    result = RunResult(
        shown["run_id"], shown["pipeline"], shown["status"], "", shown.get("record"), record
    )
    fields = {**run_fields(result), "object": shown.get("object")}
    if cloud == "aws":
        from hookline.adapters.aws.pipeline import emf

        fields.update(emf(fields))
    return fields


@pytest.mark.parametrize("cloud", list(PAGES))
def test_log_lines_shown_are_what_the_function_writes(cloud: str) -> None:
    found = [json.loads(b) for lbl, _, b in blocks(PAGES[cloud]) if lbl.startswith("log:")]
    assert found, f"{PAGES[cloud].name} shows no log line"
    platform = {"timestamp", "level", "logger", "message"} | (
        {"requestId"} if cloud == "aws" else {"severity"} if cloud == "gcp" else set()
    )
    for shown in found:
        logged = _logged(cloud, shown)
        assert set(shown) <= set(logged) | platform, set(shown) - set(logged) - platform
        assert shown["event"] == "run_finished" == logged["event"]
        for key in ("status", "pipeline", "run_id", "project", "model", "seconds"):
            assert shown.get(key) == logged.get(key), key
        if "_aws" in shown:
            directive = {**shown["_aws"], "Timestamp": None}
            assert directive == {**logged["_aws"], "Timestamp": None}
            metrics = [m["Name"] for m in shown["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
            assert {m: shown[m] for m in metrics} == {m: logged[m] for m in metrics}
