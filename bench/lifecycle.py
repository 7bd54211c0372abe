"""The whole lifecycle through hookline, against the same steps written by hand.

    .venv/bin/python -m bench.lifecycle --rows 100000

Both sides run in this process, on the same generated CSVs (``bench/.work/``), with the same
estimator and parameters, interleaved step by step (alternating which side goes first):

1. train on ``train1.csv``: read, hold out 20 % (stratified), fit the preprocessing +
   HistGradientBoostingClassifier pipeline, measure it, save it with skops, promote it;
2. train on ``train2.csv`` the same way, compare with the promoted model on the new hold-out,
   promote the better one;
3. score ``score.csv`` (shifted, labelled): load the promoted model, predict, write the
   predictions, measure performance on the batch, compute PSI and KS drift per feature
   against the training reference.

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
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

WORK = Path(__file__).resolve().parent / ".work"
BUILTINS = "pandas,sklearn,gates,registry,drift"
STEPS = (("train1", "landing/train/"), ("train2", "landing/train/"), ("score", "landing/score/"))
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
        if not path.exists():  # written aside, then renamed: concurrent runs share it
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            generate(
                partial, rows if name != "score" else rows // 2, features, seed=seed, shift=shift
            )
            partial.replace(path)
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


def by_hand(paths: dict[str, Path], out: Path) -> Iterator[str]:
    """The same lifecycle, written directly with pandas, scikit-learn, skops and scipy; one
    step per ``next()``."""
    import numpy as np
    import pandas as pd
    import skops.io as sio
    from scipy.stats import ks_2samp
    from sklearn.model_selection import train_test_split

    out.mkdir(parents=True)
    production = None
    for step in ("train1", "train2"):
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
        yield step
    df = pd.read_csv(paths["score"])
    blob = (out / f"{production}.skops").read_bytes()
    model = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
    X = df.drop(columns=[TARGET])
    predicted, proba = model.predict(X), model.predict_proba(X)
    pd.DataFrame({"prediction": predicted, "proba_yes": proba[:, 1]}).to_csv(
        out / "predictions.csv"
    )
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    performance = {  # the batch is labelled: performance on it, as the monitor does
        "accuracy": accuracy_score(df[TARGET], predicted),
        "f1": f1_score(df[TARGET], predicted, pos_label="yes"),
        "roc_auc": roc_auc_score(df[TARGET], proba[:, 1]),
    }
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
    (out / "drift.json").write_text(
        json.dumps({"performance": performance, "drift": {k: str(v) for k, v in drift.items()}})
    )
    yield "score"


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


def with_hookline(paths: dict[str, Path], root: Path) -> Iterator[Any]:
    """The lifecycle as uploads handled by hookline's runner (built-in plugins only); one
    upload per ``next()``, which returns its run record. The uploads are copied into the
    landing prefix beforehand: uploading is not hookline's work."""
    from hookline._manager import make_plugin_manager
    from hookline.cli._app import event_for
    from hookline.runner import Hookline

    root.mkdir(parents=True)
    (root / "hookline.toml").write_text(CONFIG)
    app = Hookline.from_config(str(root / "hookline.toml"), pm=make_plugin_manager(pinned=BUILTINS))
    events = []
    for step, prefix in STEPS:
        with open(paths[step], "rb") as fh:
            events.append(
                (step, event_for(app.storage, app.storage.upload(f"{prefix}{step}.csv", fh)))
            )
    for step, event in events:
        [result] = app.handle(event)
        if result.status not in ("succeeded", "rejected"):
            raise SystemExit(f"hookline run failed on {step}: {result.message}")
        yield result.record


# --- main ---------------------------------------------------------------------------------


def run(rows: int = 100_000, features: int = 20, repeat: int = 3, threads: int = 1) -> str:
    """Measure both sides and return the section as Markdown (the ``make bench`` convention).

    :param rows: training rows per upload (the scoring batch has half as many).
    :param features: feature columns (a quarter of them text).
    :param repeat: interleaved repetitions, alternating which side goes first.
    :param threads: OpenMP/BLAS threads for both sides; 1 keeps a shared machine steady.
    """
    import sklearn.ensemble  # noqa: F401  (loads OpenMP, so that the limit below reaches it)
    from threadpoolctl import threadpool_limits

    os.environ.setdefault("HOOKLINE_LOG_LEVEL", "WARNING")
    with threadpool_limits(limits=threads):
        started = time.perf_counter()
        paths = prepare(rows, features)
        warm = prepare(2000, features)
        prepared = time.perf_counter() - started
        WORK.mkdir(exist_ok=True)
        runs = Path(tempfile.mkdtemp(prefix="runs-", dir=WORK))  # concurrent runs never collide
        try:
            for _ in by_hand(warm, runs / "warm-hand"):  # imports, first-call caches: untimed
                pass
            for _ in with_hookline(warm, runs / "warm-hookline"):
                pass
            hand: list[dict[str, tuple[float, float]]] = []
            ours: list[dict[str, tuple[float, float]]] = []
            records: list[Any] = []
            for rep in range(repeat):
                sides = {
                    "hand": by_hand(paths, runs / f"hand-{rep}"),
                    "hookline": with_hookline(paths, runs / f"hookline-{rep}"),
                }
                times: dict[str, dict[str, tuple[float, float]]] = {"hand": {}, "hookline": {}}
                records = []
                for i, (step, _) in enumerate(STEPS):
                    # interleaved step by step, alternating which side goes first
                    order = ("hand", "hookline") if (rep + i) % 2 == 0 else ("hookline", "hand")
                    for side in order:
                        clock = Clock()
                        result = next(sides[side])
                        times[side][step] = clock.read()
                        if side == "hookline":
                            records.append(result)
                hand.append(times["hand"])
                ours.append(times["hookline"])
                print(
                    f"  rep {rep + 1}/{repeat}: by hand {_total(hand[-1], 0):.2f} s, "
                    f"hookline {_total(ours[-1], 0):.2f} s (wall)",
                    file=sys.stderr,
                )
        finally:
            shutil.rmtree(runs, ignore_errors=True)
    return _markdown(rows, features, repeat, threads, prepared, hand, ours, records)


def _markdown(
    rows: int,
    features: int,
    repeat: int,
    threads: int,
    prepared: float,
    hand: list[dict[str, tuple[float, float]]],
    ours: list[dict[str, tuple[float, float]]],
    records: list[Any],
) -> str:
    lines = [
        "### Lifecycle: hookline against the same steps written by hand",
        "",
        f"{rows:,} training rows x {features} features per upload (train, retrain, score a "
        f"shifted batch of {rows // 2:,} rows), HistGradientBoostingClassifier, {threads} "
        f"thread(s), medians of {repeat} interleaved repetitions; data prepared in "
        f"{prepared:.1f} s. CPU time is this process's, all threads.",
        "",
        "| step | by hand, wall s | hookline, wall s | ratio | by hand, CPU s "
        "| hookline, CPU s | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for step in (*(name for name, _ in STEPS), "total"):
        cells = []
        for i in (0, 1):
            h = statistics.median(_pick(t, step, i) for t in hand)
            o = statistics.median(_pick(t, step, i) for t in ours)
            cells += [f"{h:.3f}", f"{o:.3f}", f"{o / h:.3f}"]
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    wall = statistics.median(_total(t, 0) for t in ours) / statistics.median(
        _total(t, 0) for t in hand
    )
    cpu = statistics.median(_total(t, 1) for t in ours) / statistics.median(
        _total(t, 1) for t in hand
    )
    stages: dict[str, float] = {}
    for record in records:
        for stage, info in record.get("stages", {}).items():
            stages[stage] = stages.get(stage, 0.0) + info.get("seconds", 0.0)
    lines += [
        "",
        f"**hookline / hand-written: {wall:.3f} wall, {cpu:.3f} CPU** (goal: within 1.10).",
        "hookline's stage time in the last repetition: "
        + ", ".join(f"{s} {v:.2f} s" for s, v in stages.items())
        + ".",
    ]
    return "\n".join(lines) + "\n"


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
        help="OpenMP/BLAS threads for both sides (1: steady on a shared machine)",
    )
    args = parser.parse_args(argv)
    print(run(args.rows, args.features, args.repeat, args.threads))
    return 0


def _pick(times: dict[str, tuple[float, float]], step: str, i: int) -> float:
    return _total(times, i) if step == "total" else times[step][i]


def _total(times: dict[str, tuple[float, float]], i: int) -> float:
    return sum(t[i] for t in times.values())


if __name__ == "__main__":
    sys.exit(main())
