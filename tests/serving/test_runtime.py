"""``[serving] runtime``: the ONNX model answers every route without the training stack,
exactly as the skops model does; and what happens when it cannot."""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"
PROBE = Path(__file__).with_name("_probe.py")
V2_TYPES = {"number": "FP64", "integer": "INT64", "string": "BYTES", "boolean": "BOOL"}


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart trained by the built-in pipeline: version 1 in production, with its
    ONNX model (the random forest converts and passes parity)."""
    from hookline.cli._app import event_for
    from hookline.project import Project
    from hookline.runner import Hookline

    root = tmp_path_factory.mktemp("lean") / "q"
    shutil.copytree(QUICKSTART, root, ignore=shutil.ignore_patterns(".hookline"))
    project = Project.open(root / "hookline.toml", storage=str(root / ".hookline"))
    info = project.storage.write("landing/train/batch1.csv", (root / "batch1.csv").read_bytes())
    (run,) = Hookline(project).handle(event_for(project.storage, info))
    assert run.status == "succeeded"
    manifest = json.loads(
        (root / ".hookline/registry/penguins/versions/000001/manifest.json").read_text()
    )
    assert manifest["onnx"]["status"] == "ok", manifest["onnx"]
    return root


def copy_project(src: Path, dest: Path, runtime: str | None, extra: str = "") -> Path:
    shutil.copytree(src, dest)
    config = dest / "hookline.toml"
    text = config.read_text().replace('storage = ".hookline"', f'storage = "{dest / ".hookline"}"')
    if runtime is not None:
        text += f'\n[serving]\nruntime = "{runtime}"\n'
    config.write_text(text + extra)
    return config


def records(root: Path, features: dict[str, str], n: int = 12) -> list[dict[str, Any]]:
    out = []
    for row in list(csv.DictReader(io.StringIO((root / "batch2.csv").read_text())))[:n]:
        out.append(
            {
                name: None if row[name] == "" else float(row[name]) if t == "number" else row[name]
                for name, t in features.items()
            }
        )
    return out


def requests_for(rows: list[dict[str, Any]], features: dict[str, str]) -> list[Any]:
    names = list(features)
    complete = [r for r in rows if all(r[n] is not None for n in names)]
    v2 = {
        "id": "r1",
        "inputs": [
            {
                "name": n,
                "shape": [len(complete)],
                "datatype": V2_TYPES[features[n]],
                "data": [r[n] for r in complete],
            }
            for n in names
        ],
    }
    return [
        ["POST", "/predict?proba=true", rows],
        [
            "POST",
            "/invocations",
            {"dataframe_split": {"columns": names, "data": [[r[n] for n in names] for r in rows]}},
        ],
        ["POST", "/invocations", {"dataframe_records": rows}],
        ["POST", "/v2/models/penguins/infer", v2],
        ["GET", "/model", None],
        ["GET", "/health", None],
    ]


def probe(config: Path, requests: list[Any], tmp: Path) -> dict[str, Any]:
    path = tmp / "requests.json"
    path.write_text(json.dumps(requests))
    done = subprocess.run(
        [sys.executable, str(PROBE), str(config), str(path)],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def same(a: Any, b: Any, where: str = "") -> None:
    """Equal, except floats within 1e-4."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), where
        assert math.isclose(a, b, abs_tol=1e-4), (where, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), (where, a, b)
        for k in a:
            same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (where, a, b)
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{k}]")
    else:
        assert a == b, (where, a, b)


def test_the_onnx_runtime_never_imports_the_training_stack(
    quickstart: Path, tmp_path: Path
) -> None:
    from hookline.registry import Registry
    from hookline.storage import LocalStorage

    manifest = Registry(LocalStorage(quickstart / ".hookline")).get("penguins", 1).manifest
    features = {n: spec["dtype"] for n, spec in manifest["features"].items()}
    rows = records(quickstart, features, 40)
    nullable = [n for n, spec in manifest["features"].items() if spec.get("nullable")]
    assert nullable
    rows.append({**rows[0], **{n: None for n in nullable}})  # gaps are part of the test
    requests = requests_for(rows, features)
    logged = "\n[serving.prediction_log]\nsample_rate = 1.0\nbatch_size = 1\n"
    onnx = probe(copy_project(quickstart, tmp_path / "onnx", "onnx", logged), requests, tmp_path)
    auto = probe(copy_project(quickstart, tmp_path / "auto", None), requests, tmp_path)
    sklearn = probe(copy_project(quickstart, tmp_path / "sk", "sklearn"), requests, tmp_path)

    assert onnx["heavy"] == [] and auto["heavy"] == []
    assert "sklearn" in sklearn["heavy"]  # the probe does see them when they are there
    for run in (onnx, auto):
        for (status, body), (sk_status, sk_body), (_, path, _b) in zip(
            run["answers"][:4], sklearn["answers"][:4], requests[:4], strict=True
        ):
            assert status == sk_status == 200, (path, body)
            same(body, sk_body, path)
        model, health = run["answers"][4][1], run["answers"][5][1]
        assert model["runtime"] == "onnx" and model["runtime_reason"] is None
        assert health["runtime"] == "onnx" and health["ready"] is True
    assert sklearn["answers"][4][1]["runtime"] == "sklearn"
    predictions = onnx["answers"][0][1]
    assert predictions["predictions"] == sklearn["answers"][0][1]["predictions"]
    logs = list((tmp_path / "onnx/.hookline/landing/predictions").rglob("*.csv"))
    assert logs, "the prediction log was written on the ONNX path too"


def test_signing_on_verifies_the_onnx_version(quickstart: Path, tmp_path: Path) -> None:
    """With a signing key, an unsigned version is not served by the ONNX runtime either."""
    from hookline.adapters.serving import create_app

    config = copy_project(quickstart, tmp_path / "p", "onnx")
    app = create_app(str(config), environ={"HOOKLINE_SIGNING_KEY": "k" * 32})
    with TestClient(app) as c:
        health = c.get("/health")
        assert health.status_code == 503 and "sign" in health.json()["detail"]


# -- in process: what is chosen, and what is refused ------------------------------------------


def app_for(config: Path) -> Any:
    from hookline.adapters.serving import create_app

    return create_app(str(config), environ={})


def version_dir(config: Path, version: int = 1) -> Path:
    return config.parent / f".hookline/registry/penguins/versions/{version:06d}"


def register_variant(config: Path, onnx: dict[str, Any] | None, *, drop_onnx: bool = False) -> int:
    """Register a copy of version 1 with another ``onnx`` entry, and promote it."""
    from hookline.registry import Registry
    from hookline.storage import LocalStorage

    registry = Registry(LocalStorage(config.parent / ".hookline"))
    mv = registry.get("penguins", 1)
    artifacts = {
        name: registry.read_artifact("penguins", 1, name)
        for name in mv.artifacts
        if not (drop_onnx and name == "model.onnx")
    }
    manifest = {k: v for k, v in mv.manifest.items() if k not in ("artifacts", "version", "run_id")}
    manifest["onnx"] = onnx
    new = registry.register("penguins", artifacts, manifest)
    registry.move_alias("penguins", "production", new.version)
    return new.version


def test_misspelled_runtime_is_refused_at_config_load(tmp_path: Path) -> None:
    from hookline.config import load_config
    from hookline.errors import ConfigError

    path = tmp_path / "hookline.toml"
    path.write_text(
        '[project]\nname = "x"\nstorage = "s"\n[pipelines.t]\nmodel = "m"\n'
        'stages = ["ingest"]\n[serving]\nruntime = "onxx"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    assert "serving.runtime" in text
    assert all(v in text for v in ("'auto'", "'onnx'", "'sklearn'")), text


def test_settings_refuse_an_unknown_runtime() -> None:
    """The settings check the value too (a configuration built without the file loader)."""
    from types import SimpleNamespace

    from hookline.adapters.serving._settings import ServingSettings
    from hookline.errors import ConfigError

    def config(runtime: str) -> Any:
        section = {"model": "m", "runtime": runtime}
        return SimpleNamespace(section=lambda name: section, source="t.toml", pipelines={})

    assert ServingSettings.from_config(config("sklearn")).runtime == "sklearn"
    with pytest.raises(ConfigError, match="serving.runtime"):
        ServingSettings.from_config(config("ONNX"))


def test_auto_falls_back_to_skops_with_the_reason(quickstart: Path, tmp_path: Path, caplog) -> None:
    config = copy_project(quickstart, tmp_path / "p", None)
    reason = "skl2onnx has no converter for MyTransformer"
    version = register_variant(config, {"status": "failed", "reason": reason}, drop_onnx=True)
    with caplog.at_level(logging.INFO, logger="hookline.serving"), TestClient(app_for(config)) as c:
        model = c.get("/model").json()
        health = c.get("/health").json()
        assert (
            c.post(
                "/predict",
                json=records(quickstart, {f["name"]: f["dtype"] for f in model["features"]}, 2),
            ).status_code
            == 200
        )
    assert model["version"] == version and model["runtime"] == "sklearn"
    assert reason in model["runtime_reason"] and reason in health["runtime_reason"]
    assert health["runtime_setting"] == "auto"
    assert any(
        reason in r.getMessage() and "scikit-learn" in r.getMessage() for r in caplog.records
    )


def test_onnx_forced_on_a_version_whose_conversion_failed_is_not_ready(
    quickstart: Path, tmp_path: Path
) -> None:
    config = copy_project(quickstart, tmp_path / "p", "onnx")
    version = register_variant(
        config, {"status": "failed", "reason": "parity: labels differ"}, drop_onnx=True
    )
    with TestClient(app_for(config)) as c:
        health = c.get("/health")
        assert health.status_code == 503
        detail = health.json()["detail"]
        assert f"version {version}" in detail and "parity: labels differ" in detail
        assert 'runtime = "onnx"' in detail and 'runtime = "auto"' in detail  # how to fix it
        r = c.post("/predict", json={})
        assert r.status_code == 503 and 'runtime = "auto"' in r.json()["hint"]


def test_a_tampered_onnx_model_is_never_served(quickstart: Path, tmp_path: Path) -> None:
    for runtime in ("auto", "onnx"):
        config = copy_project(quickstart, tmp_path / runtime, runtime)
        artifact = version_dir(config) / "model.onnx"
        artifact.write_bytes(artifact.read_bytes() + b"\0")
        with TestClient(app_for(config)) as c:
            health = c.get("/health")
            assert health.status_code == 503 and "checksum mismatch" in health.json()["detail"]
            assert c.post("/predict", json={}).status_code == 503
            assert c.get("/model").status_code == 503


def test_onnx_inputs_that_do_not_match_the_manifest_are_refused(
    quickstart: Path, tmp_path: Path
) -> None:
    from hookline.registry import Registry
    from hookline.storage import LocalStorage

    config = copy_project(quickstart, tmp_path / "p", "onnx")
    onnx = dict(
        Registry(LocalStorage(config.parent / ".hookline")).get("penguins", 1).manifest["onnx"]
    )
    renamed = [dict(i) for i in onnx["inputs"]]
    renamed[0]["features"] = ["wingspan"]  # a column the feature schema does not have
    version = register_variant(config, {**onnx, "inputs": renamed})
    wrong_name = [dict(i) for i in onnx["inputs"]]
    wrong_name[0]["name"] = "not_an_input"  # an input the graph does not have
    with TestClient(app_for(config)) as c:
        health = c.get("/health")
        assert health.status_code == 503
        detail = health.json()["detail"]
        assert f"version {version}" in detail and "do not match" in detail and "wingspan" in detail
    version = register_variant(config, {**onnx, "inputs": wrong_name})
    with TestClient(app_for(config)) as c:
        health = c.get("/health")
        assert health.status_code == 503 and "not_an_input" in health.json()["detail"]


def test_the_documented_runtime_command_against_hookline_serve(
    quickstart: Path, tmp_path: Path
) -> None:
    """docs/serving.md, "Serving the ONNX model": its command, run by bash against a live
    ``hookline serve`` of the quickstart, prints the runtime that serves."""
    from tests.serving._server import free_port, server
    from tests.serving.test_docs import blocks, section

    (command,) = blocks("bash", section("### Serving the ONNX model"))
    config = copy_project(quickstart, tmp_path / "p", None)
    port = free_port()
    argv = [str(Path(sys.executable).parent / "hookline"), "serve", "--config", str(config)]
    with server([*argv, "--port", str(port)], port, {"HOOKLINE_API_KEYS": ""}) as base:
        out = subprocess.run(
            ["bash", "-c", command.replace("http://localhost:8000", base)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    assert out.split() == ["onnx", "None"]


def test_auto_without_onnxruntime_serves_skops(
    quickstart: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``auto`` in an environment without onnxruntime serves the skops model, saying why;
    ``onnx`` there is not ready."""
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    config = copy_project(quickstart, tmp_path / "auto", None)
    with TestClient(app_for(config)) as c:
        model = c.get("/model").json()
    assert model["runtime"] == "sklearn" and "onnxruntime" in model["runtime_reason"]
    config = copy_project(quickstart, tmp_path / "onnx", "onnx")
    with TestClient(app_for(config)) as c:
        assert c.get("/health").status_code == 503
