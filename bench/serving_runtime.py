"""Serving cold start by runtime: a fresh process, from spawn to its first ``/predict``
answer, with ``[serving] runtime = "onnx"`` against ``"sklearn"``.

The quickstart is trained once by the built-in pipeline (``batch1.csv``: version 1 in
production, with its ONNX model). Then, each in a fresh interpreter, interleaved:

* **onnx** / **sklearn**: ``create_app`` on the quickstart's ``hookline.toml`` with that
  runtime, and one ``POST /predict?proba=true`` of one row through the app's ASGI entry
  (the first request loads and verifies the model, as on a cold Lambda behind mangum);
  the child reports whether scikit-learn, scipy, pandas or skops were imported;
* **floor**: ``import fastapi, mangum, numpy, onnxruntime`` and creating the
  onnxruntime session on the same ``model.onnx``, nothing else.

Wall time is from spawn to exit; peak RSS is the child's ``VmHWM`` (Linux).

    python -m bench.serving_runtime [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._harness import ms, table

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart"
ROW = {
    "island": "Torgersen",
    "bill_length_mm": 39.1,
    "bill_depth_mm": 18.7,
    "flipper_length_mm": 181.0,
    "body_mass_g": 3750.0,
    "sex": "male",
}

_RSS = "\nprint([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])\n"

SERVE = """
import asyncio, json, sys
from hookline.adapters.serving import create_app
app = create_app(sys.argv[1], environ={})
body = open(sys.argv[2], "rb").read()
sent = []
async def first_answer():
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}
    async def send(message):
        sent.append(message)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/predict", "raw_path": b"/predict",
             "query_string": b"proba=true", "root_path": "", "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80),
             "headers": [(b"content-type", b"application/json"), (b"host", b"localhost")]}
    await app(scope, receive, send)
asyncio.run(first_answer())
assert sent[0]["status"] == 200, sent
print(json.dumps(sorted(m for m in ("sklearn", "scipy", "pandas", "skops") if m in sys.modules)))
"""

FLOOR = """
import sys
import fastapi, mangum, numpy, onnxruntime
onnxruntime.InferenceSession(open(sys.argv[3], "rb").read(), providers=["CPUExecutionProvider"])
print("[]")
"""


def build(folder: Path) -> dict[str, Path]:
    """Train the quickstart with the built-in pipeline (in this process); one config per
    runtime."""
    from hookline.cli._app import event_for
    from hookline.project import Project
    from hookline.runner import Hookline

    root = folder / "q"
    shutil.copytree(QUICKSTART, root, ignore=shutil.ignore_patterns(".hookline"))
    project = Project.open(root / "hookline.toml", storage=str(root / ".hookline"))
    info = project.storage.write("landing/train/batch1.csv", (root / "batch1.csv").read_bytes())
    (result,) = Hookline(project).handle(event_for(project.storage, info))
    if result.status != "succeeded":
        raise SystemExit(f"training the quickstart failed: {result.status}")
    text = (root / "hookline.toml").read_text()
    text = text.replace('storage = ".hookline"', f'storage = "{root / ".hookline"}"')
    configs = {}
    for runtime in ("onnx", "sklearn"):
        configs[runtime] = folder / f"{runtime}.toml"
        configs[runtime].write_text(text + f'\n[serving]\nruntime = "{runtime}"\n')
    (folder / "row.json").write_text(json.dumps(ROW))
    return configs


def once(code: str, config: Path, folder: Path) -> tuple[float, float, list[str]]:
    """Wall seconds, peak RSS (MiB) and heavy modules of one fresh interpreter."""
    onnx = folder / "q/.hookline/registry/penguins/versions/000001/model.onnx"
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code + _RSS, str(config), str(folder / "row.json"), str(onnx)],
        check=True,
        capture_output=True,
        text=True,
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", "ORT_DISABLE_TELEMETRY": "1"},
    )
    wall = time.perf_counter() - started
    lines = out.stdout.strip().splitlines()
    return wall, int(lines[-1]) / 1024, json.loads(lines[-2])


def run(quick: bool = False) -> str:
    repeat = 3 if quick else 11
    floor = "floor: import fastapi, mangum, numpy, onnxruntime + session"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        configs = build(folder)
        cases = {
            "onnx": (SERVE, configs["onnx"]),
            "sklearn": (SERVE, configs["sklearn"]),
            floor: (FLOOR, configs["onnx"]),
        }
        heavy: dict[str, list[str]] = {}
        for name, (code, config) in cases.items():  # warm the file cache
            heavy[name] = once(code, config, folder)[2]
        walls: dict[str, list[float]] = {name: [] for name in cases}
        rss: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(repeat):
            for name, (code, config) in cases.items():
                wall, peak, _ = once(code, config, folder)
                walls[name].append(wall)
                rss[name].append(peak)
    wall = {n: statistics.median(v) for n, v in walls.items()}
    peak = {n: statistics.median(v) for n, v in rss.items()}
    rows = [
        [
            name,
            ms(wall[name]),
            f"{peak[name]:.0f} MiB",
            f"{wall[name] / wall['sklearn']:.2f}x",
            f"{wall[name] / wall[floor]:.2f}x",
            ", ".join(heavy[name]) or "none",
        ]
        for name in cases
    ]
    return (
        "### Serving cold start by runtime: spawn to the first /predict answer\n\n"
        "The quickstart's random forest, trained by the built-in pipeline; one row with "
        f"probabilities through the app's ASGI entry; medians of {repeat} interleaved runs, "
        "wall time from spawn to exit, peak RSS of the child.\n\n"
        + table(
            rows,
            ["case", "wall", "peak RSS", "vs sklearn", "vs floor", "training stack imported"],
        )
        + f"\n\nruntime onnx against sklearn: {wall['onnx'] / wall['sklearn']:.2f}x the time "
        f"(goal: at most 0.25x), {peak['onnx'] / peak['sklearn']:.2f}x the memory; "
        f"{wall['onnx'] / wall[floor]:.2f}x its floor (goal: at most 1.3x).\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print(run(quick=parser.parse_args(argv).quick))


if __name__ == "__main__":
    main()
