"""Dashboard runs page on a local storage root with 5,000 runs, against baselines measured in
the same run:

* reading one page of summaries straight from the index (what the page must read anyway);
* rendering the runs page of an empty storage root (the app and template cost alone);
* reading every summary, as a dashboard without the index cursor would on each page view.

Records are written through ``RunStore.save``, so the index is the real one.

    python -m bench.dashboard [--runs 5000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import itertools
import random
import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from bench._harness import interleave, ms, table

WORK = Path(__file__).parent / ".work" / "dashboard"
PAGE = 50


def _record(i: int, rng: random.Random) -> dict[str, object]:
    pipeline = "score" if i % 5 == 4 else "train"
    status = "failed" if i % 97 == 0 else "rejected" if i % 13 == 0 else "succeeded"
    started = 1_700_000_000 + i * 60
    iso = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(started))
    done = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(started + 3))
    return {
        "run_id": f"{pipeline}-{i:020x}",
        "pipeline": pipeline,
        "model": "churn",
        "status": status,
        "attempt": 1,
        "started_at": iso,
        "finished_at": done,
        "seconds": round(rng.uniform(0.5, 4.0), 4),
        "trigger": {
            "type": "storage",
            "uri": f"file:///data/landing/{pipeline}/{i}.csv",
            "sha256": f"{rng.getrandbits(256):064x}",
            "read_version": str(i),
        },
        "stages": {
            s: {"status": "ok", "seconds": round(rng.uniform(0.01, 1), 4)}
            for s in ("ingest", "train", "validate", "deploy")
        },
        "metrics": {"accuracy": round(rng.uniform(0.7, 0.95), 4)},
        "checks": [
            {
                "name": "min_rows",
                "passed": True,
                "observed": 1000,
                "threshold": 50,
                "blocking": True,
                "kind": "data",
                "message": "",
            }
        ],
        "deployments": [
            {
                "target": "registry",
                "model": "churn",
                "version": i // 10 + 1,
                "alias": "production",
                "status": "promoted",
            }
        ]
        if pipeline == "train" and status == "succeeded"
        else [],
        "error": {"message": "plugin 'x' failed in hook 'train'", "plugin": "x", "hook": "train"}
        if status == "failed"
        else None,
    }


def build_root(runs: int) -> Path:
    """A local storage root with ``runs`` run records (reused when already built)."""
    from hookline.runs import RunStore
    from hookline.storage import LocalStorage

    root = WORK / f"runs-{runs}"
    marker = root / ".complete"
    if marker.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    store = RunStore(LocalStorage(root))
    rng = random.Random(7)
    for i in range(runs):
        store.save(_record(i, rng))
    marker.write_text(str(runs))
    return root


def _client(root: Path) -> object:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from fastapi.testclient import TestClient
    from hookline.adapters.dashboard import create_app
    from hookline.adapters.dashboard._auth import Auth
    from hookline.storage import LocalStorage

    app = create_app(LocalStorage(root), auth=Auth([]), page_size=PAGE)
    return TestClient(app)


def _timed(fn: Callable[[], object]) -> Callable[[], float]:
    def run() -> float:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started

    return run


def run(runs: int = 5000, repeat: int = 15) -> str:
    from hookline.runs import RunStore
    from hookline.storage import LocalStorage

    started = time.perf_counter()
    root = build_root(runs)
    built = time.perf_counter() - started
    empty = WORK / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    client, empty_client = _client(root), _client(empty)
    store = RunStore(LocalStorage(root))
    deep = store.page(PAGE * 49).next_cursor  # the cursor of page 50

    def get(c: object, url: str) -> Callable[[], object]:
        def call() -> object:
            response = c.get(url)  # type: ignore[attr-defined]
            assert response.status_code == 200, response.text[:300]
            return response

        return call

    def direct_page() -> list[object]:
        return list(itertools.islice(store.summaries(), PAGE))

    def read_everything() -> int:
        return sum(1 for _ in store.summaries())

    samples = interleave(
        {
            f"baseline: read {PAGE} summaries from the index directly": _timed(direct_page),
            "baseline: runs page of an empty root": _timed(get(empty_client, "/runs")),
            f"runs page 1 ({PAGE} of {runs:,} runs)": _timed(get(client, "/runs")),
            "runs page 50 (cursor)": _timed(get(client, f"/runs?after={deep}")),
            "runs page filtered by pipeline=score": _timed(get(client, "/runs?pipeline=score")),
            "runs page filtered by status=failed": _timed(get(client, "/runs?status=failed")),
            f"run page (one record of {runs:,})": _timed(
                get(client, f"/runs/train-{runs // 2:020x}")
            ),
            f"without the index cursor: read all {runs:,} summaries": _timed(read_everything),
        },
        repeat=repeat,
    )
    medians = {name: s.median for name, s in samples.items()}
    direct, empty_page = list(medians.values())[:2]
    rows = [
        (
            name,
            ms(s.median),
            ms(s.p99),
            f"{s.median / direct:.2f}x",
            f"{s.median / empty_page:.2f}x",
        )
        for name, s in samples.items()
    ]
    page1 = medians[f"runs page 1 ({PAGE} of {runs:,} runs)"]
    out = table(rows, ["case", "median", "p99", "vs direct index read", "vs empty page"])
    return (
        f"### Dashboard runs page, {runs:,} runs in a local root ({repeat} interleaved "
        f"runs each; root built in {built:.1f} s)\n\n{out}\n\n"
        f"Runs page 1 vs reading the same {PAGE} summaries directly: **{page1 / direct:.2f}x**; "
        f"vs rendering an empty page: **{page1 / empty_page:.2f}x**; "
        f"{ms(page1)} per view.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(run(args.runs, args.repeat))


if __name__ == "__main__":
    main()
