"""Prediction logging: sampled requests and predictions land in storage as CSV batches under
the configured prefix, and logging never blocks or fails a request."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hookline.adapters.serving._predlog import LogSettings, PredictionLog
from hookline.errors import ConfigError

from .conftest import RECORD, Project, make_project

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HEADER = (
    "hookline_timestamp,hookline_request_id,hookline_model_version,"
    "age,income,plan,active,signup channel,prediction"
)
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def logged(project: Project, prefix: str = "landing/predictions/") -> list[tuple[str, bytes]]:
    storage = project.storage
    return [(i.key, storage.read(i.key)) for i in storage.list(prefix)]


def wait_for(check: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return result


def test_a_full_batch_lands_as_csv_bytes(tmp_path) -> None:
    project = make_project(tmp_path / "p", extra="prediction_log = { batch_size = 4 }")
    project.promote(project.register())
    with TestClient(project.app()) as c:
        c.post("/predict", json=RECORD, headers={"x-request-id": "req-1"})
        c.post(
            "/predict",
            json=[
                RECORD,
                {**RECORD, "income": None, "signup channel": None, "active": False, "age": 70},
            ],
            headers={"x-request-id": "req-2"},
        )
        assert logged(project) == []  # 3 rows: below the batch size
        c.post(
            "/predict",
            json={"records": [{**RECORD, "plan": "team"}], "proba": True},
            headers={"x-request-id": "req-3"},
        )
        objects = wait_for(lambda: logged(project))
    assert len(objects) == 1
    key, data = objects[0]
    assert re.fullmatch(
        r"landing/predictions/churn/\d{4}-\d\d-\d\d/\d{8}T\d{12}Z-[0-9a-f]{8}"
        r"\.csv",
        key,
    ), key
    lines = data.decode().split("\n")
    assert lines[0] == HEADER
    assert re.fullmatch(STAMP + r",req-1,1,31,52\.5,pro,True,web,yes", lines[1]), lines[1]
    assert re.fullmatch(STAMP + r",req-2,1,31,52\.5,pro,True,web,yes", lines[2]), lines[2]
    assert re.fullmatch(STAMP + r",req-2,1,70,,pro,False,,(yes|no)", lines[3]), lines[3]
    assert re.fullmatch(STAMP + r",req-3,1,31,52\.5,team,True,web,yes", lines[4]), lines[4]
    assert lines[5:] == [""]


def test_the_csv_reads_back_with_pandas(tmp_path) -> None:
    import io

    import pandas as pd

    project = make_project(tmp_path / "p", extra="prediction_log = { batch_size = 2 }")
    project.promote(project.register())
    with TestClient(project.app()) as c:
        c.post("/predict", json=[RECORD, {**RECORD, "age": 44}])
        ((_, data),) = wait_for(lambda: logged(project))
    frame = pd.read_csv(io.BytesIO(data))
    assert frame["age"].tolist() == [31, 44]
    assert frame["signup channel"].tolist() == ["web", "web"]
    assert frame["prediction"].tolist() == ["yes", "yes"]
    assert (frame["hookline_model_version"] == 1).all()


def test_an_old_partial_batch_is_written_by_age(tmp_path) -> None:
    project = make_project(
        tmp_path / "p",
        extra='prediction_log = { batch_size = 1000, max_age_seconds = 0.3, prefix = "mon/in" }',
    )
    project.promote(project.register())
    with TestClient(project.app()) as c:
        c.post("/predict", json=RECORD)
        started = time.monotonic()
        objects = wait_for(lambda: logged(project, "mon/in/"), timeout=10)
        assert time.monotonic() - started < 6
    assert objects[0][0].startswith("mon/in/churn/")
    assert objects[0][1].decode().count("\n") == 2


def test_buffered_rows_are_written_at_shutdown(tmp_path) -> None:
    project = make_project(tmp_path / "p", extra="prediction_log = { batch_size = 1000 }")
    project.promote(project.register())
    with TestClient(project.app()) as c:
        for _ in range(3):
            c.post("/predict", json=RECORD)
        assert logged(project) == []
    objects = logged(project)  # the lifespan shutdown drained the buffer
    assert len(objects) == 1 and objects[0][1].decode().count("\n") == 4


def test_one_object_per_served_version(tmp_path) -> None:
    from .conftest import fitted

    project = make_project(tmp_path / "p", extra="prediction_log = { batch_size = 1000 }")
    project.promote(project.register())
    app = project.app()
    with TestClient(app) as c:
        c.post("/predict", json=RECORD)
        project.promote(project.register(fitted(flip=True)))
        app.state.holder.check_now()
        c.post("/predict", json=RECORD)
    objects = sorted(data.decode() for _, data in logged(project))
    assert len(objects) == 2
    assert {o.split("\n")[1].split(",")[2] for o in objects} == {"1", "2"}


class FailingStorage:
    uri = "mem://broken"

    def __init__(self) -> None:
        self.calls = 0

    def url(self, key: str) -> str:
        return f"{self.uri}/{key}"

    def write(self, key: str, data: bytes) -> Any:
        self.calls += 1
        raise OSError("storage is down")


def test_storage_failure_never_fails_a_request(tmp_path) -> None:
    project = make_project(tmp_path / "p", extra="prediction_log = { batch_size = 1 }")
    project.promote(project.register())
    broken = FailingStorage()
    app = project.app(log_storage=broken)
    with TestClient(app) as c:
        for _ in range(5):
            assert c.post("/predict", json=RECORD).status_code == 200
        wait_for(lambda: app.state.prediction_log.failures == 5)
    assert broken.calls == 5


def test_sampling_and_the_buffer_bound() -> None:
    draws = iter([0.05, 0.5, 0.09, 0.95])
    settings = LogSettings(0.1, "p/", 100, 60.0, 3, None)
    plog = PredictionLog(FailingStorage(), "m", settings, random_=lambda: next(draws))  # type: ignore[arg-type]
    assert [plog.sampled() for _ in range(4)] == [True, False, True, False]
    plog.record(1, ["a"], [(1,), (2,)], ["x", "y"], "r1")
    plog.record(1, ["a"], [(3,), (4,)], ["x", "y"], "r2")  # would exceed max_buffer = 3
    assert plog.dropped == 2


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ({"sample": 1}, "serving.prediction_log.sample"),
        ({"sample_rate": 1.5}, "serving.prediction_log.sample_rate"),
        ({"batch_size": 0}, "serving.prediction_log.batch_size"),
        ({"max_age_seconds": 0}, "serving.prediction_log.max_age_seconds"),
        ({"prefix": "../out"}, "serving.prediction_log.prefix"),
        ({"prefix": 3}, "serving.prediction_log.prefix"),
    ],
)
def test_config_errors_name_the_key(table: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        LogSettings.from_table(table, "hookline.toml")
    assert fragment in str(info.value)


def test_off_unless_configured() -> None:
    assert LogSettings.from_table({}) is None
    assert LogSettings.from_table({"sample_rate": 0}) is None
    s = LogSettings.from_table({"sample_rate": 0.25, "prefix": "landing/preds"})
    assert s is not None and s.prefix == "landing/preds/" and s.batch_size == 500


@pytest.mark.emulator
def test_registry_and_prediction_log_on_s3(tmp_path, s3_server: Any, s3_bucket: str) -> None:
    """The service loads from a registry in S3 (moto server) and logs to the same bucket."""
    from hookline.registry import Registry
    from hookline.storage import open_storage

    from .conftest import FEATURES, fitted

    storage = open_storage(f"s3://{s3_bucket}/ml")
    registry = Registry(storage)
    mv = registry.register_estimator(
        "churn", fitted(), {"features": FEATURES, "task": "classification"}
    )
    registry.move_alias("churn", "production", mv.version)
    project = make_project(tmp_path / "p", extra="prediction_log = { batch_size = 2 }")
    with TestClient(project.app(storage=storage)) as c:
        r = c.post("/predict", json=[RECORD, RECORD], headers={"x-request-id": "s3-req"})
        assert r.status_code == 200 and r.json()["version"] == mv.version
    client = s3_server.s3_client()
    listed = wait_for(
        lambda: client.list_objects_v2(
            Bucket=s3_bucket, Prefix="ml/landing/predictions/churn/"
        ).get("Contents")
    )
    body = client.get_object(Bucket=s3_bucket, Key=listed[0]["Key"])["Body"].read().decode()
    lines = body.split("\n")
    assert lines[0] == HEADER
    assert re.fullmatch(STAMP + r",s3-req,1,31,52\.5,pro,True,web,yes", lines[1])
    assert len(lines) == 4 and lines[3] == ""
