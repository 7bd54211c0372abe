"""hookline.onnx: a registered ONNX model predicts like its scikit-learn pipeline, in a
process that never imports scikit-learn, scipy or pandas."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")

from hookline.config import check_table  # noqa: E402
from hookline.onnx import load  # noqa: E402
from hookline.plugins import train  # noqa: E402
from hookline.plugins._onnx import export  # noqa: E402
from hookline.registry import Registry  # noqa: E402
from hookline.storage import LocalStorage  # noqa: E402
from hookline.types import Dataset  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """One OpenMP thread: oversubscribed gradient boosting is orders of magnitude slower."""
    import sklearn.ensemble  # noqa: F401  (loads OpenMP first, or the limit cannot reach it)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


ROWS = [
    [39.1, 18.7, 181.0, "Torgersen", "male", True],
    [None, None, None, "Biscoe", None, None],  # every number and text missing
    [50.0, float("nan"), 220.0, "Atlantis", "unknown", False],  # unseen categories
    [46.5, 15.0, 215.0, None, "female", True],
]
COLUMNS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island", "sex", "tagged"]


def penguins(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Gentoo", "Chinstrap"], n)
    offset = np.select([species == "Adelie", species == "Gentoo"], [0.0, 8.0], 4.0)
    frame = pd.DataFrame(
        {
            "bill_length_mm": (39 + offset + rng.normal(0, 2, n)).round(1),
            "bill_depth_mm": (18 - offset / 4 + rng.normal(0, 1, n)).round(1),
            "flipper_length_mm": (190 + 3 * offset + rng.normal(0, 5, n)).round(0),
            "island": rng.choice(["Torgersen", "Biscoe", "Dream"], n),
            "sex": rng.choice(["male", "female"], n),
            "tagged": rng.choice([True, False], n),
            "species": species,
        }
    )
    frame.loc[rng.choice(n, 12, replace=False), "bill_depth_mm"] = np.nan
    frame.loc[rng.choice(n, 10, replace=False), "sex"] = None
    return frame


def fitted(estimator: str = "auto"):
    from hookline.plugins._ingest_schema import kind_of

    frame = penguins()
    schema = {c: {"dtype": kind_of(frame[c])} for c in frame.columns}
    dataset = Dataset(frame=frame, schema=schema, profile={}, target="species", source=None)
    model = train.fit(dataset, check_table({"estimator": estimator}, train.CONFIG, ""))
    result = export(model.estimator, model.features, model.task, model.holdout)
    assert result.ok, result.reason
    return model, result


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """A registry with version 1 of ``penguins``: skops, model.onnx and its manifest."""
    model, result = fitted()
    root = tmp_path_factory.mktemp("store")
    from hookline import modelio

    Registry(LocalStorage(root)).register(
        "penguins",
        {"model.skops": modelio.dumps(model.estimator), "model.onnx": result.data},
        {"features": dict(model.features), "task": model.task, "onnx": result.manifest()},
    )
    return root, model


def test_a_fresh_process_predicts_without_the_training_stack(registered):
    root, model = registered
    code = textwrap.dedent(
        f"""
        import json, sys
        from hookline.onnx import load_version
        from hookline.registry import Registry
        from hookline.storage import LocalStorage

        onnx_model, mv = load_version(Registry(LocalStorage({str(root)!r})), "penguins", 1)
        rows = json.loads(sys.stdin.read())
        labels, proba = onnx_model.predict_both(rows)
        columns = dict(zip(onnx_model.features, zip(*rows)))
        print(json.dumps({{
            "labels": labels.tolist(),
            "proba": proba.tolist(),
            "by_column": onnx_model.predict(columns).tolist(),
            "classes": onnx_model.classes_.tolist(),
            "features": list(onnx_model.features),
            "loaded": sorted(
                m for m in ("sklearn", "scipy", "pandas", "skops", "skl2onnx", "onnx")
                if m in sys.modules
            ),
        }}))
        """
    )
    order = list(model.features)
    rows = [[dict(zip(COLUMNS, r))[c] for c in order] for r in ROWS]
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(rows),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["loaded"] == []
    assert result["features"] == order
    frame = pd.DataFrame(rows, columns=order)
    assert result["labels"] == model.estimator.predict(frame).tolist()
    assert result["by_column"] == result["labels"]
    assert result["classes"] == model.estimator.classes_.tolist()
    gap = np.abs(np.asarray(result["proba"]) - model.estimator.predict_proba(frame))
    assert gap.max() <= 1e-4


@pytest.mark.parametrize(
    "estimator",
    ["sklearn.ensemble.RandomForestClassifier", "sklearn.linear_model.LogisticRegression"],
)
def test_rows_columns_and_frames_give_the_same_answer(estimator):
    model, result = fitted(estimator)
    onnx_model = load(result.data, result.manifest())
    order = list(model.features)
    rows = [[dict(zip(COLUMNS, r))[c] for c in order] for r in ROWS]
    frame = pd.DataFrame(rows, columns=order)
    expected = model.estimator.predict(frame).tolist()
    assert onnx_model.predict(rows).tolist() == expected
    assert onnx_model.predict(frame).tolist() == expected
    assert onnx_model.predict({c: frame[c].tolist() for c in order}).tolist() == expected
    assert (
        np.abs(onnx_model.predict_proba(rows) - model.estimator.predict_proba(frame)).max() < 1e-4
    )


def test_integer_and_boolean_classes_come_back_as_such():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(0, 1, 200), "b": rng.normal(0, 1, 200)})
    for y in ((X.a > 0).to_numpy(), np.where(X.a + X.b > 0, 7, 3)):
        frame = X.assign(t=y)
        from hookline.plugins._ingest_schema import kind_of

        schema = {c: {"dtype": kind_of(frame[c])} for c in frame.columns}
        dataset = Dataset(frame=frame, schema=schema, profile={}, target="t", source=None)
        model = train.fit(dataset, check_table({"task": "classification"}, train.CONFIG, ""))
        result = export(model.estimator, model.features, model.task, model.holdout)
        assert result.ok, result.reason
        labels = load(result.data, result.manifest()).predict(model.holdout[0])
        expected = model.estimator.predict(model.holdout[0])
        assert labels.dtype == expected.dtype and (labels == expected).all()


def test_bad_rows_are_named():
    model, result = fitted("sklearn.linear_model.LogisticRegression")
    onnx_model = load(result.data, result.manifest())
    with pytest.raises(ValueError, match="row 0 has 2 values; the model takes 6"):
        onnx_model.predict([[1.0, 2.0]])
    with pytest.raises(ValueError, match="missing feature column"):
        onnx_model.predict({"island": ["Dream"]})


def test_the_serving_docs_sample_runs_on_the_quickstart_model(tmp_path, monkeypatch):
    """docs/serving.md, "ONNX": its Python sample against the quickstart's model."""
    from pathlib import Path

    from hookline import modelio
    from hookline.plugins._ingest_schema import kind_of

    root = Path(__file__).resolve().parents[2]
    quickstart = root / "examples" / "quickstart"
    frame = pd.concat([pd.read_csv(quickstart / f"batch{i}.csv") for i in (1, 2)])
    schema = {c: {"dtype": kind_of(frame[c])} for c in frame.columns}
    dataset = Dataset(frame=frame, schema=schema, profile={}, target="species", source=None)
    cfg = {"estimator": "sklearn.ensemble.RandomForestClassifier", "exclude": ["year"]}
    model = train.fit(dataset, check_table(cfg, train.CONFIG, ""))
    result = export(model.estimator, model.features, model.task, model.holdout)
    assert result.ok, result.reason
    Registry(LocalStorage(tmp_path / ".hookline")).register(
        "penguins",
        {"model.skops": modelio.dumps(model.estimator), "model.onnx": result.data},
        {"features": dict(model.features), "task": model.task, "onnx": result.manifest()},
    )
    text = (root / "docs" / "serving.md").read_text().split("\n## ONNX", 1)[1]
    (sample,) = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    monkeypatch.chdir(tmp_path)
    code = subprocess.run(
        [sys.executable, "-c", sample], capture_output=True, text=True, timeout=120
    )
    assert code.returncode == 0, code.stderr
    features, answer = code.stdout.strip().splitlines()
    assert features == str(tuple(model.features))
    rows = [
        ["Torgersen", 39.1, 18.7, 181.0, 3750.0, "male"],
        ["Atlantis", None, 17.0, 190.0, None, None],
    ]
    expected = model.estimator.predict(pd.DataFrame(rows, columns=list(model.features)))
    assert answer.startswith(str(expected.tolist()))
