"""The whole lifecycle on local storage, through the real command line and runner:
train, retrain (promoted only when better), score with drift, a broken upload, approval."""

from __future__ import annotations

import hashlib
import io
import json

import pandas as pd
from _plugin_helpers import table, write_csv


def semicolons(path, frame):
    frame.to_csv(path, index=False, sep=";")
    return path


def test_train_retrain_score_and_a_broken_upload(project, tmp_path):
    batch1 = write_csv(tmp_path / "batch1.csv", table(200, seed=1))
    batch2 = write_csv(tmp_path / "batch2.csv", table(300, seed=2))
    drifted = table(150, seed=3, shift=2.0)
    drifted.loc[:14, "color"] = "purple"  # a category training never saw
    drifted = write_csv(tmp_path / "drifted.csv", drifted)
    broken = semicolons(tmp_path / "broken.csv", table(50, seed=4))
    project.write("[plugins.drift]\nretrain_on_drift = true\n")

    # 1. the first upload trains v1 and promotes it
    first = project.run(batch1)
    assert first["status"] == "succeeded", first["error"]
    assert first["deployments"][0]["version"] == 1
    assert first["deployments"][0]["status"] == "promoted"
    assert first["trigger"]["sha256"] == hashlib.sha256(batch1.read_bytes()).hexdigest()
    assert first["data"]["profile"]["rows"] == 200 and first["data"]["target"] == "label"
    assert first["data"]["schema"]["label"]["target"] is True
    assert set(first["metrics"]) == {"accuracy", "f1", "roc_auc"}
    assert all(c["passed"] for c in first["checks"])
    assert {s for s, v in first["stages"].items() if v["status"] == "ok"} == {
        "ingest",
        "train",
        "validate",
        "deploy",
    }
    assert project.state() == {"versions": 1, "aliases": {"production": 1}}
    manifest = project.registry.get("m", 1).manifest
    assert manifest["lineage"]["sha256"] == first["trigger"]["sha256"]
    assert manifest["lineage"]["trigger_uri"].endswith("landing/train/batch1.csv")
    assert manifest["lineage"]["run_id"] == first["run_id"]

    # 2. the second upload is promoted only if it beats v1 on the same hold-out
    second = project.run(batch2)
    beats = next(c for c in second["checks"] if c["name"] == "beats_production")
    if beats["passed"]:
        assert second["status"] == "succeeded"
        assert project.state() == {"versions": 2, "aliases": {"production": 2}}
    else:
        assert second["status"] == "rejected" and second["rejected_by"] == ["beats_production"]
        assert project.state() == {"versions": 1, "aliases": {"production": 1}}
    state = project.state()

    # 3. a drifted batch is scored, drift is reported and a retrain requested
    scored = project.run(drifted, pipeline="score")
    assert scored["status"] == "succeeded", scored["error"]
    report = scored["reports"][0]
    assert report["drifted"] and report["retrain_requested"]
    assert sorted(report["details"]["drifted_features"]) == ["color", "x1"]
    assert report["features"]["color"]["unseen"] == 15
    storage = project.storage
    requests = [i.key for i in storage.list("monitoring/m/retrain/")]
    assert requests == [f"monitoring/m/retrain/{scored['run_id']}.json"]
    assert json.loads(storage.read(requests[0]))["status"] == "open"
    predictions = pd.read_csv(io.BytesIO(storage.read(f"runs/{scored['run_id']}/predictions.csv")))
    assert len(predictions) == 150 and set(predictions["prediction"]) <= {"yes", "no"}
    assert storage.stat(f"monitoring/m/reports/{scored['run_id']}.json") is not None

    # 4. a broken upload fails clearly and promotes nothing
    failed = project.run(broken)
    assert failed["status"] == "failed"
    assert "landing/train/broken.csv: found a single column" in failed["error"]["message"]
    assert failed["error"]["stage"] == "ingest" and failed["error"]["plugin"] == "pandas"
    assert project.state() == state

    # the CLI shows the four outcomes
    _, runs = project.cli("runs")
    assert [r["status"] for r in runs] == ["failed", "succeeded", second["status"], "succeeded"]
    assert [r["pipeline"] for r in runs] == ["train", "score", "train", "train"]

    # outputs only under hookline's own prefixes; the landing prefix holds the uploads only
    keys = [i.key for i in storage.list("")]
    assert all(
        k.startswith(("runs/", "registry/", "monitoring/", "landing/", ".hookline")) for k in keys
    ), keys
    assert sorted(k for k in keys if k.startswith("landing/")) == [
        "landing/score/drifted.csv",
        "landing/train/batch1.csv",
        "landing/train/batch2.csv",
        "landing/train/broken.csv",
    ]


def test_the_next_training_upload_answers_a_retrain_request(project, tmp_path):
    project.write("[plugins.drift]\nretrain_on_drift = true\n")
    assert project.run(write_csv(tmp_path / "a.csv", table(200, seed=1)))["status"] == "succeeded"
    scored = project.run(write_csv(tmp_path / "s.csv", table(100, seed=2, shift=3.0)), "score")
    key = f"monitoring/m/retrain/{scored['run_id']}.json"
    assert json.loads(project.storage.read(key))["status"] == "open"
    retrained = project.run(write_csv(tmp_path / "b.csv", table(300, seed=1, shift=3.0)))
    if retrained["status"] == "succeeded":
        request = json.loads(project.storage.read(key))
        assert request["status"] == "done" and request["fulfilled_by"] == retrained["run_id"]
        assert retrained["deployments"][0]["details"]["closed_retrain_requests"] == [
            project.storage.url(key)
        ]
    else:  # a worse model is not promoted, and the request stays open
        assert json.loads(project.storage.read(key))["status"] == "open"


def test_approval_workflow(project, tmp_path, monkeypatch):
    project.write("[plugins.registry]\nrequire_approval = true\n")
    record = project.run(write_csv(tmp_path / "a.csv", table(200)))
    assert record["status"] == "succeeded"
    assert record["deployments"][0]["status"] == "staged"
    assert record["deployments"][0]["alias"] == "staging"
    assert project.state() == {"versions": 1, "aliases": {"staging": 1}}
    monkeypatch.setenv("HOOKLINE_ACTOR", "alice@example.org")
    code, moved = project.cli("models", "approve", "m", "1")
    assert code == 0 and moved["version"] == 1
    assert moved["history"][-1]["action"] == "approve"
    assert moved["history"][-1]["by"] == "alice@example.org"
    assert project.state() == {"versions": 1, "aliases": {"production": 1, "staging": 1}}


def test_a_redelivered_upload_does_nothing_twice(project, tmp_path):
    from hookline.cli._app import event_for
    from hookline.runner import Hookline

    record = project.run(write_csv(tmp_path / "a.csv", table(200)))
    assert record["status"] == "succeeded"
    app = Hookline.from_config(str(project.config))
    info = project.storage.stat("landing/train/a.csv")
    again = app.handle(event_for(app.storage, info))
    assert [r.status for r in again] == ["duplicate"]
    assert project.state() == {"versions": 1, "aliases": {"production": 1}}


def test_hookline_retrain_answers_a_retrain_request(project, tmp_path):
    project.write("[plugins.drift]\nretrain_on_drift = true\n")
    assert project.run(write_csv(tmp_path / "a.csv", table(200, seed=1)))["status"] == "succeeded"
    scored = project.run(write_csv(tmp_path / "s.csv", table(100, seed=2, shift=3.0)), "score")
    key = f"monitoring/m/retrain/{scored['run_id']}.json"
    assert json.loads(project.storage.read(key))["status"] == "open"
    code, out = project.cli("retrain", "m")
    # the retrain learns from the training upload plus the labelled batch that drifted
    assert [a["uri"] for a in out["added"]] == [scored["trigger"]["uri"]]
    assert out["run"]["status"] in ("succeeded", "rejected")
    assert code == {"succeeded": 0, "rejected": 3}[out["run"]["status"]]
    assert out["closed_requests"] == [key]
    _, record = project.cli("runs", "show", out["run"]["run_id"])
    assert [(s["role"], s["sha256"]) for s in record["sources"]] == [
        ("window", hashlib.sha256((tmp_path / "a.csv").read_bytes()).hexdigest()),
        ("added", scored["trigger"]["sha256"]),
    ]
    assert record["data"]["profile"]["rows"] == 300
    request = json.loads(project.storage.read(key))
    assert request["status"] == "done" and request["fulfilled_by"] == out["run"]["run_id"]
