"""Cold start of each function entry point: process start to the first event handled.

For each target, in a fresh interpreter per measurement, interleaved:

* **hookline**: the deployed entry file handling one new upload of the quickstart's
  scoring pipeline (ingest + monitor: score 100 rows with the production model, drift
  report, run record). AWS: ``functions/aws_lambda/pipeline.py`` ``handler`` with an S3
  notification; GCP: ``functions/gcp_functions/main.py`` ``pipeline`` with a storage
  CloudEvent; Azure: ``function_app.py``'s ``pipeline_event_grid`` with an Event Grid
  ``BlobCreated`` event; local: ``Hookline.handle`` on a local folder. Cloud storage is
  the emulator of that cloud (moto, fake-gcs-server, Azurite), started once, outside the
  timings.
* **floor**: importing, alone, exactly the third-party modules that the hookline process
  ended up importing (taken from its ``sys.modules``, in import order).
* **by hand**: a minimal handler written without hookline: read the object with the
  cloud's SDK, parse it with pandas, load the production model with skops, predict, write
  the predictions. Same libraries, a fraction of the work (no checks, no drift, no run
  record, no claim).

Goal (issue 9): hookline adds under 10 % to the floor. Also the core alone: ``import
hookline`` plus building the plugin manager, against a bare interpreter (goal: < 50 ms).

    python -m bench.coldstart [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._harness import ms, table, time_process
from bench._project import REPO, SCORE_PREFIX, BenchProject, emulators, score_csv

TARGETS = ("local", "aws", "gcp", "azure")
ROWS = 100

_EPILOGUE = """
if os.environ.get("BENCH_MODULES"):
    import sysconfig
    _site = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    _names = [n for n, m in list(sys.modules.items())
              if any((getattr(m, "__file__", None) or "").startswith(p) for p in _site)
              and n.split(".")[0] not in ("pluggy", "hookline")]
    json.dump(_names, open(os.environ["BENCH_MODULES"], "w"))
"""

ENTRY = {
    "local": """
import json, os, sys
from hookline.events import event_from_dict
from hookline.runner import Hookline
app = Hookline.from_config(os.environ["HOOKLINE_CONFIG"])
app.handle(event_from_dict(json.load(open(os.environ["BENCH_EVENT"]))))
""",
    "aws": """
import json, os, sys
sys.path.insert(0, os.path.join(os.environ["BENCH_REPO"], "functions", "aws_lambda"))
from pipeline import handler
class Context:
    aws_request_id = "bench-cold-start"
    function_name = "hookline-pipeline"
    def get_remaining_time_in_millis(self): return 900000
handler(json.load(open(os.environ["BENCH_EVENT"])), Context())
""",
    "gcp": """
import json, os, sys
sys.path.insert(0, os.path.join(os.environ["BENCH_REPO"], "functions", "gcp_functions"))
from main import pipeline
from cloudevents.http import CloudEvent
doc = json.load(open(os.environ["BENCH_EVENT"]))
data = doc.pop("data")
pipeline(CloudEvent(doc, data))
""",
    "azure": """
import datetime, json, os, sys
sys.path.insert(0, os.path.join(os.environ["BENCH_REPO"], "functions", "azure_functions"))
import azure.functions as func
import function_app
doc = json.load(open(os.environ["BENCH_EVENT"]))
[fn] = [f for f in function_app.app.get_functions()
        if f.get_function_name() == "pipeline_event_grid"]
fn.get_user_function()(func.EventGridEvent(
    id=doc["id"], data=doc["data"], topic=doc.get("topic"), subject=doc["subject"],
    event_type=doc["eventType"], data_version=doc.get("dataVersion"),
    event_time=datetime.datetime.fromisoformat(doc["eventTime"].replace("Z", "+00:00"))))
""",
}

_HAND_IO = {
    "local": """
doc = json.load(open(os.environ["BENCH_EVENT"]))
base, key = os.environ["BENCH_ROOT"], doc["key"]
def get(k): return open(os.path.join(base, k), "rb").read()
def put(k, d):
    os.makedirs(os.path.dirname(os.path.join(base, k)), exist_ok=True)
    open(os.path.join(base, k), "wb").write(d)
""",
    "aws": """
import boto3
from urllib.parse import unquote_plus
doc = json.load(open(os.environ["BENCH_EVENT"]))["Records"][0]["s3"]
bucket, key = doc["bucket"]["name"], unquote_plus(doc["object"]["key"])
s3 = boto3.client("s3")
def get(k): return s3.get_object(Bucket=bucket, Key=k)["Body"].read()
def put(k, d): s3.put_object(Bucket=bucket, Key=k, Body=d)
""",
    "gcp": """
from google.cloud import storage
doc = json.load(open(os.environ["BENCH_EVENT"]))["data"]
if os.environ.get("STORAGE_EMULATOR_HOST"):
    from google.auth.credentials import AnonymousCredentials
    client = storage.Client(project="bench", credentials=AnonymousCredentials())
else:
    client = storage.Client()
gcs, key = client.bucket(doc["bucket"]), doc["name"]
def get(k): return gcs.blob(k).download_as_bytes()
def put(k, d): gcs.blob(k).upload_from_string(d)
""",
    "azure": """
from urllib.parse import unquote, urlsplit
from azure.storage.blob import BlobServiceClient
url = json.load(open(os.environ["BENCH_EVENT"]))["data"]["url"]
container, _, key = unquote(urlsplit(url).path).lstrip("/").partition("/")
cc = BlobServiceClient.from_connection_string(
    os.environ["AZURE_STORAGE_CONNECTION_STRING"]).get_container_client(container)
def get(k): return cc.download_blob(k).readall()
def put(k, d): cc.upload_blob(k, d, overwrite=True)
""",
}

HAND = """
import io, json, os, sys
import pandas as pd
import skops.io as sio
{io}
prefix = os.environ["BENCH_PREFIX"]
frame = pd.read_csv(io.BytesIO(get(key)))
alias = json.loads(get(prefix + "registry/penguins/aliases/production.json"))
blob = get(prefix + "registry/penguins/versions/%06d/model.skops" % alias["version"])
model = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
predictions = model.predict(frame.drop(columns=["species", "year"]))
put(prefix + "by-hand/" + key.rsplit("/", 1)[-1] + ".predictions.csv",
    pd.DataFrame({{"prediction": predictions}}).to_csv(index=False).encode())
"""


def payload(project: BenchProject, event: Any) -> dict[str, Any]:
    """What the cloud delivers for the upload behind ``event`` (a StorageEvent)."""
    if project.cloud == "local":
        return dict(event.to_dict())
    if project.cloud == "aws":
        from hookline.adapters.aws.events import sample_event

        return sample_event(event.uri, size=event.size, etag=event.etag)
    if project.cloud == "gcp":
        from hookline.adapters.gcp.events import sample_event

        return sample_event(event.uri, size=event.size, generation=int(event.version))
    from hookline.adapters.azure.events import sample_event

    return sample_event(event.uri, size=event.size, etag=event.etag)


def parsed(project: BenchProject, doc: dict[str, Any]) -> Any:
    """The StorageEvent the entry file makes of ``doc`` (to find its run record)."""
    from hookline.events import event_from_dict

    if project.cloud == "local":
        return event_from_dict(doc)
    module = __import__(f"hookline.adapters.{project.cloud}.events", fromlist=["parse_event"])
    [event] = module.parse_event(json.loads(json.dumps(doc)))
    return event


class Target:
    """One target's three cases, each a fresh process per measurement."""

    def __init__(self, project: BenchProject, work: Path) -> None:
        self.project = project
        self.work = work
        self.count = 0
        self.floor_modules: list[str] = []
        root = project.root
        prefix = "" if project.cloud == "local" else root.split("/", 3)[3].rstrip("/") + "/"
        self.env = {
            **os.environ,
            "HOOKLINE_CONFIG": str(project.config),
            "BENCH_REPO": str(REPO),
            "BENCH_ROOT": root,
            "BENCH_PREFIX": prefix,
            "PYTHONDONTWRITEBYTECODE": "1",
            "HOOKLINE_LOG_LEVEL": "WARNING",
        }
        self.entry = ENTRY[project.cloud] + _EPILOGUE
        self.hand = HAND.format(io=_HAND_IO[project.cloud])

    def fresh_event(self) -> tuple[str, Any]:
        """Upload a new object; return the path of its delivery payload and its event."""
        self.count += 1
        key = f"{SCORE_PREFIX}cold-{self.count:04d}.csv"
        event = self.project.upload(key, score_csv(ROWS, seed=self.count))
        doc = payload(self.project, event)
        path = self.work / f"{self.project.cloud}-{self.count}.json"
        path.write_text(json.dumps(doc))
        return str(path), parsed(self.project, doc)

    def _check(self, event: Any) -> None:
        run_id = event.run_id("score")
        try:
            record = json.loads(self.project.storage.read(f"runs/{run_id}/record.json"))
        except Exception as exc:
            raise RuntimeError(f"{self.project.cloud}: no run record for {event.uri}") from exc
        if record["status"] != "succeeded":
            raise RuntimeError(
                f"{self.project.cloud}: run {run_id} {record['status']}: "
                f"{(record.get('error') or {}).get('message')}"
            )

    def hookline(self) -> float:
        path, event = self.fresh_event()
        seconds = time_process(self.entry, env={**self.env, "BENCH_EVENT": path}, cwd=REPO)
        self._check(event)
        return seconds

    def by_hand(self) -> float:
        path, _ = self.fresh_event()
        return time_process(self.hand, env={**self.env, "BENCH_EVENT": path}, cwd=REPO)

    def floor(self) -> float:
        code = (
            "import importlib, json, os\nfor name in json.load(open(os.environ["
            "'BENCH_NAMES'])):\n    try:\n        importlib.import_module(name)\n"
            "    except Exception:\n        pass\n"
        )
        names = self.work / f"{self.project.cloud}-floor.json"
        return time_process(code, env={**self.env, "BENCH_NAMES": str(names)}, cwd=REPO)

    def probe(self) -> None:
        """One untimed run that records the modules the entry file imports (the floor)."""
        path, event = self.fresh_event()
        modules = self.work / f"{self.project.cloud}-floor.json"
        time_process(
            self.entry,
            env={**self.env, "BENCH_EVENT": path, "BENCH_MODULES": str(modules)},
            cwd=REPO,
        )
        self._check(event)
        self.floor_modules = json.loads(modules.read_text())


def measure(cases: dict[str, Callable[[], float]], repeat: int) -> dict[str, list[float]]:
    """Each case ``repeat`` times, round-robin, in a rotating order."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for rep in range(repeat):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            times[name].append(cases[name]())
    return times


def _libraries(modules: list[str]) -> str:
    tops = sorted({m.split(".")[0] for m in modules if not m.startswith("_")})
    return ", ".join(tops)


def core_alone(repeat: int) -> str:
    from bench.core_import import BARE, HOOKLINE

    pinned = "pandas,sklearn,gates,registry,drift,reports"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    times = measure(
        {
            "bare": lambda: time_process(BARE, env=env),
            "core": lambda: time_process(HOOKLINE.format(pinned=pinned), env=env),
        },
        repeat,
    )
    bare, core = (statistics.median(times[k]) for k in ("bare", "core"))
    return (
        "#### The core alone\n\n"
        + table(
            [
                ("bare interpreter (`python -c pass`)", ms(bare)),
                (f"`import hookline` + plugin manager (pinned: {pinned})", ms(core)),
            ],
            ["case", "median"],
        )
        + f"\n\nthe core adds **{ms(core - bare)}** to a bare interpreter (goal: under 50 ms).\n"
    )


def run(quick: bool = False) -> str:
    repeat = 2 if quick else 10
    rows: list[tuple[str, ...]] = []
    details: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="hookline-coldstart-") as tmp,
        emulators("aws", "gcp", "azure"),
    ):
        work = Path(tmp)
        for cloud in TARGETS:
            project = BenchProject(cloud, work / cloud)
            project.train()
            target = Target(project, work)
            target.probe()
            times = measure(
                {"floor": target.floor, "by hand": target.by_hand, "hookline": target.hookline},
                repeat,
            )
            floor, hand, ours = (
                statistics.median(times[k]) for k in ("floor", "by hand", "hookline")
            )
            rows.append(
                (
                    cloud,
                    ms(floor),
                    ms(hand),
                    ms(ours),
                    f"**{ours / floor:.2f}x**",
                    f"{(ours - floor) / floor:+.0%}",
                    f"{ours / hand:.2f}x",
                )
            )
            details.append(
                f"* {cloud}: the floor imports {len(target.floor_modules)} "
                f"modules of: {_libraries(target.floor_modules)}"
            )
            print(
                f"{cloud}: floor {ms(floor)}, by hand {ms(hand)}, hookline {ms(ours)}",
                file=sys.stderr,
                flush=True,
            )
        core = core_alone(repeat * 2)
    return (
        f"### Cold start of the function entry points ({repeat} fresh processes per case, "
        "interleaved)\n\n"
        "Process start to the first event handled: one new upload of "
        f"{ROWS} rows through the quickstart's scoring pipeline (ingest, monitor: predict, "
        "drift, report, run record). Cloud storage is the cloud's emulator.\n\n"
        + table(
            rows,
            [
                "target",
                "floor (imports alone)",
                "by hand",
                "hookline entry",
                "hookline / floor",
                "added to the floor",
                "hookline / by hand",
            ],
        )
        + "\n\nGoal: hookline adds under 10 % to the floor. The floor imports exactly the "
        "third-party modules the hookline process imported:\n\n"
        + "\n".join(details)
        + "\n\n"
        + core
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    print(run(args.quick))
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
