"""The whole lifecycle through hookline, against the same steps written by hand.

    .venv/bin/python -m bench.lifecycle --rows 100000

Both sides run in this process, on the same generated CSVs (``bench/.work/``), with the same
estimator and parameters, in interleaved repetitions:

1. train on ``train1.csv``: read, hold out 20 % (stratified), fit the preprocessing +
   HistGradientBoostingClassifier pipeline, measure it, save it with skops, promote it;
2. train on ``train2.csv`` the same way, compare with the promoted model on the new hold-out,
   promote the better one;
3. score ``score.csv`` (shifted): load the promoted model, predict, write the predictions,
   compute PSI and KS drift per feature against the training reference.

hookline adds what the hand-written script skips: content sniffing and an encoding check,
the profile, schema and formula-cell checks, the gates (latency, size, null ratio, ...),
run claims and records, lineage and a compare-and-swap registry. The ratio printed is the
price of all that. It prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

WORK = Path(__file__).resolve().parent / ".work"
BUILTINS = "pandas,sklearn,gates,registry,drift"
TARGET = "label"
SEED = 42


class Clock:
    """Wall time and CPU time of this process (all threads) since it was started."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


# --- data ---------------------------------------------------------------------------------


def generate(path: Path, rows: int, features: int, *, seed: int, shift: float = 0.0) -> None:
    """A classification table: 3/4 numeric features (with 2 % gaps), 1/4 text features."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_text = max(1, features // 4)
    n_num = features - n_text
    data: dict[str, Any] = {}
    score = np.zeros(rows)
    for i in range(n_num):
        values = rng.normal(shift if i < 3 else 0.0, 1.0, rows)
        score += values * (1.0 / (i + 1))
        values[rng.random(rows) < 0.02] = np.nan
        data[f"n{i}"] = values.round(5)
    for i in range(n_text):
        levels = [f"c{i}_{k}" for k in range(6 + i)]
        values = rng.choice(levels, rows)
        score += np.where(values == levels[0], 0.7, 0.0)
        data[f"t{i}"] = values
    data[TARGET] = np.where(score + rng.normal(0, 0.5, rows) > 0.4, "yes", "no")
    pd.DataFrame(data).to_csv(path, index=False)


def prepare(rows: int, features: int) -> dict[str, Path]:
    WORK.mkdir(exist_ok=True)
    paths = {}
    for name, seed, shift in (("train1", 1, 0.0), ("train2", 2, 0.0), ("score", 3, 0.8)):
        path = WORK / f"{name}-{rows}x{features}.csv"
        if not path.exists():
            generate(path, rows if name != "score" else rows // 2, features, seed=seed, shift=shift)
        paths[name] = path
    return paths


# --- by hand ------------------------------------------------------------------------------


def _pipeline(X: Any) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in X.columns if c.startswith("n")]
    text = [c for c in X.columns if c.startswith("t")]
    pre = ColumnTransformer(
        [
            (
                "numeric",
                Pipeline(
                    [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
                ),
                numeric,
            ),
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        ("onehot", OneHotEncoder(handle_unknown="ignore", max_categories=50)),
                    ]
                ),
                text,
            ),
        ],
        sparse_threshold=0.0,
    )
    return Pipeline(
        [("preprocess", pre), ("model", HistGradientBoostingClassifier(random_state=SEED))]
    )


def _metrics(model: Any, X: Any, y: Any) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    predicted = model.predict(X)
    return {
        "accuracy": accuracy_score(y, predicted),
        "f1": f1_score(y, predicted, pos_label="yes"),
        "roc_auc": roc_auc_score(y, model.predict_proba(X)[:, 1]),
    }


def _reference(X: Any) -> dict[str, Any]:
    import numpy as np

    ref = {}
    for c in X.columns:
        if c.startswith("n"):
            v = X[c].dropna().to_numpy()
            edges = np.unique(np.quantile(v, np.linspace(0, 1, 11)[1:-1]))
            ref[c] = {
                "edges": edges,
                "shares": np.bincount(np.searchsorted(edges, v, "right"), minlength=len(edges) + 1)
                / len(v),
                "sketch": np.quantile(v, np.linspace(0, 1, 1000)),
            }
        else:
            ref[c] = X[c].value_counts(normalize=True).to_dict()
    return ref


def _psi(expected: Any, actual: Any) -> float:
    import numpy as np

    e = np.clip(np.asarray(expected, float), 1e-4, None)
    a = np.clip(np.asarray(actual, float), 1e-4, None)
    return float(np.sum((a - e) * np.log(a / e)))


def by_hand(paths: dict[str, Path], out: Path) -> dict[str, tuple[float, float]]:
    """The same lifecycle, written directly with pandas, scikit-learn, skops and scipy."""
    import numpy as np
    import pandas as pd
    import skops.io as sio
    from scipy.stats import ks_2samp
    from sklearn.model_selection import train_test_split

    out.mkdir(parents=True)
    times = {}
    production = None
    for step in ("train1", "train2"):
        clock = Clock()
        df = pd.read_csv(paths[step])
        X, y = df.drop(columns=[TARGET]), df[TARGET]
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=0.2, random_state=SEED, stratify=y
        )
        model = _pipeline(X).fit(X_tr, y_tr)
        metrics = _metrics(model, X_te, y_te)
        reference = _reference(X)
        promote = True
        if production is not None:
            blob = (out / f"{production}.skops").read_bytes()
            old = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
            promote = metrics["f1"] >= _metrics(old, X_te, y_te)["f1"]
        blob = sio.dumps(model)
        (out / f"{step}.skops").write_bytes(blob)
        (out / f"{step}.json").write_text(
            json.dumps({"metrics": metrics, "sha256": hashlib.sha256(blob).hexdigest()})
        )
        if promote:
            production, production_ref = step, reference
        times[step] = clock.read()
    clock = Clock()
    df = pd.read_csv(paths["score"])
    blob = (out / f"{production}.skops").read_bytes()
    model = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
    X = df.drop(columns=[TARGET])
    pd.DataFrame(
        {"prediction": model.predict(X), "proba_yes": model.predict_proba(X)[:, 1]}
    ).to_csv(out / "predictions.csv")
    drift = {}
    for c, ref in production_ref.items():
        if c.startswith("n"):
            v = X[c].dropna().to_numpy()
            shares = np.bincount(
                np.searchsorted(ref["edges"], v, "right"), minlength=len(ref["edges"]) + 1
            ) / len(v)
            drift[c] = (_psi(ref["shares"], shares), ks_2samp(ref["sketch"], v).pvalue)
        else:
            now = X[c].value_counts(normalize=True)
            drift[c] = _psi(list(ref.values()), [now.get(k, 0.0) for k in ref])
    (out / "drift.json").write_text(json.dumps({k: str(v) for k, v in drift.items()}))
    times["score"] = clock.read()
    return times


# --- through hookline ---------------------------------------------------------------------

CONFIG = """
[project]
name = "bench"
storage = "store"

[pipelines.train]
model = "bench"
stages = ["ingest", "train", "validate", "deploy"]
trigger = { prefix = "landing/train/", suffix = ".csv" }

[pipelines.score]
model = "bench"
stages = ["ingest", "monitor"]
trigger = { prefix = "landing/score/", suffix = ".csv" }

[plugins.pandas]
target = "label"

[plugins.sklearn]
seed = 42
"""


def with_hookline(
    paths: dict[str, Path], root: Path
) -> tuple[dict[str, tuple[float, float]], list[Any]]:
    """The lifecycle as uploads handled by hookline's runner (built-in plugins only)."""
    from hookline._manager import make_plugin_manager
    from hookline.cli._app import event_for
    from hookline.runner import Hookline

    root.mkdir(parents=True)
    (root / "hookline.toml").write_text(CONFIG)
    app = Hookline.from_config(str(root / "hookline.toml"), pm=make_plugin_manager(pinned=BUILTINS))
    times, records = {}, []
    for step, prefix in (
        ("train1", "landing/train/"),
        ("train2", "landing/train/"),
        ("score", "landing/score/"),
    ):
        with open(paths[step], "rb") as fh:  # the upload itself is not hookline's work
            info = app.storage.upload(f"{prefix}{step}.csv", fh)
        event = event_for(app.storage, info)
        clock = Clock()
        [result] = app.handle(event)
        times[step] = clock.read()
        if result.status not in ("succeeded", "rejected"):
            raise SystemExit(f"hookline run failed on {step}: {result.message}")
        records.append(result.record)
    return times, records


# --- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.lifecycle",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repetitions")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="OpenMP/BLAS threads for both sides (1: steady on a shared box)",
    )
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    os.environ.setdefault("HOOKLINE_LOG_LEVEL", "WARNING")
    with threadpool_limits(limits=args.threads):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    paths = prepare(args.rows, args.features)
    print(
        f"data: {args.rows:,} training rows x {args.features} features per upload, "
        f"{args.threads} thread(s) ({time.perf_counter() - t0:.1f} s to prepare) in {WORK}"
    )
    runs = WORK / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    warm = prepare(2000, args.features)  # imports and first-call caches, untimed
    by_hand(warm, runs / "warm-hand")
    with_hookline(warm, runs / "warm-hookline")
    hand: list[dict[str, tuple[float, float]]] = []
    ours: list[dict[str, tuple[float, float]]] = []
    records: list[Any] = []
    for rep in range(args.repeat):
        order = ("hand", "hookline") if rep % 2 == 0 else ("hookline", "hand")
        for side in order:
            if side == "hand":
                hand.append(by_hand(paths, runs / f"hand-{rep}"))
            else:
                times, records = with_hookline(paths, runs / f"hookline-{rep}")
                ours.append(times)
        print(
            f"  rep {rep + 1}: by hand {_total(hand[-1], 0):6.2f} s   "
            f"hookline {_total(ours[-1], 0):6.2f} s  (wall)"
        )
    print(
        f"\n{'step':<8}{'hand wall':>11}{'hookline':>10}{'ratio':>7}"
        f"{'hand cpu':>11}{'hookline':>10}{'ratio':>7}"
    )
    for step in ("train1", "train2", "score", "total"):
        cells = []
        for i in (0, 1):
            h = statistics.median(_pick(t, step, i) for t in hand)
            o = statistics.median(_pick(t, step, i) for t in ours)
            cells.append(f"{h:>11.3f}{o:>10.3f}{o / h:>7.3f}")
        print(f"{step:<8}{''.join(cells)}")
    wall = statistics.median(_total(t, 0) for t in ours) / statistics.median(
        _total(t, 0) for t in hand
    )
    cpu = statistics.median(_total(t, 1) for t in ours) / statistics.median(
        _total(t, 1) for t in hand
    )
    print(
        f"\nhookline / hand-written: wall {wall:.3f}, cpu {cpu:.3f} "
        f"(medians of {args.repeat} interleaved repetitions; goal: within 1.10)"
    )
    stages: dict[str, float] = {}
    for record in records:
        for stage, info in record.get("stages", {}).items():
            stages[stage] = stages.get(stage, 0.0) + info.get("seconds", 0.0)
    print(
        "hookline stage wall time, last repetition: "
        + ", ".join(f"{s} {v:.2f} s" for s, v in stages.items())
    )
    return 0


def _pick(times: dict[str, tuple[float, float]], step: str, i: int) -> float:
    return _total(times, i) if step == "total" else times[step][i]


def _total(times: dict[str, tuple[float, float]], i: int) -> float:
    return sum(t[i] for t in times.values())


if __name__ == "__main__":
    sys.exit(main())
