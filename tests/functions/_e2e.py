"""What the per-cloud end-to-end tests share: the project they deploy, the quickstart data,
and assertions on what lands in the bucket (run records, model versions, alias history),
read back through hookline's own storage back-ends from the emulator."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from hookline.registry import Registry
from hookline.runs import RunStore
from hookline.storage import Storage

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"
FUNCTIONS = REPO / "functions"

BATCH1 = (QUICKSTART / "batch1.csv").read_bytes()
BATCH2 = (QUICKSTART / "batch2.csv").read_bytes()
BROKEN = (QUICKSTART / "broken.csv").read_bytes()
DRIFTED = (QUICKSTART / "drifted.csv").read_bytes()

MODEL = "penguins"
AWKWARD_KEY = "landing/train/penguins 2024+q1 100% été/ünï batch.csv"
"""Spaces, a plus, a percent sign and non-ASCII characters: where key decoding goes wrong."""

# The quickstart, with a small forest so a run takes a fraction of a second, a monitoring
# pipeline that also runs on a schedule, and gates that let every good batch through (so
# concurrent uploads each register a version).
CONFIG = """\
[project]
name = "functions-e2e"
storage = ".hookline"            # HOOKLINE_STORAGE points the function at the emulator

[pipelines.train]
model = "penguins"
stages = ["ingest", "train", "validate", "deploy"]
trigger = { prefix = "landing/train/", suffix = ".csv" }
# these tests upload the same batches under many keys: each upload must train
skip_unchanged = false

[pipelines.monitor]
model = "penguins"
stages = ["ingest", "monitor"]
trigger = { prefix = "landing/score/", suffix = ".csv" }
schedule = "rate(1 day)"

[plugins.pandas]
target = "species"

[plugins.sklearn]
estimator = "sklearn.ensemble.RandomForestClassifier"
params = { n_estimators = 8, min_samples_leaf = 2 }
exclude = ["year"]

[plugins.gates]
min_rows = 50
min_metrics = { accuracy = 0.7 }
must_beat_production = false

[plugins.drift]
retrain_on_drift = false
"""


def make_bundle(tmp: Path, entry: str, *extra: str) -> Path:
    """A deployment bundle's root: the entry file(s) from functions/ and ``hookline.toml``
    next to them, as ``hookline package`` lays it out."""
    tmp.mkdir(parents=True, exist_ok=True)
    for rel in (entry, *extra):
        shutil.copy(FUNCTIONS / rel, tmp / Path(rel).name)
    (tmp / "hookline.toml").write_text(CONFIG)
    return tmp


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_records(storage: Storage) -> list[dict[str, Any]]:
    """Every run record in the bucket."""
    return [
        json.loads(storage.read(info.key))
        for info in storage.list("runs/")
        if info.key.endswith("/record.json")
    ]


def records_for(storage: Storage, key: str) -> list[dict[str, Any]]:
    """The run records of runs triggered by the object ``key``."""
    return [r for r in run_records(storage) if r["trigger"].get("key") == key]


def only_record(storage: Storage, key: str) -> dict[str, Any]:
    found = records_for(storage, key)
    assert len(found) == 1, f"expected one run for {key!r}, found {len(found)}"
    return found[0]


def assert_promoted(storage: Storage, record: dict[str, Any], data: bytes) -> int:
    """The run succeeded on exactly ``data``, registered a complete version and moved
    ``production`` to it in the alias history. Returns the version."""
    assert record["status"] == "succeeded", record.get("error")
    assert record["trigger"]["sha256"] == sha256(data)  # traced to the uploaded bytes
    assert record["trigger"]["size"] == len(data)
    [deployment] = record["deployments"]
    version = int(deployment["version"])
    registry = Registry(storage)
    manifest = registry.get(MODEL, version).manifest
    assert manifest  # complete: the manifest is written last
    prefix = f"registry/{MODEL}/versions/{version:06d}/"
    assert storage.stat(prefix + "model.skops") is not None
    moves = [e for e in registry.alias(MODEL, "production").history if e["version"] == version]
    assert [m["run_id"] for m in moves] == [record["run_id"]]
    # the run's index entry, as `hookline runs` reads it
    assert any(s["run_id"] == record["run_id"] for s in RunStore(storage).summaries())
    return version


def assert_history_consistent(storage: Storage) -> list[dict[str, Any]]:
    """``production``'s history is one chain: seq 1..n, each move starting where the
    previous one left the alias, and the alias where the last move put it."""
    state = Registry(storage).alias(MODEL, "production")
    assert state is not None
    history = list(state.history)
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
    for before, after in zip(history, history[1:], strict=False):
        assert after["previous"] == before["version"], history
    assert state.version == history[-1]["version"]
    return history


def versions_by_run(storage: Storage) -> dict[str, int]:
    return {
        r["run_id"]: int(d["version"])
        for r in run_records(storage)
        for d in r.get("deployments", [])
        if d.get("version") is not None
    }


AZURE_TOPIC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hookline/providers/"
    "Microsoft.Storage/storageAccounts/devstoreaccount1"
)


def blob_created(
    blob: Any, container: str, key: str, *, schema: str = "eventgrid", quoted: bool = False
) -> dict[str, Any]:
    """The ``Microsoft.Storage.BlobCreated`` event a storage account's Event Grid topic sends
    for the blob ``blob`` (an SDK ``BlobClient``), from its real properties (Azurite emits
    no events itself), in the Event Grid or the CloudEvents schema; ``quoted`` keeps the
    ETag's quotes as the SDK reports it (Event Grid sends it bare)."""
    props = blob.get_blob_properties()
    data = {
        "api": "PutBlob",
        "clientRequestId": str(uuid.uuid4()),
        "requestId": str(uuid.uuid4()),
        "eTag": props.etag if quoted else props.etag.strip('"'),
        "contentType": props.content_settings.content_type or "application/octet-stream",
        "contentLength": props.size,
        "blobType": "BlockBlob",
        "url": blob.url,
        "sequencer": uuid.uuid4().hex.upper(),
        "storageDiagnostics": {"batchId": str(uuid.uuid4())},
    }
    common = {
        "subject": f"/blobServices/default/containers/{container}/blobs/{key}",
        "id": str(uuid.uuid4()),
        "data": data,
    }
    when = props.last_modified.isoformat().replace("+00:00", "Z")
    if schema == "cloudevents":
        return {
            "source": AZURE_TOPIC,
            "type": "Microsoft.Storage.BlobCreated",
            "time": when,
            "specversion": "1.0",
            **common,
        }
    return {
        "topic": AZURE_TOPIC,
        "eventType": "Microsoft.Storage.BlobCreated",
        "eventTime": when,
        **common,
        "dataVersion": "",
        "metadataVersion": "1",
    }
