"""The model card is shown where people read a run: the static report and the dashboard's
run page (the same renderer), for a classifier and for a regressor."""

from __future__ import annotations

import re

import pandas as pd
from _plugin_helpers import Project, table, write_csv
from fastapi.testclient import TestClient
from hookline import layout
from hookline.adapters.dashboard import create_app

CARD = """
[plugins.sklearn.card]
intended_use = "Second reader for screening; never the only reader."
owners = ["ml-team@example.org"]
"""


def _project(root, *, regression: bool = False) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    project = Project(root)
    project.write(CARD)
    text = project.config.read_text().replace(
        "params = { max_iter = 500 }", "params = { max_iter = 500 }\ncv_folds = 3"
    )
    if regression:
        text = text.replace(
            'estimator = "sklearn.linear_model.LogisticRegression"\nparams = { max_iter = 500 }',
            'estimator = "sklearn.linear_model.Ridge"\ntask = "regression"',
        )
    project.config.write_text(text)
    return project


def _report(project: Project, run_id: str) -> str:
    return project.storage.read(layout.run_output_key(run_id, "report.html")).decode()


def _sections(html: str) -> str:
    start = html.index('<section id="card">')
    return html[start : html.index("</section>", start)]


def test_a_classifiers_card_in_the_report_and_the_dashboard(tmp_path) -> None:
    project = _project(tmp_path / "cls")
    record = project.run(write_csv(tmp_path / "b1.csv", table(300, seed=1)))
    assert record["status"] == "succeeded", record.get("error")
    card = record["card"]
    section = _sections(_report(project, record["run_id"]))
    assert "Second reader for screening" in section and "ml-team@example.org" in section
    assert "cross-validated (3 folds)" in section
    mean = card["metrics"]["accuracy"]["cv_mean"]
    assert f"{mean:.4g} ±" in section
    labels = card["confusion_matrix"]["labels"]
    matrix = section[section.index('id="confusion"') :]
    for label, row in zip(labels, card["confusion_matrix"]["matrix"], strict=True):
        cells = re.search(rf"<code>{re.escape(label)}</code></td>(.*?)</tr>", matrix)
        assert cells, label
        assert [int(n.replace(",", "")) for n in re.findall(r">([\d,]+)<", cells.group(1))] == row
    top = card["importance"]["features"][0]["feature"]
    assert 'id="importance"' in section and f"<title>{top}:" in section
    assert card["window"][0]["sha256"][:16] in section

    client = TestClient(create_app(str(project.root / "store")))
    page = client.get(f"/runs/{record['run_id']}")
    assert page.status_code == 200 and _sections(page.text) == section


def test_a_regressors_card_shows_its_residuals(tmp_path) -> None:
    from sklearn.datasets import load_diabetes

    project = _project(tmp_path / "reg", regression=True)
    data = load_diabetes(as_frame=True).frame.rename(columns={"target": "label"})
    record = project.run(write_csv(tmp_path / "d.csv", pd.DataFrame(data)))
    assert record["status"] == "succeeded", record.get("error")
    section = _sections(_report(project, record["run_id"]))
    assert "Residuals (label minus prediction)" in section
    assert f"{record['card']['residuals']['std']:.4g}" in section
    assert "Confusion matrix" not in section
