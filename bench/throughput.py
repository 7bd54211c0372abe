"""Event throughput of a monitoring pipeline on small uploads, in one process.

1,000 uploads of 1,000 rows each (``--quick``: 40) go through the quickstart's scoring
pipeline (ingest, monitor: score with the production model, drift against the training
profile, report, run record, with claims making every delivery exactly-once), one after
another in one warm process, against a local folder and against S3 (moto, started from
tests/emulators). The baseline is the same loop written by hand: read the object with
the SDK, ``pandas.read_csv``, ``model.predict`` (the model loaded once), write the
predictions. Hookline and the baseline alternate in chunks, so machine noise hits both.

    python -m bench.throughput [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._harness import table
from bench._project import SCORE_PREFIX, BenchProject, emulators, score_csv

ROWS = 1000
CHUNKS = 4


def by_hand(project: BenchProject) -> Callable[[list[Any]], None]:
    """The hand-written loop for ``project``'s storage: SDK read, pandas, predict, write."""
    import pandas as pd
    import skops.io as sio

    root = project.root
    if project.cloud == "local":
        base = Path(root)

        def get(key: str) -> bytes:
            return (base / key).read_bytes()

        def put(key: str, data: bytes) -> None:
            path = base / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        def key_of(event: Any) -> str:
            return str(event.key)

        prefix = ""
    else:
        import boto3

        s3 = boto3.client("s3")
        bucket = root.split("/")[2]
        prefix = root.split("/", 3)[3].rstrip("/") + "/"

        def get(key: str) -> bytes:
            return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

        def put(key: str, data: bytes) -> None:
            s3.put_object(Bucket=bucket, Key=key, Body=data)

        def key_of(event: Any) -> str:
            return str(event.key)

    alias = json.loads(get(prefix + "registry/penguins/aliases/production.json"))
    blob = get(prefix + f"registry/penguins/versions/{alias['version']:06d}/model.skops")
    model = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))

    def loop(events: list[Any]) -> None:
        for event in events:
            key = key_of(event)
            frame = pd.read_csv(io.BytesIO(get(key)))
            predictions = model.predict(frame.drop(columns=["species", "year"]))
            out = pd.DataFrame({"prediction": predictions}).to_csv(index=False).encode()
            put(prefix + "by-hand/" + key.rsplit("/", 1)[-1], out)

    return loop


def with_hookline(project: BenchProject) -> Callable[[list[Any]], None]:
    app = project.app()

    def loop(events: list[Any]) -> None:
        for event in events:
            [result] = app.handle(event)
            if result.status != "succeeded":
                raise RuntimeError(f"{event.uri}: {result.status}: {result.message}")

    return loop


def measure(project: BenchProject, uploads: int) -> tuple[float, float]:
    """Seconds for ``uploads`` events by hand and through hookline (alternating chunks)."""
    print(
        f"{project.cloud}: writing {uploads + 1} uploads of {ROWS} rows",
        file=sys.stderr,
        flush=True,
    )
    events = [
        project.upload(f"{SCORE_PREFIX}tp-{i:05d}.csv", score_csv(ROWS, seed=i))
        for i in range(uploads + 1)
    ]
    hand, ours = by_hand(project), with_hookline(project)
    warm, events = events[:1], events[1:]
    hand(warm)  # imports, first-call caches: untimed
    ours(warm)
    size = max(1, len(events) // CHUNKS)
    chunks = [events[i : i + size] for i in range(0, len(events), size)]
    spent = {"hand": 0.0, "hookline": 0.0}
    for n, chunk in enumerate(chunks):
        order = [("hand", hand), ("hookline", ours)]
        for name, loop in order if n % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            loop(chunk)
            spent[name] += time.perf_counter() - started
        print(
            f"{project.cloud}: {sum(len(c) for c in chunks[: n + 1])}/{len(events)} events",
            file=sys.stderr,
            flush=True,
        )
    return spent["hand"], spent["hookline"]


def run(quick: bool = False) -> str:
    uploads = 40 if quick else 1000
    rows = []
    with tempfile.TemporaryDirectory(prefix="hookline-throughput-") as tmp, emulators("aws"):
        for cloud, label in (("local", "local folder"), ("aws", "S3 (moto)")):
            project = BenchProject(cloud, Path(tmp) / cloud)
            project.train()
            hand, ours = measure(project, uploads)
            rows.append(
                (
                    label,
                    f"{uploads / ours:.1f} events/s ({ours / uploads * 1000:.0f} ms)",
                    f"{uploads / hand:.1f} events/s ({hand / uploads * 1000:.0f} ms)",
                    f"**{ours / hand:.2f}x**",
                )
            )
    return (
        f"### Event throughput: {uploads:,} uploads of {ROWS:,} rows, one process\n\n"
        "The quickstart's scoring pipeline (claim, ingest with schema checks, predict, "
        "drift against the training profile, report, run record and index) against the "
        "hand-written loop (SDK read, `pandas.read_csv`, `model.predict`, write the "
        "predictions; model loaded once), alternating in chunks.\n\n"
        + table(
            rows,
            [
                "storage",
                "hookline (per event)",
                "by hand (per event)",
                "time ratio hookline / by hand",
            ],
        )
        + "\n\nThroughput scales with instances (each cloud runs one event per instance at a "
        "time); these are per-process figures on this machine.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(run(args.quick))


if __name__ == "__main__":
    main()
