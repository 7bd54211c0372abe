"""Serving latency and cold start, each against baselines measured in the same run.

Latency of a one-row ``POST /predict``, in-process through the Lambda handler (mangum, a
Function URL event), interleaved (each round starting with the next case) with:

* ``bare predict``: ``model.predict`` on a prepared one-row DataFrame (no HTTP at all);
* ``minimal FastAPI``: the same endpoint written by hand -- a pydantic body model,
  ``pd.DataFrame([row.model_dump()])``, ``model.predict`` -- behind mangum, no hookline;
* ``empty FastAPI``: an ``async def`` endpoint that returns a constant, behind mangum (the
  floor of FastAPI + mangum itself).

Two models: ``mixed`` (the built-in train plugin's shape: ColumnTransformer with imputers,
scaler and one-hot encoder, then LogisticRegression) and ``numeric`` (scaler + logistic
regression over four numeric columns, where predict itself is cheap, so the framework's
share shows). Cold start: process start to the first answer of the Lambda entry file,
against ``python -c "import fastapi, sklearn"``.

Run: ``.venv/bin/python -m bench.serving [--repeat N] [--cold N]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._harness import Sample, interleave, table

REPO = Path(__file__).resolve().parents[1]

SCENARIOS: dict[str, dict[str, dict[str, Any]]] = {
    "mixed": {
        "age": {"dtype": "integer", "nullable": False},
        "income": {"dtype": "number", "nullable": True},
        "plan": {"dtype": "string", "categories": ["basic", "pro", "team"], "nullable": False},
        "active": {"dtype": "boolean", "nullable": False},
    },
    "numeric": {name: {"dtype": "number", "nullable": False} for name in ("a", "b", "c", "d")},
}
ROWS = {
    "mixed": {"age": 31, "income": 52.5, "plan": "pro", "active": True},
    "numeric": {"a": 0.1, "b": 1.5, "c": -0.3, "d": 2.0},
}
EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/predict",
    "rawQueryString": "",
    "headers": {
        "content-type": "application/json",
        "host": "x.lambda-url.us-east-1.on.aws",
        "x-forwarded-proto": "https",
    },
    "requestContext": {
        "http": {
            "method": "POST",
            "path": "/predict",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "bench",
        },
        "stage": "$default",
        "requestId": "bench",
        "accountId": "anonymous",
    },
    "body": "",
    "isBase64Encoded": False,
}


def fit(scenario: str) -> Any:
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    n = 400
    if scenario == "mixed":
        frame = pd.DataFrame(
            {
                "age": rng.integers(18, 80, n),
                "income": rng.normal(50, 10, n),
                "plan": rng.choice(["basic", "pro", "team"], n),
                "active": rng.choice([True, False], n),
            }
        )
        y = (frame["income"] > 50).astype(int)
        pre = ColumnTransformer(
            [
                (
                    "num",
                    Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]),
                    ["age", "income"],
                ),
                ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
                ("flag", "passthrough", ["active"]),
            ]
        )
        return Pipeline([("pre", pre), ("clf", LogisticRegression())]).fit(frame, y)
    frame = pd.DataFrame(rng.normal(size=(n, 4)), columns=list("abcd"))
    y = (frame["a"] + frame["b"] > 0).astype(int)
    return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(frame, y)


def project(root: Path, scenario: str) -> Path:
    """A project whose production alias serves the scenario's model; returns its config."""
    from hookline.registry import Registry
    from hookline.storage import open_storage

    root.mkdir(parents=True, exist_ok=True)
    config = root / "hookline.toml"
    config.write_text(
        '[project]\nname = "bench"\nstorage = "store"\n\n[pipelines.train]\nmodel = "m"\n'
        'stages = ["ingest", "train", "validate", "deploy"]\n'
        'trigger = { prefix = "landing/train/" }\n\n[serving]\nreload_seconds = 30\n'
    )
    registry = Registry(open_storage(str(root / "store")))
    mv = registry.register_estimator(
        "m", fit(scenario), {"features": SCENARIOS[scenario], "task": "classification"}
    )
    registry.move_alias("m", "production", mv.version)
    return config


def event(body: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(EVENT)
    out["body"] = json.dumps(body)
    return out


def minimal_app(model: Any, scenario: str) -> Any:
    """The same endpoint, written by hand with FastAPI, pydantic and pandas."""
    import pandas as pd
    from fastapi import FastAPI
    from pydantic import create_model

    types = {"number": float, "integer": int, "string": str, "boolean": bool}
    fields: dict[str, Any] = {}
    for name, spec in SCENARIOS[scenario].items():
        kind = types[spec["dtype"]]
        fields[name] = (kind | None, None) if spec["nullable"] else (kind, ...)
    Row = create_model("Row", **fields)

    app = FastAPI()

    async def predict(row: Any) -> dict[str, Any]:
        frame = pd.DataFrame([row.model_dump()])
        return {"predictions": model.predict(frame).tolist()}

    predict.__annotations__["row"] = Row  # a local class: give FastAPI the class itself
    app.post("/predict")(predict)
    return app


def empty_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/predict")
    async def predict() -> dict[str, Any]:
        return {"predictions": [1]}

    return app


def timed(fn: Callable[[], Any], check: Callable[[Any], None] | None = None) -> Callable[[], float]:
    def run() -> float:
        started = time.perf_counter()
        out = fn()
        elapsed = time.perf_counter() - started
        if check is not None:
            check(out)
        return elapsed

    return run


def ok(result: dict[str, Any]) -> None:
    if result["statusCode"] != 200:
        raise SystemExit(f"benchmark request failed: {result}")


def latency(scenario: str, repeat: int, root: Path) -> tuple[str, dict[str, Sample]]:
    import pandas as pd
    from hookline.adapters.aws.serving import LambdaHandler
    from hookline.adapters.serving import create_app
    from mangum import Mangum

    config = project(root / scenario, scenario)
    app = create_app(str(config), environ={})
    app.state.holder.load()
    model = app.state.holder.current().predictor.model
    hookline = LambdaHandler(app, base_path="")
    minimal = Mangum(minimal_app(model, scenario), lifespan="off")
    empty = Mangum(empty_app(), lifespan="off")
    row = ROWS[scenario]
    frame = pd.DataFrame([row])
    ev = event(row)
    cases = {
        "hookline /predict (mangum)": timed(lambda: hookline(ev, None), ok),
        "minimal FastAPI (mangum)": timed(lambda: minimal(ev, None), ok),
        "empty FastAPI (mangum)": timed(lambda: empty(ev, None), ok),
        "bare model.predict": timed(lambda: model.predict(frame)),
    }
    return scenario, rotated(cases, repeat, warmup=50)


def rotated(cases: dict[str, Callable[[], float]], repeat: int, warmup: int) -> dict[str, Sample]:
    """Like ``interleave``, but each round starts with the next case, so no case always
    runs first (after another case's garbage) or last."""
    interleave(cases, 0, warmup=warmup)
    names = list(cases)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(repeat):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            times[name].append(cases[name]())
    return {name: Sample(name, tuple(ts)) for name, ts in times.items()}


COLD_SERVING = """
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {functions!r})
import serving
imported = time.perf_counter()
pandas_at_import = 'pandas' in sys.modules
result = serving.handler({event}, None)
assert result['statusCode'] == 200, result
print(json.dumps({{"import": imported - t0, "pandas_at_import": pandas_at_import}}))
"""


def cold_start(rounds: int, root: Path) -> dict[str, Any]:
    config = project(root / "cold", "mixed")
    env = {**os.environ, "HOOKLINE_CONFIG": str(config), "HOOKLINE_API_KEYS": ""}
    code = COLD_SERVING.format(
        functions=str(REPO / "functions" / "aws_lambda"), event=repr(event(ROWS["mixed"]))
    )
    serving_times, import_times, baseline = [], [], []
    pandas_flags = set()
    for _ in range(rounds):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        ).stdout
        serving_times.append(time.perf_counter() - started)
        info = json.loads(out.strip().splitlines()[-1])
        import_times.append(info["import"])
        pandas_flags.add(info["pandas_at_import"])
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import fastapi, sklearn"], check=True)
        baseline.append(time.perf_counter() - started)
    return {
        "serving": Sample("serving", tuple(serving_times)),
        "import": Sample("import", tuple(import_times)),
        "baseline": Sample("baseline", tuple(baseline)),
        "pandas_at_import": sorted(pandas_flags),
    }


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def report(
    results: list[tuple[str, dict[str, Sample]]], cold: dict[str, Any] | None, repeat: int
) -> str:
    parts = [f"### Serving: one-row /predict, {repeat} interleaved requests per case\n"]
    for scenario, samples in results:
        rows = [(name, us(s.median), us(s.p99)) for name, s in samples.items()]
        hook = samples["hookline /predict (mangum)"]
        minimal = samples["minimal FastAPI (mangum)"]
        bare = samples["bare model.predict"]
        empty = samples["empty FastAPI (mangum)"]
        parts.append(f"**{scenario} model**\n\n" + table(rows, ["case", "median", "p99"]))
        parts.append(
            f"\nhookline vs minimal FastAPI+mangum: **{hook.median / minimal.median:.2f}x** "
            f"median, {hook.p99 / minimal.p99:.2f}x p99 (goal: <= 1.15x median; "
            f"{'met' if hook.median / minimal.median <= 1.15 else 'NOT met'}); "
            f"vs bare predict: {hook.median / bare.median:.2f}x; "
            f"hookline minus bare predict: {us(hook.median - bare.median)}; "
            f"FastAPI+mangum floor (empty endpoint): {us(empty.median)}\n"
        )
    if cold:
        s, i, b = cold["serving"], cold["import"], cold["baseline"]
        parts.append(
            f"### Cold start ({len(s.seconds)} fresh processes each)\n\n"
            + table(
                [
                    (
                        "Lambda entry file: process start to first /predict answer",
                        f"{s.median * 1000:.0f} ms",
                    ),
                    ("  of which importing the entry file", f"{i.median * 1000:.0f} ms"),
                    ('python -c "import fastapi, sklearn"', f"{b.median * 1000:.0f} ms"),
                ],
                ["case", "median"],
            )
            + f"\n\nratio: **{s.median / b.median:.2f}x**; pandas imported by the entry "
            f"file before the first request: {cold['pandas_at_import']} (pandas arrives with "
            "scikit-learn at the first model load)\n"
        )
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1000, help="requests per case")
    parser.add_argument("--cold", type=int, default=5, help="fresh processes per case")
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        results = [latency(s, args.repeat, root) for s in (args.scenario or list(SCENARIOS))]
        cold = cold_start(args.cold, root) if args.cold > 0 else None
    print(report(results, cold, args.repeat))


if __name__ == "__main__":
    main()
