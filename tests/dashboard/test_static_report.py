"""The static reports written by the ``reports`` plugin after real runs: bytes in storage."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hookline.errors import TransientError
from hookline.plugins._report_html import model_index_html, run_report_html

from .conftest import PSI_THRESHOLD, Project, record, run_id, table


def stored(project: Project, key: str) -> str:
    return project.app.storage.read(key).decode()


def report(project: Project, name: str) -> str:
    return stored(project, f"runs/{run_id(project, name)}/report.html")


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [v for k, v in attrs if k in ("href", "src") and v]


def parse(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


def test_every_finished_run_has_a_report_next_to_its_record(project: Project) -> None:
    for name, result in project.results.items():
        assert project.app.storage.stat(f"runs/{result.run_id}/record.json"), name
        assert project.app.storage.stat(f"runs/{result.run_id}/report.html"), name


def test_succeeded_run_report_shows_trigger_stages_checks_metrics_and_deployment(
    project: Project,
) -> None:
    html = report(project, "v1")
    rec = record(project, "v1")
    trigger = rec["trigger"]
    assert f"Run <code>{rec['run_id']}</code>" in html
    assert ">succeeded<" in html
    assert trigger["uri"] in html and trigger["sha256"] in html
    assert trigger["read_version"] in html
    for stage in ("ingest", "train", "validate", "deploy"):
        assert f"<td>{stage}</td>" in html
    assert "<code>min_rows</code>" in html and "<code>metric.accuracy</code>" in html
    # observed value and threshold of the metric check, side by side
    assert re.search(
        r"metric\.accuracy</code></td><td>model</td><td class=\"n\">0\.82</td>"
        r"<td class=\"n\">0\.75</td>",
        html,
    )
    assert '>accuracy</td><td class="n">0.82<' in html
    assert ">v1</td>" in html and ">promoted<" in html and ">production<" in html
    assert "<dt>rows</dt><dd>200</dd>" in html


def test_failed_run_report_names_the_plugin_hook_and_stage(project: Project) -> None:
    html = report(project, "failed")
    assert ">failed<" in html
    assert "plugin &#x27;stand-in&#x27; failed in hook &#x27;train&#x27;" in html
    assert "<dt>plugin</dt><dd>stand-in</dd>" in html
    assert "<dt>hook</dt><dd><code>train</code></dd>" in html
    assert "<dt>stage</dt><dd>train</dd>" in html
    assert "<dt>type</dt><dd>ValueError</dd>" in html
    assert "traceback" in html and "single class" in html


def test_rejected_run_report_shows_the_failed_gate(project: Project) -> None:
    html = report(project, "rejected")
    assert ">rejected<" in html
    assert re.search(
        r'class="b bad">fail</span></td><td><code>min_rows</code></td><td>data'
        r'</td><td class="n">20</td><td class="n">50</td>',
        html,
    )
    assert "Deployments" not in html


def test_drift_run_report_draws_psi_per_feature_with_the_threshold(project: Project) -> None:
    html = report(project, "drift")
    rec = record(project, "drift")
    (rep,) = rec["reports"]
    assert rep["drifted"] is True
    assert "Monitoring: drift" in html and "retrain requested" in html
    start = html.index("<svg", html.index("Monitoring: drift"))
    svg = html[start : html.index("</svg>", start)]
    assert svg.count("<rect") == 2
    assert 'fill="#c81e1e"><title>tenure' in svg  # the drifted feature's bar is red
    assert f"threshold {PSI_THRESHOLD:.3g}" in svg and 'stroke-dasharray="6 4"' in svg
    assert ">accuracy</td><td class='n'>" in html


def test_reports_are_self_contained(project: Project) -> None:
    model = stored(project, "registry/churn/index.html")
    for html in [report(project, n) for n in project.results] + [model]:
        parsed = parse(html)
        assert "script" not in parsed.tags
        assert "link" not in parsed.tags and "img" not in parsed.tags
        for url in parsed.urls:
            assert not re.match(r"^[a-z]+:|^//", url), url  # relative links only
        assert "<style>" in html


def test_model_index_lists_versions_aliases_history_and_runs(project: Project) -> None:
    html = stored(project, "registry/churn/index.html")
    assert "<h1>Model churn</h1>" in html
    for v in ("v1", "v2", "v3"):
        assert f"<b>{v}</b>" in html
    assert "production → v2" in html and "staging → v3" in html
    assert "Alias history" in html and "v1 → v2" in html
    assert f'href="../../runs/{run_id(project, "failed")}/report.html"' in html
    # links from a run report to its model index resolve inside the same root
    assert 'href="../../registry/churn/index.html"' in report(project, "v2")


def test_text_from_records_is_escaped() -> None:
    rec = {
        "run_id": "r-1",
        "status": "failed",
        "model": "m<x>",
        "trigger": {},
        "error": {"message": "<script>alert(1)</script>", "plugin": 'p"q', "hook": "train"},
        "stages": {},
        "checks": [],
        "metrics": {},
    }
    html = run_report_html(rec)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="../../registry/m%3Cx%3E/index.html"' in html
    idx = model_index_html("m", [], {}, [{"run_id": "a b", "status": "<b>"}])
    assert "<b>" not in idx.replace("<b>v", "") and "runs/a%20b/report.html" in idx


def test_a_transient_failure_writes_no_report(tmp_path) -> None:
    p = Project(tmp_path / "store")
    p.plugin.transient = True
    with pytest.raises(TransientError):
        p.upload("t", "landing/train/a.csv", table(60))
    assert not [i.key for i in p.app.storage.list("runs/") if i.key.endswith(".html")]
    assert p.app.storage.stat("registry/churn/index.html") is None


def test_model_index_can_be_turned_off(tmp_path) -> None:
    p = Project(tmp_path / "store", plugins={"reports": {"model_index": False}})
    result = p.upload("v1", "landing/train/a.csv", table(100))
    assert result.status == "succeeded"
    assert p.app.storage.stat(f"runs/{result.run_id}/report.html")
    assert p.app.storage.stat("registry/churn/index.html") is None


def test_a_bad_reports_table_is_refused_with_its_key(tmp_path) -> None:
    from hookline.errors import ConfigError

    with pytest.raises(ConfigError, match=r"plugins\.reports\.recent_runs"):
        Project(tmp_path / "store", plugins={"reports": {"recent_runs": "many"}})
