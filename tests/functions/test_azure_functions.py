"""The Azure pipeline app end to end, through the real parts.

``functions/azure_functions/function_app.py`` is loaded from a bundle folder with its
``hookline.toml`` the way the Python worker loads it (by file, in a fresh module) and
indexed the way the worker indexes it (the one ``FunctionApp``'s ``get_functions()``,
each binding checked against its converter). Blobs are uploaded to Azurite; the Event Grid
``Microsoft.Storage.BlobCreated`` event is built from the blob's real properties and turned
into the trigger's argument by azure-functions' own Event Grid converter, as the worker
does; the decorated function is called with it. The function reads and writes the same
container; the tests read the run records and the registry back from it.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func
import pytest
from azure.functions.eventgrid import EventGridEventInConverter
from azure.functions.meta import Datum, get_binding_registry
from azure.functions.timer import TimerRequestConverter
from hookline.adapters.azure.pipeline import handle_event_grid
from hookline.adapters.cloud import PipelineRuntime
from hookline.errors import TransientError
from hookline.registry import Registry
from hookline.runner import Hookline
from hookline.storage import Storage, open_storage

from ._e2e import (
    AWKWARD_KEY,
    BATCH1,
    BATCH2,
    BROKEN,
    DRIFTED,
    MODEL,
    assert_history_consistent,
    assert_promoted,
    blob_created,
    make_bundle,
    only_record,
    records_for,
    run_records,
)
from ._proxy import Fault, faulty_proxy

pytestmark = pytest.mark.emulator


def load_function_app(bundle: Path, env: dict[str, str]) -> ModuleType:
    """Import function_app.py as the worker does: by file, in a fresh module, with the
    app settings in the environment."""
    patch = pytest.MonkeyPatch()
    for key in [k for k in __import__("os").environ if k.startswith("HOOKLINE_")]:
        patch.delenv(key)
    for key, value in env.items():
        patch.setenv(key, value)
    name = f"function_app_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, bundle / "function_app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
        patch.undo()
    return module


def index(module: ModuleType) -> dict[str, Any]:
    """What the worker's indexing does: exactly one FunctionRegister in the script, its
    functions' metadata valid, and each trigger's Python annotation accepted by the
    binding's converter (a mismatch is a silent "0 functions found" on Azure)."""
    from azurefunctions.extensions.base.meta import get_binding_registry as sdk_registry

    apps = [v for v in vars(module).values() if isinstance(v, func.FunctionRegister)]
    assert len(apps) == 1, "the worker requires exactly one function app per script"
    found = {}
    for fn in apps[0].get_functions():
        meta = json.loads(fn.get_function_json())
        user = fn.get_user_function()
        params = inspect.signature(user).parameters
        for binding in meta["bindings"]:
            if not binding["type"].endswith("Trigger"):
                continue  # outputs such as the HTTP function's $return
            annotation = params[binding["name"]].annotation
            assert isinstance(annotation, type), f"{binding['name']}: {annotation!r}"
            converter = get_binding_registry().get(binding["type"])
            assert converter.check_input_type_annotation(
                annotation
            ) or sdk_registry().check_supported_type(annotation), (fn.get_function_name(), binding)
        found[fn.get_function_name()] = fn
    return found


@dataclass
class AzureDeployment:
    container: str
    storage: Storage
    server: Any
    bundle: Path
    module: ModuleType
    functions: dict[str, Any]

    def upload(self, key: str, data: bytes) -> Any:
        blob = self.server.blob_service().get_blob_client(self.container, key)
        blob.upload_blob(data, overwrite=True)
        return blob

    def blob_created(self, key: str, *, schema: str = "eventgrid") -> dict[str, Any]:
        """The Event Grid event a storage account sends for ``key``."""
        blob = self.server.blob_service().get_blob_client(self.container, key)
        return blob_created(blob, self.container, key, schema=schema)

    def deliver(self, event: dict[str, Any]) -> None:
        """Event Grid -> the host -> the worker's converter -> pipeline_event_grid."""
        argument = EventGridEventInConverter.decode(
            Datum(json.dumps(event), "json"), trigger_metadata={}
        )
        self.functions["pipeline_event_grid"].get_user_function()(argument)


@pytest.fixture(scope="module")
def azure(
    azurite_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AzureDeployment]:
    container = azurite_server.new_bucket("fn")
    bundle = make_bundle(
        tmp_path_factory.mktemp("azure-bundle"),
        "azure_functions/function_app.py",
        "azure_functions/host.json",
    )
    settings = {
        "HOOKLINE_ROLE": "pipeline",
        "HOOKLINE_STORAGE": f"az://{container}",
        "HOOKLINE_SCHEDULE": "0 0 3 * * *",
        "HOOKLINE_SCHEDULED_PIPELINE": "monitor",
        "HOOKLINE_BLOB_TRIGGER_PATH": f"{container}/landing/train/{{name}}",
        # the queue the Event Grid subscription writes to, reached with the app's identity
        "HOOKLINE_QUEUE__queueServiceUri": "https://hooklinedata.queue.core.windows.net",
    }
    module = load_function_app(bundle, settings)
    functions = index(module)
    patch = pytest.MonkeyPatch()  # the app settings stay in the environment while it runs
    for key, value in settings.items():
        patch.setenv(key, value)
    patch.delenv("HOOKLINE_CONFIG", raising=False)
    try:
        yield AzureDeployment(
            container,
            open_storage(f"az://{container}"),
            azurite_server,
            bundle,
            module,
            functions,
        )
    finally:
        patch.undo()


@pytest.fixture(scope="module")
def first_run(azure: AzureDeployment) -> dict[str, Any]:
    key = "landing/train/batch1.csv"
    azure.upload(key, BATCH1)
    event = azure.blob_created(key)
    azure.deliver(event)
    return {"key": key, "event": event}


def test_indexing_finds_each_roles_functions(azure: AzureDeployment) -> None:
    assert set(azure.functions) == {
        "pipeline_queue",
        "pipeline_event_grid",
        "pipeline_timer",
        "pipeline_blob",
    }
    meta = {n: json.loads(f.get_function_json()) for n, f in azure.functions.items()}
    [queue] = meta["pipeline_queue"]["bindings"]
    assert queue["type"] == "queueTrigger" and queue["queueName"] == "hookline-events"
    assert queue["connection"] == "HOOKLINE_QUEUE"  # HOOKLINE_QUEUE__queueServiceUri
    [grid] = meta["pipeline_event_grid"]["bindings"]
    assert grid["type"] == "eventGridTrigger"
    [timer] = meta["pipeline_timer"]["bindings"]
    assert timer["type"] == "timerTrigger" and timer["schedule"] == "%HOOKLINE_SCHEDULE%"
    [blob] = meta["pipeline_blob"]["bindings"]
    assert blob["type"] == "blobTrigger" and blob["source"] == "EventGrid"
    assert blob["path"] == f"{azure.container}/landing/train/{{name}}"
    # without a schedule or a blob path, only the Event Grid function (the default)
    bare = index(load_function_app(azure.bundle, {"HOOKLINE_ROLE": "pipeline"}))
    assert list(bare) == ["pipeline_event_grid"]
    # the serving role exposes the HTTP app and none of the pipeline's functions
    serving = index(
        load_function_app(
            azure.bundle,
            {"HOOKLINE_ROLE": "serving", "HOOKLINE_CONFIG": str(azure.bundle / "hookline.toml")},
        )
    )
    assert list(serving) == ["http_app_func"]


def test_an_upload_trains_registers_and_promotes(azure: AzureDeployment, first_run: dict) -> None:
    record = only_record(azure.storage, first_run["key"])
    assert record["trigger"]["source"] == "azure"
    assert record["trigger"]["uri"] == f"az://{azure.container}/landing/train/batch1.csv"
    version = assert_promoted(azure.storage, record, BATCH1)
    assert Registry(azure.storage).alias(MODEL, "production").version == version


def test_the_same_event_delivered_twice_is_one_run(azure: AzureDeployment, first_run: dict) -> None:
    azure.deliver(first_run["event"])  # Event Grid redelivers at least once
    [record] = records_for(azure.storage, first_run["key"])
    assert record["attempt"] == 1


def test_two_uploads_at_once_give_two_versions_and_one_history(
    azure: AzureDeployment, first_run: dict
) -> None:
    keys = {"landing/train/at-once-a.csv": BATCH1, "landing/train/at-once-b.csv": BATCH2}
    events = []
    for key, data in keys.items():
        azure.upload(key, data)
        events.append(azure.blob_created(key))
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(azure.deliver, events))
    versions = {
        assert_promoted(azure.storage, only_record(azure.storage, k), d) for k, d in keys.items()
    }
    assert len(versions) == 2
    history = assert_history_consistent(azure.storage)
    assert versions <= {e["version"] for e in history}


def test_a_key_with_spaces_plus_percent_and_non_ascii_in_the_cloudevents_schema(
    azure: AzureDeployment, first_run: dict
) -> None:
    azure.upload(AWKWARD_KEY, BATCH2)
    event = azure.blob_created(AWKWARD_KEY, schema="cloudevents")
    assert AWKWARD_KEY not in event["data"]["url"]  # the URL is percent-encoded
    azure.deliver(event)
    record = only_record(azure.storage, AWKWARD_KEY)
    assert record["trigger"]["uri"] == azure.storage.url(AWKWARD_KEY)
    assert_promoted(azure.storage, record, BATCH2)


def test_a_broken_file_is_a_failed_run_and_the_function_returns(
    azure: AzureDeployment, first_run: dict
) -> None:
    before = Registry(azure.storage).alias(MODEL, "production")
    key = "landing/train/broken.csv"
    azure.upload(key, BROKEN)
    azure.deliver(azure.blob_created(key))  # returns: Event Grid counts it delivered
    record = only_record(azure.storage, key)
    assert record["status"] == "failed" and record["error"]["stage"] == "ingest"
    assert "broken.csv" in record["error"]["message"]
    assert record["deployments"] == []
    after = Registry(azure.storage).alias(MODEL, "production")
    assert (after.version, after.seq) == (before.version, before.seq)


def test_the_timer_runs_the_scheduled_monitoring_pipeline(
    azure: AzureDeployment, first_run: dict
) -> None:
    azure.upload("landing/score/drifted.csv", DRIFTED)
    timer = TimerRequestConverter.decode(
        Datum(json.dumps({"Schedule": {}, "ScheduleStatus": {}, "IsPastDue": False}), "json"),
        trigger_metadata={},
    )
    azure.functions["pipeline_timer"].get_user_function()(timer)
    [record] = [r for r in run_records(azure.storage) if r["pipeline"] == "monitor"]
    assert record["status"] == "succeeded", record.get("error")
    assert record["trigger"]["type"] == "schedule" and record["trigger"]["source"] == "azure"
    assert azure.storage.stat(f"monitoring/{MODEL}/reports/{record['run_id']}.json") is not None


def test_the_blob_trigger_binds_a_client_and_never_downloads(
    azure: AzureDeployment, first_run: dict
) -> None:
    """The optional blob trigger gets an SDK BlobClient (what the bindings extension
    passes); the function asks for the blob's properties, never its bytes."""
    from azure.storage.blob import BlobClient

    key = "landing/train/via-blob-trigger.csv"
    azure.upload(key, BATCH2)
    account = azure.server.env["AZURE_STORAGE_CONNECTION_STRING"]
    with faulty_proxy(azure.server.url) as proxy:
        conn = account.replace(azure.server.url, proxy.url)
        client = BlobClient.from_connection_string(conn, azure.container, key)
        azure.functions["pipeline_blob"].get_user_function()(client)
    assert [method for method, _ in proxy.seen] == ["HEAD"]
    record = only_record(azure.storage, key)
    assert record["trigger"]["etag"]
    assert_promoted(azure.storage, record, BATCH2)


def test_hookline_outputs_never_trigger_runs(azure: AzureDeployment, first_run: dict) -> None:
    own = next(i.key for i in azure.storage.list("registry/") if i.key.endswith(".json"))
    before = len(run_records(azure.storage))
    azure.deliver(azure.blob_created(own))
    assert len(run_records(azure.storage)) == before


def test_a_transient_storage_failure_raises_for_event_grid_to_retry(
    azure: AzureDeployment, first_run: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hookline.adapters.azure.storage import AzureBlobStorage

    key = "landing/train/throttled.csv"
    azure.upload(key, BATCH1)
    event = azure.blob_created(key)
    account = azure.server.env["AZURE_STORAGE_CONNECTION_STRING"]
    with faulty_proxy(azure.server.url) as proxy:
        monkeypatch.setenv(
            "AZURE_STORAGE_CONNECTION_STRING", account.replace(azure.server.url, proxy.url)
        )
        storage = AzureBlobStorage(f"az://{azure.container}", retries=0)
        app = Hookline.from_config(str(azure.bundle / "hookline.toml"), storage=storage)
        runtime = PipelineRuntime(app=app)
        proxy.fail(key, Fault(503, b"", {"x-ms-error-code": "ServerBusy"}))
        with pytest.raises(TransientError):
            handle_event_grid(runtime, event)
        assert proxy.failed and records_for(azure.storage, key) == []
        proxy.heal()
        summary = handle_event_grid(runtime, event)  # Event Grid's retry
    assert summary["counts"] == {"succeeded": 1}
    record = only_record(azure.storage, key)
    assert record["attempt"] == 2
    assert_promoted(azure.storage, record, BATCH1)


def test_the_runtime_was_built_once_and_reused(azure: AzureDeployment, first_run: dict) -> None:
    runtime = azure.module.runtime
    assert runtime.builds == 1  # every invocation above ran on the one warm runtime
    assert runtime.get().config.source == str(azure.bundle / "hookline.toml")


def test_event_grid_urls_name_the_container_and_key(
    azure: AzureDeployment, first_run: dict
) -> None:
    url = first_run["event"]["data"]["url"]
    assert urlsplit(url).path.startswith(f"/devstoreaccount1/{azure.container}/")
