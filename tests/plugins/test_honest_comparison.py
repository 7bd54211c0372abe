"""Production is judged on evidence the candidate's upload cannot corrupt, through the CLI.

A batch whose labels were shuffled must not be promoted: the candidate it trains loses on
the registry's evaluation set (hold-outs of promoted versions), and its labels disagree with
production's predictions. For a classifier and for a regressor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _plugin_helpers import Project, table, write_csv


def _project(root) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    return Project(root)


def _shuffled(frame: pd.DataFrame, column: str, seed: int) -> pd.DataFrame:
    out = frame.copy()
    out[column] = np.random.default_rng(seed).permutation(out[column].to_numpy())
    return out


def _regression_project(tmp_path) -> tuple[Project, pd.DataFrame]:
    from sklearn.datasets import load_diabetes

    data = load_diabetes(as_frame=True).frame.rename(columns={"target": "label"})
    project = _project(tmp_path / "reg")
    text = project.config.read_text()
    text = text.replace(
        'estimator = "sklearn.linear_model.LogisticRegression"\nparams = { max_iter = 500 }',
        'estimator = "sklearn.linear_model.Ridge"\ntask = "regression"',
    )
    project.config.write_text(text)
    return project, data.sample(frac=1.0, random_state=0).reset_index(drop=True)


def test_a_classifier_trained_on_shuffled_labels_is_rejected(tmp_path):
    project = _project(tmp_path / "cls")
    first = project.run(write_csv(tmp_path / "b1.csv", table(300, seed=1)))
    assert first["status"] == "succeeded", first["error"]
    # an honest second batch is compared on the evaluation set and this hold-out
    honest = project.run(write_csv(tmp_path / "b2.csv", table(300, seed=2)))
    beats = next(c for c in honest["checks"] if c["name"] == "beats_production")
    assert beats["details"]["compared_with"] == 1
    assert beats["details"]["scores"]["trusted"]["rows"] > 0
    assert [p["source"] for p in beats["details"]["evaluation"]][0] == "registry v1 hold-out"
    production = project.state()["aliases"]["production"]

    shuffled = _shuffled(table(300, seed=3), "label", seed=3)
    bad = project.run(write_csv(tmp_path / "shuffled.csv", shuffled))
    assert bad["status"] == "rejected", [(c["name"], c["message"]) for c in bad["checks"]]
    assert {"label_sanity", "beats_production"} <= set(bad["rejected_by"]), bad["rejected_by"]
    assert project.state()["aliases"]["production"] == production


def test_a_regressor_trained_on_shuffled_labels_is_rejected(tmp_path):
    project, data = _regression_project(tmp_path)
    first = project.run(write_csv(tmp_path / "r1.csv", data.iloc[:220]))
    assert first["status"] == "succeeded", first["error"]
    shuffled = _shuffled(data.iloc[220:], "label", seed=5)
    bad = project.run(write_csv(tmp_path / "shuffled.csv", shuffled))
    assert bad["status"] == "rejected", [(c["name"], c["message"]) for c in bad["checks"]]
    assert "label_sanity" in bad["rejected_by"]
    assert "beats_production" in bad["rejected_by"]
    beats = next(c for c in bad["checks"] if c["name"] == "beats_production")
    assert beats["details"]["scores"]["trusted"]["passed"] is False
    assert project.state()["aliases"]["production"] == 1


def test_a_golden_set_is_scored_as_trusted_data(tmp_path):
    project = _project(tmp_path / "golden")
    golden = write_csv(tmp_path / "golden.csv", table(120, seed=9))
    project.write(f'golden_set = "{golden}"\n')
    project.run(write_csv(tmp_path / "b1.csv", table(200, seed=1)))
    second = project.run(write_csv(tmp_path / "b2.csv", table(200, seed=2)))
    beats = next(c for c in second["checks"] if c["name"] == "beats_production")
    sources = [p["source"] for p in beats["details"]["evaluation"]]
    assert str(golden) in sources and "registry v1 hold-out" in sources


@pytest.mark.parametrize("problem", ["missing", "no-label"])
def test_a_bad_golden_set_blocks_with_a_clear_reason(tmp_path, problem):
    project = _project(tmp_path / problem)
    golden = tmp_path / "golden.csv"
    if problem == "no-label":
        write_csv(golden, table(50, seed=9).drop(columns=["label"]))
    project.run(write_csv(tmp_path / "b1.csv", table(200, seed=1)))
    project.write(f'golden_set = "{golden}"\n')
    second = project.run(write_csv(tmp_path / "b2.csv", table(200, seed=2)))
    assert second["status"] == "rejected"
    beats = next(c for c in second["checks"] if c["name"] == "beats_production")
    expected = "does not exist" if problem == "missing" else "has no label column 'label'"
    assert str(golden) in beats["message"] and expected in beats["message"]
    assert project.state()["aliases"]["production"] == 1


def test_an_evaluation_set_with_classes_the_candidate_never_saw(tmp_path):
    project = _project(tmp_path / "classes")
    three = table(300, seed=1)
    three.loc[three.index[:100], "label"] = "maybe"
    assert project.run(write_csv(tmp_path / "b1.csv", three))["status"] == "succeeded"
    two = table(300, seed=2)  # "yes"/"no" only: v1's hold-out holds a third class
    second = project.run(write_csv(tmp_path / "b2.csv", two))
    assert second["status"] in ("succeeded", "rejected"), second["error"]
    beats = next(c for c in second["checks"] if c["name"] == "beats_production")
    assert beats["details"]["scores"]["trusted"]["rows"] > 0, beats["message"]


def test_production_pointing_at_a_version_that_does_not_exist(tmp_path):
    import json

    project = _project(tmp_path / "dangling")
    project.run(write_csv(tmp_path / "b1.csv", table(200, seed=1)))
    key = "registry/m/aliases/production.json"
    doc = json.loads(project.storage.read(key))
    doc["version"] = 99
    project.storage.write(key, json.dumps(doc).encode())
    second = project.run(write_csv(tmp_path / "b2.csv", table(200, seed=2)))
    assert second["status"] in ("rejected", "failed")
    said = json.dumps(second["checks"]) + json.dumps(second["error"])
    assert "version 99" in said or "v99" in said, said[:2000]
    assert json.loads(project.storage.read(key))["version"] == 99  # nothing moved it
    assert not [d for d in second["deployments"] if d["status"] == "promoted"]
