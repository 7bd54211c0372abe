"""The code samples of docs/dashboard.md run (or parse) as written."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hookline.cli import build_parser
from hookline.config import check_table
from hookline.plugins import reports

from .conftest import build

DOC = Path(__file__).resolve().parents[2] / "docs" / "dashboard.md"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), re.S)


def commands() -> list[list[str]]:
    found = []
    for block in blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line.split("  #")[0])
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words.pop(0)
            if words:
                found.append(words)
    return found


def test_the_doc_has_samples() -> None:
    assert len(commands()) >= 5 and blocks("python") and blocks("toml")


@pytest.mark.parametrize("words", commands(), ids=lambda w: " ".join(w[1:4]))
def test_shell_samples_are_valid_commands(words: list[str]) -> None:
    assert words[0] == "hookline"
    args = build_parser().parse_args(words[1:])
    assert args.command == "ui" and callable(args.func)


def test_reports_settings_sample_validates() -> None:
    (sample,) = blocks("toml")
    table = tomllib.loads(sample)["plugins"]["reports"]
    assert check_table(table, reports.CONFIG, "plugins.reports") == table


def test_function_sample_serves_the_dashboard(tmp_path, monkeypatch) -> None:
    project = build(tmp_path / "store")
    monkeypatch.setenv("HOOKLINE_STORAGE", str(project.root))
    monkeypatch.delenv("HOOKLINE_API_KEYS", raising=False)
    (sample,) = blocks("python")
    namespace: dict = {}
    exec(compile(sample, str(DOC), "exec"), namespace)
    page = TestClient(namespace["app"]).get("/runs")
    assert page.status_code == 200 and project.results["v1"].run_id in page.text
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/models/churn",
        "rawQueryString": "",
        "headers": {"host": "dash.example"},
        "requestContext": {
            "http": {
                "method": "GET",
                "path": "/models/churn",
                "sourceIp": "127.0.0.1",
                "protocol": "HTTP/1.1",
            },
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    response = namespace["handler"](event, None)
    assert response["statusCode"] == 200 and "Model churn" in response["body"]
