"""A fresh process that loads a model and predicts one row: ONNX against skops.

The quickstart's model (its random-forest pipeline, trained on ``batch1.csv`` and
``batch2.csv``) is saved once as skops and as ONNX (through the parity gate). Then, each
in a fresh interpreter, interleaved:

* **onnx**: ``hookline.onnx.load`` on the ONNX bytes, ``predict_both`` on one row
  (onnxruntime and numpy only);
* **skops**: ``hookline.modelio.loads`` on the skops bytes (what the registry does: skops
  with the trusted-type check), a one-row pandas DataFrame, ``predict`` and
  ``predict_proba``;
* **floor**: ``import numpy, onnxruntime`` and nothing else; and ``import numpy`` alone.

Wall time is from spawn to exit; peak RSS is the child's ``VmHWM`` (Linux).

    python -m bench.onnx_predict [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._harness import ms, table

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart"
ROW = ["Torgersen", 39.1, 18.7, 181.0, 3750.0, "male"]

# VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's high-water mark at fork
_RSS = "\nprint([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])\n"

CODE = {
    "onnx": """
import json, sys
from hookline.onnx import load
folder = sys.argv[1]
model = load(open(folder + "/model.onnx", "rb").read(), json.load(open(folder + "/onnx.json")))
labels, proba = model.predict_both([json.load(open(folder + "/row.json"))])
assert "sklearn" not in sys.modules and "pandas" not in sys.modules
""",
    "skops": """
import json, sys
from hookline import modelio
folder = sys.argv[1]
model = modelio.loads(open(folder + "/model.skops", "rb").read(), expected_sha256=None,
                       where=folder)
import pandas as pd
columns = json.load(open(folder + "/features.json"))
frame = pd.DataFrame([json.load(open(folder + "/row.json"))], columns=columns)
labels, proba = model.predict(frame), model.predict_proba(frame)
""",
    "floor: import numpy, onnxruntime": "import numpy, onnxruntime\n",
    "import numpy": "import numpy\n",
}


def build(folder: Path) -> None:
    """Train the quickstart's pipeline and save both forms (in this process)."""
    import pandas as pd
    from hookline import modelio
    from hookline.config import check_table
    from hookline.plugins import train
    from hookline.plugins._ingest_schema import kind_of
    from hookline.plugins._onnx import export
    from hookline.types import Dataset

    frame = pd.concat([pd.read_csv(QUICKSTART / f"batch{i}.csv") for i in (1, 2)])
    schema = {c: {"dtype": kind_of(frame[c])} for c in frame.columns}
    dataset = Dataset(frame=frame, schema=schema, profile={}, target="species", source=None)
    cfg = {
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        "params": {"n_estimators": 100, "min_samples_leaf": 2},
        "exclude": ["year"],
    }
    model = train.fit(dataset, check_table(cfg, train.CONFIG, ""))
    result = export(model.estimator, model.features, model.task, model.holdout)
    if not result.ok or result.data is None:
        raise SystemExit(f"the quickstart model did not convert: {result.reason}")
    (folder / "model.onnx").write_bytes(result.data)
    (folder / "onnx.json").write_text(json.dumps(result.manifest()))
    (folder / "model.skops").write_bytes(modelio.dumps(model.estimator))
    (folder / "features.json").write_text(json.dumps(list(model.features)))
    (folder / "row.json").write_text(json.dumps(ROW))


def once(code: str, folder: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one fresh interpreter running ``code``."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code + _RSS, str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    return wall, int(out.stdout.strip().splitlines()[-1]) / 1024


def run(quick: bool = False) -> str:
    repeat = 3 if quick else 15
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        build(folder)
        sizes = {n: (folder / n).stat().st_size for n in ("model.onnx", "model.skops")}
        for code in CODE.values():  # warm the file cache
            once(code, folder)
        walls: dict[str, list[float]] = {name: [] for name in CODE}
        rss: dict[str, list[float]] = {name: [] for name in CODE}
        for _ in range(repeat):
            for name, code in CODE.items():
                wall, peak = once(code, folder)
                walls[name].append(wall)
                rss[name].append(peak)
    wall = {n: statistics.median(v) for n, v in walls.items()}
    peak = {n: statistics.median(v) for n, v in rss.items()}
    rows = [
        [
            name,
            ms(wall[name]),
            f"{peak[name]:.0f} MiB",
            f"{wall[name] / wall['skops']:.2f}x",
            f"{wall[name] / wall['import numpy']:.2f}x",
        ]
        for name in CODE
    ]
    return (
        "### ONNX: a fresh process loads the model and predicts one row\n\n"
        f"The quickstart's random forest (model.onnx {sizes['model.onnx'] / 1024:.0f} KiB, "
        f"model.skops {sizes['model.skops'] / 1024:.0f} KiB); medians of {repeat} "
        "interleaved runs, wall time from spawn to exit, peak RSS of the child.\n\n"
        + table(rows, ["case", "wall", "peak RSS", "vs skops", "vs import numpy"])
        + f"\n\nONNX against skops + scikit-learn + pandas: "
        f"{wall['onnx'] / wall['skops']:.2f}x the time, "
        f"{peak['onnx'] / peak['skops']:.2f}x the memory; "
        f"{wall['onnx'] / wall['floor: import numpy, onnxruntime']:.2f}x its floor "
        "(importing numpy and onnxruntime).\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print(run(quick=parser.parse_args(argv).quick))


if __name__ == "__main__":
    main()
