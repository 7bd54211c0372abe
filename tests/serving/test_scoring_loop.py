"""The loop from serving back to drift detection, with the real built-in plugins: the
quickstart's model (trained with ``exclude = ["year"]``) is served, its prediction log is
written by serving, and the monitoring pipeline triggered on the log's prefix scores it
with the real drift monitor. (A model that excludes a training column used to make its
own logs unscoreable: the ingest plugin asked for the excluded column.)"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"
WATCH = """
[pipelines.watch]
model = "penguins"
stages = ["ingest", "monitor"]
trigger = { prefix = "landing/predictions/", suffix = ".csv" }

[serving.prediction_log]
sample_rate = 1.0
"""


def test_serving_logs_are_scored_by_the_drift_monitor(tmp_path: Path) -> None:
    from hookline.adapters.serving import create_app
    from hookline.cli._app import event_for
    from hookline.project import Project
    from hookline.runner import Hookline

    root = tmp_path / "q"
    shutil.copytree(QUICKSTART, root, ignore=shutil.ignore_patterns(".hookline"))
    (root / "hookline.toml").write_text((root / "hookline.toml").read_text() + WATCH)
    project = Project.open(root / "hookline.toml", storage=str(root / ".hookline"))
    runner = Hookline(project)
    info = project.storage.write("landing/train/batch1.csv", (root / "batch1.csv").read_bytes())
    (trained,) = runner.handle(event_for(project.storage, info))
    assert trained.status == "succeeded"

    app = create_app(project=project, environ={})
    with TestClient(app) as client:
        features = {f["name"]: f["dtype"] for f in client.get("/model").json()["features"]}
        assert "year" not in features  # excluded in training
        records = []
        for row in csv.DictReader(io.StringIO((root / "batch2.csv").read_text())):
            records.append(
                {
                    n: None if row[n] == "" else float(row[n]) if t == "number" else row[n]
                    for n, t in features.items()
                }
            )
        r = client.post("/predict", json=records[:80], headers={"x-request-id": "batch-2"})
        assert r.status_code == 200, r.text
    app.state.prediction_log.drain()
    (key,) = app.state.prediction_log.written
    logged = list(csv.DictReader(io.StringIO(project.storage.read(key).decode())))
    assert len(logged) == 80 and {row["hookline_request_id"] for row in logged} == {"batch-2"}

    (watched,) = runner.handle(event_for(project.storage, project.storage.stat(key)))
    assert watched.status == "succeeded", watched
    record = project.runs.get(watched.run_id)
    (report,) = record["reports"]
    assert set(report["features"]) == set(features)
    assert all(f.get("psi") is not None for f in report["features"].values())
