"""A storage root produced by the real runner, for the dashboard and static-report tests.

Runs go through :class:`hookline.runner.Hookline` with a small stand-in stage plugin (csv
module, no pandas) and the real ``reports`` plugin, so the run records, the index, the
manifests and the alias histories are written by the real core code, never by hand.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from hookline import CheckResult, Dataset, Deployment, MonitorReport, TrainedModel, hookimpl
from hookline._manager import make_plugin_manager
from hookline.cli._app import event_for
from hookline.config import parse_config
from hookline.errors import TransientError
from hookline.events import utc_now_iso
from hookline.plugins import reports
from hookline.runner import Hookline, RunResult

CONFIG = {
    "project": {"name": "dash"},
    "pipelines": {
        "train": {
            "model": "churn",
            "stages": ["ingest", "train", "validate", "deploy"],
            "trigger": {"prefix": "landing/train/", "suffix": ".csv"},
        },
        "score": {
            "model": "churn",
            "stages": ["ingest", "monitor"],
            "trigger": {"prefix": "landing/score/", "suffix": ".csv"},
        },
    },
}
PSI_THRESHOLD = 0.2


def table(rows: int, *, shift: float = 0.0, seed: int = 0) -> bytes:
    out = io.StringIO()
    out.write("tenure,charges,churned\n")
    for i in range(rows):
        tenure = (i * 7 + seed) % 60 + shift * 40
        out.write(f"{tenure:.1f},{20 + (i * 13 + seed) % 80:.1f},{int(tenure < 12)}\n")
    return out.getvalue().encode()


class StandIn:
    """Ingest, train, validate, deploy and monitor with the standard library only."""

    def __init__(self) -> None:
        self.fail_train = False
        self.transient = False
        self.stage_only = False

    @hookimpl
    def ingest(self, ctx, source):
        with open(source.path, newline="") as fh:
            rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(fh)]
        columns = {
            name: {
                "nulls": 0,
                "mean": round(statistics.fmean(r[name] for r in rows), 3),
                "min": min(r[name] for r in rows),
                "max": max(r[name] for r in rows),
            }
            for name in rows[0]
        }
        return Dataset(
            frame=rows,
            schema={c: {"dtype": "float64"} for c in columns},
            profile={"rows": len(rows), "columns": columns},
            target="churned",
            source=source,
        )

    @hookimpl
    def train(self, ctx, dataset):
        if self.transient:
            raise TransientError("storage throttled: try again")
        if self.fail_train:
            raise ValueError("target column 'churned' has a single class: cannot fit")
        n = len(dataset.frame)
        return TrainedModel(
            estimator=None,
            task="classification",
            features={"tenure": {"dtype": "float64"}, "charges": {"dtype": "float64"}},
            target="churned",
            metrics={"accuracy": round(0.8 + n / 10000, 4), "f1": round(0.7 + n / 20000, 4)},
            params={"max_depth": 3},
            reference_profile={"tenure": {"mean": 30.0}},
        )

    @hookimpl
    def validate(self, ctx, dataset, model):
        n = len(dataset.frame)
        return [
            CheckResult(
                "min_rows", n >= 50, n, 50, message="" if n >= 50 else f"only {n} rows, need 50"
            ),
            CheckResult(
                "metric.accuracy",
                model.metrics["accuracy"] >= 0.75,
                model.metrics["accuracy"],
                0.75,
                kind="model",
            ),
        ]

    @hookimpl
    def deploy(self, ctx, model, checks):
        trigger = ctx.storage_event
        mv = ctx.registry.register(
            ctx.model_name,
            {"model.bin": b"stand-in"},
            {
                "run_id": ctx.run_id,
                "metrics": dict(model.metrics),
                "lineage": {"uri": trigger.uri, "version": trigger.version},
            },
        )
        alias = "staging" if self.stage_only else ctx.pipeline.alias
        ctx.registry.move_alias(
            ctx.model_name, alias, mv.version, run_id=ctx.run_id, reason="passed every gate"
        )
        return Deployment(
            "registry",
            ctx.model_name,
            mv.version,
            alias,
            "staged" if self.stage_only else "promoted",
        )

    @hookimpl
    def monitor(self, ctx, dataset):
        features = {}
        for name in ("tenure", "charges"):
            mean = statistics.fmean(r[name] for r in dataset.frame)
            psi = round(abs(mean - 30.0) / 60.0 if name == "tenure" else 0.02, 4)
            features[name] = {
                "psi": psi,
                "ks_pvalue": 0.5 if psi < PSI_THRESHOLD else 0.001,
                "drifted": psi > PSI_THRESHOLD,
                "threshold": PSI_THRESHOLD,
            }
        drifted = any(f["drifted"] for f in features.values())
        accuracy = round(0.9 - features["tenure"]["psi"], 4)
        prod = ctx.registry.alias(ctx.model_name, "production")
        report = MonitorReport(
            "drift",
            ctx.model_name,
            prod.version if prod else None,
            drifted,
            features,
            {"accuracy": accuracy},
            retrain_requested=drifted,
        )
        base = f"monitoring/{ctx.model_name}/"
        ctx.storage.write(
            f"{base}reports/{ctx.run_id}.json",
            json.dumps(
                {**asdict(report), "run_id": ctx.run_id, "created_at": utc_now_iso()}
            ).encode(),
        )
        if drifted:
            ctx.storage.write(
                f"{base}retrain/{ctx.run_id}.json",
                json.dumps(
                    {
                        "model": ctx.model_name,
                        "requested_at": utc_now_iso(),
                        "reason": "drift in tenure",
                        "run_id": ctx.run_id,
                        "status": "open",
                    }
                ).encode(),
            )
        return report


class Project:
    """A storage root with a runner over it."""

    def __init__(self, root: Path, plugins: dict[str, Any] | None = None) -> None:
        self.root = root
        self.plugin = StandIn()
        config = parse_config(
            {**CONFIG, "project": {"name": "dash", "storage": str(root)}, "plugins": plugins or {}}
        )
        pm = make_plugin_manager(
            plugins={"stand-in": self.plugin, "reports": reports}, entry_points_group=None
        )
        self.app = Hookline(config, pm=pm)
        self.config = config
        self.results: dict[str, RunResult] = {}

    def upload(self, name: str, key: str, data: bytes) -> RunResult:
        info = self.app.storage.write(key, data)
        (result,) = self.app.handle(event_for(self.app.storage, info))
        self.results[name] = result
        return result


def build(root: Path) -> Project:
    """Two promoted versions, a staged one waiting for approval, a rejected run, a failed
    run, and three monitoring batches of which the last has drifted."""
    p = Project(root)
    p.upload("v1", "landing/train/jan.csv", table(200))
    p.upload("v2", "landing/train/feb.csv", table(400, seed=3))
    p.upload("rejected", "landing/train/tiny.csv", table(20))
    p.plugin.fail_train = True
    p.upload("failed", "landing/train/broken.csv", table(100))
    p.plugin.fail_train = False
    p.plugin.stage_only = True
    p.upload("v3", "landing/train/mar.csv", table(600, seed=5))
    p.plugin.stage_only = False
    p.upload("score1", "landing/score/w1.csv", table(100))
    p.upload("score2", "landing/score/w2.csv", table(100, shift=0.1))
    p.upload("drift", "landing/score/w3.csv", table(100, shift=0.6))
    return p


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return build(tmp_path_factory.mktemp("dash") / "store")


def run_id(project: Project, name: str) -> str:
    rid = project.results[name].run_id
    assert rid is not None
    return rid


def record(project: Project, name: str) -> dict[str, Any]:
    rec = project.app.runs.get(run_id(project, name))
    assert rec is not None
    return rec
