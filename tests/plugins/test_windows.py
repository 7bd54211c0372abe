"""Training windows and unchanged data, through the command line: which uploads a run
learns from, read by their recorded versions, listed with version and sha256 in the run
record and the version's lineage; the same data twice trains nothing unless forced."""

from __future__ import annotations

import hashlib
import json

import numpy as np
from _plugin_helpers import table, write_csv


def window(project, value: str) -> None:
    text = project.config.read_text()
    marker = 'trigger = { prefix = "landing/train/"'
    head, _, rest = text.partition(marker)
    project.config.write_text(f"{head}window = {value}\n{marker}{rest}")


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(project, path, *flags):
    code, results = project.cli("run", "--pipeline", "train", *flags, str(path))
    [result] = results
    _, record = project.cli("runs", "show", result["run_id"])
    return code, result, record


def test_the_same_bytes_twice_train_nothing_unless_forced(project, tmp_path):
    """Once: `hookline run` of the same file twice registered and promoted a second,
    identical version."""
    path = write_csv(tmp_path / "batch.csv", table(200, seed=1))
    code, _, first = run(project, path)
    assert code == 0 and first["deployments"][0]["version"] == 1
    code, result, again = run(project, path)
    assert code == 0 and result["status"] == "succeeded"
    assert result["message"].startswith("unchanged: m v1 (production) was trained on exactly")
    assert again["unchanged"]["version"] == 1 and again["unchanged"]["run_id"] == first["run_id"]
    assert again["deployments"] == [] and "train" not in again["metrics"]
    assert {s["status"] for s in again["stages"].values()} == {"skipped"}
    assert project.state() == {"versions": 1, "aliases": {"production": 1}}
    # asked for, it trains again
    code, result, forced = run(project, path, "--force")
    assert forced["stages"]["train"]["status"] == "ok" and "unchanged" not in forced
    assert project.state()["versions"] == (2 if result["status"] == "succeeded" else 1)


def test_a_window_of_uploads_learns_from_each_by_its_recorded_version(project, tmp_path):
    window(project, "{ uploads = 2 }")
    paths = [write_csv(tmp_path / f"b{i}.csv", table(100 + 20 * i, seed=i)) for i in (1, 2, 3)]
    records = [run(project, p)[2] for p in paths]
    third = records[2]
    assert third["status"] in ("succeeded", "rejected"), third.get("error")
    assert third["data"]["profile"]["rows"] == 140 + 160
    roles = [(s["role"], s["sha256"]) for s in third["sources"]]
    assert roles == [("trigger", sha(paths[2])), ("window", sha(paths[1]))]
    earlier = third["sources"][1]
    assert earlier["run_id"] == records[1]["run_id"]
    assert earlier["version"] == records[1]["trigger"]["read_version"]
    assert [s["rows"] for s in third["data"]["profile"]["sources"]] == [140, 160]
    card_window = third["card"]["window"]
    assert [(w["sha256"], w["rows"]) for w in card_window] == [  # oldest first
        (sha(paths[1]), 140),
        (sha(paths[2]), 160),
    ]
    if third["status"] == "succeeded":
        lineage = project.registry.get("m", third["deployments"][0]["version"]).manifest["lineage"]
        assert lineage["window"] == {"uploads": 2}
        assert [s["sha256"] for s in lineage["sources"]] == [sha(paths[2]), sha(paths[1])]


def test_failed_uploads_and_data_rejections_stay_out_of_the_window(project, tmp_path):
    window(project, '"all"')
    good = write_csv(tmp_path / "good.csv", table(200, seed=1))
    assert run(project, good)[2]["status"] == "succeeded"
    broken = tmp_path / "broken.csv"
    table(50, seed=2).to_csv(broken, index=False, sep=";")
    assert run(project, broken)[0] == 1
    gappy = table(260, seed=3)
    gappy["x2"] = np.nan  # with the window's rows, over half of x2 is missing
    code, result, rejected = run(project, write_csv(tmp_path / "gappy.csv", gappy))
    assert code == 3 and "null_ratio" in rejected["rejected_by"]
    last = write_csv(tmp_path / "last.csv", table(150, seed=4))
    record = run(project, last)[2]
    read = {s["sha256"] for s in record["sources"]}
    assert read == {sha(last), sha(good)}, "only accepted uploads count"
    assert record["data"]["profile"]["rows"] == 350


def test_an_overwritten_upload_is_left_out_never_replaced(project, tmp_path):
    """A later overwrite cannot change what an earlier upload contributes: local storage
    keeps no versions, so the recorded bytes are gone and the upload is left out."""
    window(project, '"all"')
    first = write_csv(tmp_path / "a.csv", table(200, seed=1))
    old_sha = sha(first)
    assert run(project, first)[2]["status"] == "succeeded"
    write_csv(tmp_path / "a.csv", table(180, seed=9))  # the same name, other bytes
    record = run(project, tmp_path / "a.csv")[2]
    [left] = [s for s in record["sources"] if s["role"] == "left_out"]
    assert left["sha256"] == old_sha and "overwritten" in left["reason"]
    assert record["data"]["profile"]["rows"] == 180
    code, shown = project.cli("runs", "show", record["run_id"])
    assert code == 0


def test_a_column_only_some_uploads_have_is_left_out_of_the_window(project, tmp_path):
    window(project, '"all"')
    assert run(project, write_csv(tmp_path / "a.csv", table(200, seed=1)))[2]["status"] == (
        "succeeded"
    )
    grown = table(200, seed=2)
    grown["extra"] = np.random.default_rng(0).normal(size=200)
    record = run(project, write_csv(tmp_path / "b.csv", grown))[2]
    assert "extra" not in record["data"]["schema"]
    assert list(record["data"]["profile"]["columns_left_out"].values()) == [["extra"]]


def test_runs_show_prints_the_window_and_the_unchanged_verdict(project, tmp_path, capsys):
    from hookline.cli import main

    window(project, "{ uploads = 3 }")
    a = write_csv(tmp_path / "a.csv", table(200, seed=1))
    b = write_csv(tmp_path / "b.csv", table(200, seed=2))
    run(project, a)
    _, _, second = run(project, b)
    capsys.readouterr()
    assert main(["runs", "show", second["run_id"], "--config", str(project.config)]) == 0
    shown = capsys.readouterr().out
    assert f"window     {second['sources'][1]['uri']}" in shown
    assert "sha256 " + sha(a)[:12] in shown
    _, result, again = run(project, b)
    assert json.dumps(again["unchanged"])
    capsys.readouterr()
    assert main(["runs", "show", again["run_id"], "--config", str(project.config)]) == 0
    assert "unchanged  m v" in capsys.readouterr().out
