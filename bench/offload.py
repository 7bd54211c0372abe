"""Run offload on the ``local`` backend: what handing a run to a job costs, and that a run too
large for the function completes.

    .venv/bin/python -m bench.offload [--repeat 5] [--rows 200000]

1. **Too large for the function.** The pipeline's ``compute`` table sends uploads over
   ``inline_max_bytes`` to a job (``when = "auto"``): the "function limit" here. One upload
   far over it is dispatched and completes in a separate process; the figures are its size,
   the limit, and the run's outcome and time.
2. **Dispatch overhead.** The same small run, interleaved: (a) offloaded -- the dispatcher
   writes the dispatch record and the local backend starts the supervisor, which starts
   ``python -m hookline job run``; (b) the baseline -- the same command started directly by
   this process for an already written dispatch record. Measured from the start of each
   (``handle()`` / process spawn) to the job's claim on the run (the claim's own
   timestamp), and to the run's record. The difference of the medians is what dispatch
   adds before the run starts; everything after the claim is the same code.

Both use the built-in plugins (pandas, sklearn, gates, registry) on local storage. It prints
figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._harness import table

CONFIG = """\
[project]
name = "bench-offload"
storage = "{storage}"
plugins = ["pandas", "sklearn", "gates", "registry"]

[pipelines.train]
model = "churn"
stages = ["ingest", "train", "validate", "deploy"]
trigger = {{ prefix = "landing/train/", suffix = ".csv" }}

[pipelines.train.compute]
backend = "local"
when = "{when}"
inline_max_bytes = {limit}
heartbeat_seconds = 5
state_dir = "{state}"

[plugins.pandas]
target = "y"

[plugins.sklearn]
estimator = "sklearn.tree.DecisionTreeClassifier"
params = {{ max_depth = 6 }}
min_rows = 10

[plugins.gates]
min_rows = 20
must_beat_production = false
max_latency_ms_per_row = 1000.0
"""


def _csv(seed: int, rows: int) -> bytes:
    rng = random.Random(seed)
    lines = ["x1,x2,plan,y"]
    for i in range(rows):
        x1 = rng.random()
        label = int(x1 + rng.gauss(0, 0.15) > 0.5) if i > 1 else i
        lines.append(f"{x1:.4f},{rng.random():.4f},{rng.choice(['basic', 'pro', 'team'])},{label}")
    return ("\n".join(lines) + "\n").encode()


class Bench:
    def __init__(self, folder: Path, *, when: str, limit: int) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.state = folder / "jobs"
        self.config = folder / "hookline.toml"
        self.config.write_text(
            CONFIG.format(storage=folder / "store", when=when, limit=limit, state=self.state)
        )

    def app(self) -> Any:
        from hookline.project import Project
        from hookline.runner import Hookline

        return Hookline(Project.open(str(self.config)))

    def upload(self, app: Any, name: str, data: bytes) -> Any:
        from hookline.cli._app import event_for

        info = app.storage.write("landing/train/" + name, data)
        return event_for(app.storage, info)

    def doc(self, app: Any, key: str) -> dict[str, Any] | None:
        from hookline import jsonio

        try:
            return dict(jsonio.loads(app.storage.read(key)))
        except Exception:
            return None

    def wait(self, app: Any, run_id: str, timeout: float = 900) -> dict[str, Any]:
        from hookline import layout

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = self.doc(app, layout.run_record_key(run_id))
            if record and record.get("status") in ("succeeded", "rejected", "failed"):
                return record
            time.sleep(0.05)
        raise TimeoutError(f"run {run_id} did not finish; logs in {self.state}")

    def settle(self) -> None:
        """Wait until every supervisor has delivered its event (no stray processes)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = [json.loads(p.read_text()) for p in self.state.glob("*.json")]
            if all(s.get("state") in ("succeeded", "failed") for s in states):
                time.sleep(0.5)
                return
            time.sleep(0.1)


def too_large(work: Path, rows: int) -> tuple[list[list[object]], str]:
    limit = 1024 * 1024
    bench = Bench(work / "large", when="auto", limit=limit)
    app = bench.app()
    data = _csv(7, rows)
    event = bench.upload(app, "big.csv", data)
    started = time.perf_counter()
    [result] = app.handle(event)
    dispatched = time.perf_counter() - started
    record = bench.wait(app, result.run_id)
    total = time.perf_counter() - started
    bench.settle()
    rows_out = [
        ["upload", f"{len(data) / 1e6:.1f} MB ({rows} rows)"],
        ["inline_max_bytes (the function's limit here)", f"{limit / 1e6:.1f} MB"],
        ["the function's answer", f"{result.status} in {dispatched * 1000:.0f} ms"],
        [
            "the job's run",
            f"{record['status']}, attempt {record['attempt']}, version "
            f"{(record.get('deployments') or [{}])[0].get('version')}",
        ],
        ["upload to record", f"{total:.1f} s"],
    ]
    return rows_out, str(record["status"])


def overhead(work: Path, repeat: int) -> tuple[list[list[object]], dict[str, float]]:
    from hookline import layout

    offloaded = Bench(work / "offloaded", when="always", limit=0)
    direct = Bench(work / "direct", when="always", limit=0)
    results: dict[str, list[tuple[float, float]]] = {"offloaded": [], "direct": []}
    for i in range(repeat + 1):  # the first round warms the caches
        order = ("offloaded", "direct") if i % 2 == 0 else ("direct", "offloaded")
        for which in order:
            bench = offloaded if which == "offloaded" else direct
            app = bench.app()
            event = bench.upload(app, f"r{i}.csv", _csv(100 + i, 400))
            run_id = event.run_id("train")
            if which == "offloaded":
                started = time.time()
                app.handle(event)
            else:
                # The dispatch record the job needs, written as a dispatcher does, but with
                # a backend that starts nothing: this process starts the command itself.
                backend = _Nothing()
                app.offload._backends["train"] = backend
                app.handle(event)
                env = {
                    **os.environ,
                    "HOOKLINE_CONFIG": str(bench.config),
                    "HOOKLINE_RUN_ID": run_id,
                    "HOOKLINE_ATTEMPT": "1",
                }
                started = time.time()
                proc = subprocess.Popen(
                    [sys.executable, "-m", "hookline", "job", "run"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            record = bench.wait(app, run_id)
            claim = bench.doc(app, layout.run_claim_key(run_id)) or {}
            if which == "direct":
                proc.wait()
            finished = float(record.get("seconds") or 0)
            to_claim = float(claim["claimed_epoch"]) - started
            to_record = to_claim + finished
            if i:
                results[which].append((to_claim, to_record))
        offloaded.settle()
    med = {
        f"{k}_{what}": statistics.median(v[j] for v in vals)
        for k, vals in results.items()
        for j, what in enumerate(("claim", "record"))
    }
    rows = [
        [
            "offloaded (dispatch record, supervisor, job)",
            f"{med['offloaded_claim'] * 1000:.0f} ms",
            f"{med['offloaded_record']:.2f} s",
        ],
        [
            "baseline: the same command started directly",
            f"{med['direct_claim'] * 1000:.0f} ms",
            f"{med['direct_record']:.2f} s",
        ],
    ]
    return rows, med


class _Nothing:
    """A backend that accepts a job and starts nothing (the baseline starts it)."""

    name = "local"

    def submit(self, job: Any) -> Any:
        from hookline.compute import JobHandle

        return JobHandle("local", job.name, None)

    def find(self, name: str) -> None:
        return None


def run(quick: bool = False, repeat: int = 5, rows: int = 200_000) -> str:
    if quick:
        repeat, rows = 2, 20_000
    work = Path(tempfile.mkdtemp(prefix="hookline-bench-offload-"))
    try:
        large, _ = too_large(work, rows)
        rows_out, med = overhead(work, repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    added = med["offloaded_claim"] - med["direct_claim"]
    ratio = med["offloaded_record"] / med["direct_record"]
    return "\n\n".join(
        [
            "### Run offload (local backend)",
            'A run over the function\'s limit (`when = "auto"`, `inline_max_bytes`) '
            "completes as a job:",
            table(large, ["", ""]),
            f"Dispatch overhead, median of {repeat} interleaved runs of a 400-row upload "
            "(from the start to the job's claim, and to the record):",
            table(rows_out, ["how the job starts", "to the claim", "to the record"]),
            f"Dispatch adds **{added * 1000:.0f} ms** before the run starts (the dispatch "
            "record, the job marker, the supervisor process); upload to record is "
            f"**{ratio:.2f}x** the directly started command.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(run(args.quick, args.repeat, args.rows))


if __name__ == "__main__":
    main()
