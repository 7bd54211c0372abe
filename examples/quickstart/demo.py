"""The hookline quickstart, end to end on a local folder (``make demo``).

1. train on batch 1            -> v1 is promoted to production
2. train on batch 2            -> v2 is promoted only if it beats v1 on the same hold-out
3. score a drifted batch       -> drift is detected and a retrain is requested
4. upload a broken file        -> a clear error, and nothing is promoted

Every step goes through the ``hookline`` command line, exactly as you would type it, and the
outcomes are read back from ``hookline runs`` and ``hookline models``. Exits 0 when all four
outcomes are as expected, 1 (with the reason) otherwise.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "hookline.toml"
STORAGE = HERE / ".hookline"
MODEL = "penguins"


class DemoFailed(Exception):
    """An outcome was not the one the quickstart promises."""


def hookline(*args: str, show: bool = False) -> tuple[int, Any]:
    """Run one ``hookline`` command in this process; return its exit code and its JSON
    output (or print it, with ``show``)."""
    from hookline.cli import main

    argv = [*args, "--config", str(CONFIG)]
    if show:
        print(f"\n$ hookline {' '.join(args)}")
        return main(argv), None
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*argv, "--json"])
    try:
        return code, json.loads(out.getvalue())
    except ValueError:
        raise DemoFailed(
            f"`hookline {' '.join(args)}` exited {code} without JSON output:\n"
            f"{out.getvalue()}{err.getvalue()}"
        ) from None


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailed(message)


def upload(pipeline: str, name: str) -> dict[str, Any]:
    """``hookline run -p PIPELINE FILE``, then the run record from ``hookline runs show``."""
    code, results = hookline("run", "--pipeline", pipeline, str(HERE / name))
    expect(len(results) == 1, f"{name}: expected one run, got {results}")
    result = results[0]
    _, record = hookline("runs", "show", result["run_id"])
    return {"code": code, **result, "record": record}


def models() -> dict[str, Any]:
    _, listed = hookline("models")
    found = next((m for m in listed if m["name"] == MODEL), None)
    if found is None:
        return {"versions": 0, "aliases": {}}
    return found


def step(number: int, title: str) -> None:
    print(f"\n[{number}/4] {title}")


def run_demo() -> None:
    shutil.rmtree(STORAGE, ignore_errors=True)
    os.environ.setdefault("HOOKLINE_LOG_LEVEL", "CRITICAL")  # the demo prints outcomes itself

    step(1, "train on batch1.csv (the 2007 season)")
    first = upload("train", "batch1.csv")
    deployed = first["record"]["deployments"]
    expect(
        first["status"] == "succeeded"
        and deployed
        and deployed[0]["version"] == 1
        and deployed[0]["status"] == "promoted",
        f"batch 1 should promote v1, got {first['status']}: {first['message']}",
    )
    expect(models()["aliases"].get("production") == 1, "production should point at v1")
    print(f"      v1 promoted to production  ({_metrics(first['record'])})")

    step(2, "train on batch2.csv (the 2008 season): promoted only if it beats v1")
    second = upload("train", "batch2.csv")
    beats = next((c for c in second["record"]["checks"] if c["name"] == "beats_production"), None)
    expect(beats is not None, "batch 2 should be compared with production (beats_production)")
    state = models()
    if beats["passed"]:
        expect(
            second["status"] == "succeeded" and state["aliases"].get("production") == 2,
            f"v2 beat v1 and should be production: {second['status']} {second['message']}",
        )
        print(f"      v2 promoted: {beats['message']}")
    else:
        expect(
            second["status"] == "rejected" and state["aliases"].get("production") == 1,
            f"v2 did not beat v1 and should be rejected: {second['message']}",
        )
        print(f"      v2 rejected, v1 stays in production: {beats['message']}")
    production = state["aliases"]["production"]
    versions = state["versions"]

    step(3, "score drifted.csv (2009, Biscoe island only): drift is detected")
    scored = upload("score", "drifted.csv")
    reports = scored["record"]["reports"]
    expect(scored["status"] == "succeeded" and reports, f"scoring failed: {scored['message']}")
    report = reports[0]
    expect(report["drifted"], "the drifted batch should be flagged as drifted")
    expect(report["retrain_requested"], "drift should request a retrain (retrain_on_drift)")
    request_uri = report["details"]["retrain_request"]
    request = json.loads(Path(request_uri.removeprefix("file://")).read_text())
    expect(request["status"] == "open", f"the retrain request should be open: {request}")
    drifted = report["details"]["drifted_features"]
    print(f"      drift in {len(drifted)} feature(s): {', '.join(drifted)}")
    print(f"      predictions: {report['details']['predictions']}")
    print(f"      retrain requested: {request_uri}")

    step(4, "upload broken.csv (a semicolon-delimited export): a clear error")
    broken = upload("train", "broken.csv")
    error = broken["record"]["error"] or {}
    expect(
        broken["status"] == "failed" and broken["code"] == 1,
        f"the broken file should fail the run, got {broken['status']}",
    )
    expect(
        "broken.csv" in error.get("message", "") and "semicolons" in error["message"],
        f"the error should name the file and the problem: {error}",
    )
    after = models()
    expect(
        after["versions"] == versions and after["aliases"].get("production") == production,
        f"nothing should be promoted by a broken file: {after}",
    )
    problem = error["message"].splitlines()[0].split("broken.csv: ", 1)[-1]
    print(f"      failed: {problem}")
    print(f"      hint: {error.get('hint')}")
    print(f"      production still v{production}; {versions} version(s) registered")


def _metrics(record: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in record.get("metrics", {}).items())


def main() -> int:
    print(f"hookline quickstart: {CONFIG}")
    print(f"storage: {STORAGE} (fresh)")
    try:
        run_demo()
    except DemoFailed as exc:
        print(f"\nDEMO FAILED: {exc}", file=sys.stderr)
        return 1
    hookline("runs", show=True)
    hookline("models", show=True)
    config, storage = os.path.relpath(CONFIG), os.path.relpath(STORAGE)
    print(f"""
All four outcomes are as expected. Where to look:
  hookline runs --config {config}
      every run, newest first (--json for machines)
  hookline runs show RUN_ID --config {config}
      one run record: data profile, metrics, checks, deployments, drift, error
  hookline models show {MODEL} --config {config}
      versions with metrics and lineage, and the alias history
  {storage}/registry/{MODEL}/    the versions: skops model, schema, reference profile
  {storage}/monitoring/{MODEL}/  drift reports and retrain requests
  {storage}/runs/                run records and predictions""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
