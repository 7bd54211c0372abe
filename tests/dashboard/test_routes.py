"""The dashboard's pages, through the app, over a storage root written by real runs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hookline import layout
from hookline.adapters.dashboard import create_app
from hookline.adapters.dashboard._auth import Auth

from .conftest import Project, build, record, run_id


def client_for(
    project: Project, *, page_size: int | None = None, auth: Auth | None = None
) -> TestClient:
    app = create_app(
        project.app.storage,
        config=project.config,
        page_size=page_size,
        auth=auth or Auth([], local_operator="tester"),
    )
    return TestClient(app, follow_redirects=False)


@pytest.fixture(scope="module")
def client(project: Project) -> TestClient:
    return client_for(project)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def run_ids_on(html: str) -> list[str]:
    return re.findall(r'<a class="mono" href="/runs/([^"/]+)">', html)


def test_runs_page_lists_every_run_newest_first(client: TestClient, project: Project) -> None:
    page = client.get("/runs")
    assert page.status_code == 200
    expected = [r.run_id for r in reversed(project.results.values())]
    assert run_ids_on(page.text) == expected
    assert "plugin &#39;stand-in&#39; failed in hook &#39;train&#39;" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text and "http://" not in page.text.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("status=failed", ["failed"]),
        ("status=rejected", ["rejected"]),
        ("pipeline=score", ["drift", "score2", "score1"]),
        ("pipeline=train&status=succeeded", ["v3", "v2", "v1"]),
        ("model=churn&pipeline=score&status=succeeded", ["drift", "score2", "score1"]),
        ("model=other", []),
    ],
)
def test_runs_page_filters(
    client: TestClient, project: Project, query: str, names: list[str]
) -> None:
    page = client.get(f"/runs?{query}")
    assert page.status_code == 200
    assert run_ids_on(page.text) == [run_id(project, n) for n in names]
    if not names:
        assert "No runs match these filters" in page.text


def test_runs_page_filters_by_start_day(client: TestClient, project: Project) -> None:
    today = datetime.now(UTC).date()
    day = timedelta(days=1)
    assert len(run_ids_on(client.get(f"/runs?since={today}").text)) == len(project.results)
    assert len(run_ids_on(client.get(f"/runs?until={today}").text)) == len(project.results)
    assert run_ids_on(client.get(f"/runs?since={today + day}").text) == []
    assert run_ids_on(client.get(f"/runs?until={today - day}").text) == []


def test_runs_page_pages_through_the_index_with_a_cursor(project: Project) -> None:
    client = client_for(project, page_size=3)
    seen: list[str] = []
    url: str | None = "/runs"
    pages = 0
    while url:
        html = client.get(url).text
        ids = run_ids_on(html)
        assert 0 < len(ids) <= 3
        seen += ids
        pages += 1
        match = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = match.group(1).replace("&amp;", "&") if match else None
        if pages > 1:
            assert "« Newest" in html
    assert pages == 3
    assert seen == [r.run_id for r in reversed(project.results.values())]


def test_run_page_of_a_succeeded_run(client: TestClient, project: Project) -> None:
    rec = record(project, "v1")
    html = client.get(f"/runs/{rec['run_id']}").text
    trigger = rec["trigger"]
    assert trigger["uri"] in html and trigger["sha256"] in html
    assert trigger["read_version"] in html
    for stage, info in rec["stages"].items():
        assert re.search(rf"<td>{stage}</td><td><span class=\"b ok\">ok</span>", html)
    assert re.search(
        r"<code>metric.accuracy</code></td><td>model</td>"
        r"<td class=\"n\">0.82</td><td class=\"n\">0.75</td>",
        html,
    )
    assert '<td>accuracy</td><td class="n">0.82</td>' in html
    # the same sections as the static report: one renderer of a run record
    static = project.app.storage.read(f"runs/{rec['run_id']}/report.html").decode()
    for part in ("checks", "stages", "trigger"):  # stored records sort their keys
        start = f'<section id="{part}">'
        assert start in html
        mine = html[html.index(start) :].split("</section>", 1)[0]
        assert mine == static[static.index(start) :].split("</section>", 1)[0], part
    assert '<a href="/models/churn#v1">v1</a>' in html
    assert "<dt>rows</dt><dd>200</dd>" in html and "<code>tenure</code>" in html
    assert f'href="/runs/{rec["run_id"]}/report.html">static report' in html
    assert "<svg" in html and "Stage timings" in html


def test_run_page_of_a_failed_run_names_plugin_and_hook(
    client: TestClient, project: Project
) -> None:
    html = client.get(f"/runs/{run_id(project, 'failed')}").text
    assert '<span class="b bad">failed</span>' in html
    assert "<dt>plugin</dt><dd>stand-in</dd>" in html
    assert "<dt>hook</dt><dd><code>train</code></dd>" in html
    assert "<dt>stage</dt><dd>train</dd>" in html
    assert "single class: cannot fit" in html


def test_run_page_of_a_monitoring_run_shows_drift(client: TestClient, project: Project) -> None:
    html = client.get(f"/runs/{run_id(project, 'drift')}").text
    assert "Monitoring: drift" in html and "retrain requested" in html
    assert re.search(r"<td>tenure</td><td class=\"n\">0.\d+</td>.*?\"b bad\">drift", html, re.S)
    assert 'class="threshold"' in html


def test_run_record_json_and_static_report(client: TestClient, project: Project) -> None:
    rid = run_id(project, "v2")
    assert client.get(f"/runs/{rid}/record.json").json() == record(project, "v2")
    report = client.get(f"/runs/{rid}/report.html")
    assert report.status_code == 200 and "<h1>Run <code>" in report.text
    assert report.headers["content-security-policy"].startswith("sandbox")
    index = client.get("/registry/churn/index.html")
    assert index.status_code == 200 and "<h1>Model churn</h1>" in index.text


@pytest.mark.parametrize(
    "path",
    [
        "/runs/nope",
        "/runs/nope/record.json",
        "/models/nope",
        "/models/bad%20name",
        "/monitoring/%2e%2e",
        "/registry/x/index.html",
    ],
)
def test_unknown_things_are_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, response.text


def test_a_bug_is_a_500_page_with_only_the_request_id(
    project: Project, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from hookline.adapters.dashboard import _views

    secret = f"{project.app.storage.uri}/runs/index/secret.json"

    def broken(runs, rid):  # a bug while building the page, quoting a storage path
        raise RuntimeError(secret)

    monkeypatch.setattr(_views, "run_detail", broken)
    rid = run_id(project, "v2")
    with caplog.at_level("ERROR", logger="hookline.http"):
        response = client_for(project).get(f"/runs/{rid}", headers={"X-Request-Id": "dash-bug-7"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "dash-bug-7"
    assert "internal error (request dash-bug-7)" in response.text
    assert "secret.json" not in response.text and "RuntimeError" not in response.text
    assert "Traceback" not in response.text
    [logged] = [r for r in caplog.records if r.name == "hookline.http"]
    assert "dash-bug-7" in logged.getMessage() and f"/runs/{rid}" in logged.getMessage()
    assert logged.exc_info and logged.exc_info[0] is RuntimeError  # its traceback is logged


def test_models_page(client: TestClient) -> None:
    html = client.get("/models").text
    assert '<a href="/models/churn"><strong>churn</strong></a>' in html
    assert "production → v2" in html and "staging → v3" in html
    assert re.search(r'<td class="num">3</td>\s*<td>v3', html)


def test_model_page_versions_aliases_history_and_lineage(
    client: TestClient, project: Project
) -> None:
    html = client.get("/models/churn").text
    # metrics side by side, best in bold
    assert re.search(r'id="v3">.*?<td class="num best">0.86</td>', html, re.S)
    assert re.search(r'id="v1">.*?<td class="num ">0.82</td>', html, re.S)
    assert "v3 waits for approval" in html
    assert "Roll back to v1" in html
    assert "v1 → v2" in html and "passed every gate" in html
    # lineage: upload (with version and sha256) -> run -> version -> alias
    rec = record(project, "v2")
    chain = html[html.index('id="lineage"') : html.index('id="history"')]
    feb = chain[chain.index("feb.csv") :]
    feb = feb[: feb.index("</div>")]
    assert rec["trigger"]["sha256"][:12] in feb
    assert f'href="/runs/{rec["run_id"]}"' in feb
    assert 'href="#v2">v2</a>' in feb and "production" in feb


def test_monitoring_pages(client: TestClient, project: Project) -> None:
    listing = client.get("/monitoring").text
    assert '<a href="/monitoring/churn"><strong>churn</strong></a>' in listing
    html = client.get("/monitoring/churn").text
    assert "drift in latest batch" in html
    assert "tenure: PSI per monitoring run" in html and "charges: PSI per monitoring run" in html
    assert html.count('class="threshold"') >= 2  # the PSI threshold on each feature chart
    assert "PSI threshold 0.2" in html
    assert html.count('class="flagged"') == 1  # only the drifted batch of tenure
    assert "accuracy on monitored batches" in html and 'class="reference"' in html
    assert '<span class="badge b-open">open</span>' in html and "drift in tenure" in html
    assert f'href="/runs/{run_id(project, "drift")}"' in html


def test_local_actions_approve_promote_and_roll_back(tmp_path) -> None:
    project = build(tmp_path / "store")
    client = client_for(project)
    registry = project.app.registry
    token = csrf_of(client.get("/models/churn").text)
    r = client.post(
        "/models/churn/approve", data={"version": "3", "csrf": token, "reason": "looks good"}
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/models/churn?done=approve")
    state = registry.alias("churn", "production")
    assert state.version == 3
    assert state.history[-1]["action"] == "approve"
    assert state.history[-1]["by"] == "tester [dashboard, local]"
    assert state.history[-1]["reason"] == "looks good"
    assert "production approved: now v3" in client.get(r.headers["location"]).text

    r = client.post(
        "/models/churn/rollback", data={"alias": "production", "expected": "3", "csrf": token}
    )
    assert r.status_code == 303
    assert registry.alias("churn", "production").version == 2
    assert registry.alias("churn", "production").history[-1]["action"] == "rollback"

    r = client.post(
        "/models/churn/promote",
        data={"version": "1", "alias": "challenger", "expected": "none", "csrf": token},
    )
    assert r.status_code == 303
    assert registry.alias("churn", "challenger").version == 1


def test_actions_refuse_a_stale_page(tmp_path) -> None:
    project = build(tmp_path / "store")
    client = client_for(project)
    token = csrf_of(client.get("/models/churn").text)
    key = "registry/churn/aliases/production.json"
    before = project.app.storage.read(key)
    r = client.post(
        "/models/churn/promote",
        data={"version": "1", "alias": "production", "expected": "1", "csrf": token},
    )
    assert r.status_code == 409 and "points at 2, expected 1" in r.text
    r = client.post(
        "/models/churn/rollback", data={"alias": "production", "expected": "3", "csrf": token}
    )
    assert r.status_code == 409 and "points at 2, expected 3" in r.text
    r = client.post("/models/churn/approve", data={"version": "9", "csrf": token})
    assert r.status_code == 404 and "no version 9" in r.text
    r = client.post("/models/churn/approve", data={"version": "x", "csrf": token})
    assert r.status_code == 400
    assert project.app.storage.read(key) == before


def test_record_json_is_the_stored_bytes_parsed(client: TestClient, project: Project) -> None:
    rid = run_id(project, "failed")
    stored = json.loads(project.app.storage.read(f"runs/{rid}/record.json"))
    assert client.get(f"/runs/{rid}/record.json").json() == stored


def test_the_model_page_flags_versions_that_do_not_verify(tmp_path) -> None:
    project = build(tmp_path / "store")
    client = client_for(project)
    html = client.get("/models/churn").text
    assert html.count(">verified</span>") == 3 and "does not verify" not in html
    artifact = "model.bin"
    assert artifact in project.app.registry.get("churn", 2).artifacts
    key = layout.version_key("churn", 2, artifact)
    project.app.storage.write(key, b"swapped")
    html = client.get("/models/churn").text
    assert 'id="unverified-2"' in html and html.count(">verified</span>") == 2
    flagged = html[html.index('id="unverified-2"') :][:600]
    assert f"{artifact} checksum mismatch" in flagged
