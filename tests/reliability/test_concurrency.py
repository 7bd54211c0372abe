"""Concurrency: trainings and promotions at once (8 in threads; 16 in threads of 4
processes for the soak suite) against every back-end. Versions are unique, the alias always points
at a complete, verified version while it moves, and its history has no gap."""

from __future__ import annotations

import json
import multiprocessing
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hookline.errors import NotFound, PreconditionFailed, UsageError
from hookline.registry import Registry
from hookline.storage import open_storage

from ._audit import AliasReader, audit, run_records
from ._counters import record
from ._stack import MODEL, TRAIN_PREFIX, Project, make_project, training_csv
from ._workers import train_concurrently
from .conftest import Scale, backend_params

PROMOTERS = 2


class Promoter(threading.Thread):
    """Moves the alias by hand while trainings run: approves a random complete version,
    or rolls back; counts the moves that went through."""

    def __init__(self, root: str, seed: int, done: threading.Event) -> None:
        super().__init__(daemon=True)
        self.root, self.rng, self.done = root, random.Random(seed), done
        self.moves = 0
        self.errors: list[str] = []

    def run(self) -> None:
        registry = Registry(open_storage(self.root))
        while not self.done.is_set():
            time.sleep(self.rng.uniform(0.01, 0.05))
            state = registry.alias(MODEL, "production")
            if state is None or state.version is None:
                continue
            try:
                if self.rng.random() < 0.3:
                    registry.rollback(MODEL, reason="reliability: rollback under load")
                else:
                    target = self.rng.randint(1, state.version)
                    registry.approve(MODEL, target, reason="reliability: manual promotion")
                self.moves += 1
            except (PreconditionFailed, UsageError, NotFound):
                # lost a race, nothing to roll back to, or the version picked is still
                # being written (the registry refuses to point at it): all fine
                continue
            except Exception as exc:  # noqa: BLE001 - anything else is a finding
                self.errors.append(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("backend", backend_params(fast=("local", "gcs")))
def test_concurrent_trainings_and_promotions(scale: Scale, project: Project) -> None:
    """8 trainings in threads (fast); 16 as 4 threads in each of 4 processes (soak)."""
    seed = random.randrange(10**6)
    trainings = scale.pick(8, 16)
    events = [
        project.upload(f"{TRAIN_PREFIX}part-{i:02d}.csv", training_csv(seed + i))
        for i in range(trainings)
    ]
    processes = scale.pick(1, 4)
    groups = [[e.to_dict() for e in events[i::processes]] for i in range(processes)]
    done = threading.Event()
    promoters = [Promoter(project.root, seed + 100 + i, done) for i in range(PROMOTERS)]
    with AliasReader(project.root, MODEL) as reader:
        for promoter in promoters:
            promoter.start()
        if processes == 1:
            rows = train_concurrently(
                str(project.folder), project.root, groups[0], threading.Barrier(1)
            )
        else:
            ctx = multiprocessing.get_context("spawn")
            with ctx.Manager() as manager:
                barrier = manager.Barrier(processes)
                with ctx.Pool(processes) as pool:
                    parts = pool.starmap(
                        train_concurrently,
                        [(str(project.folder), project.root, g, barrier) for g in groups],
                    )
            rows = [row for part in parts for row in part]
        time.sleep(0.2)  # let the promoters and the reader see the final state
        done.set()
        for promoter in promoters:
            promoter.join(timeout=30)
        reader.stop()

    context = f"(seed {seed}, {processes} process(es))"
    assert [r for r in rows if r["status"] != "succeeded"] == [], context
    versions = [r["version"] for r in rows]
    assert len(set(versions)) == trainings, f"versions not unique: {sorted(versions)} {context}"
    moves = sum(p.moves for p in promoters)
    assert [e for p in promoters for e in p.errors] == []
    record("concurrent_runs", trainings + moves)

    assert reader.violations == [], reader.violations[:5]
    assert reader.reads > 0 and reader.seen, "the reader saw the alias move"
    found = audit(project.storage, MODEL, records=run_records(project.storage))
    assert found, found.problems
    assert found.versions == list(range(1, trainings + 1)), "no version lost or doubled"
    assert found.alias is not None
    assert len(found.alias.history) == trainings + moves, "every move is in the history"


def test_concurrent_cli_runs_of_one_file_name_all_run(tmp_path: Path) -> None:
    """8 ``hookline run`` processes land a different ``batch.csv`` each under the same key
    at once: every upload is its own object (its own etag, so its own run id) and runs.
    Local storage used to stat the name after the rename and could report another
    writer's file, so two uploads shared a run id and one never ran."""
    project = make_project(tmp_path / "project", str(tmp_path / "root"))
    hookline = Path(sys.executable).with_name("hookline")
    procs = []
    for i in range(8):
        folder = tmp_path / f"client{i}"
        folder.mkdir()
        (folder / "batch.csv").write_bytes(training_csv(100 + i))
        procs.append(
            subprocess.Popen(
                [
                    str(hookline),
                    "run",
                    "--json",
                    "--config",
                    str(project.config_path),
                    str(folder / "batch.csv"),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
        results.extend(json.loads(out))
    assert len(results) == 8
    assert sorted({r["status"] for r in results}) in (["succeeded"], ["rejected", "succeeded"])
    assert len({r["run_id"] for r in results}) == 8, results
    assert len(run_records(project.storage)) == 8
    record("events_delivered", 8)


class CliOperator(threading.Thread):
    """An operator at a terminal: ``hookline models promote`` and ``rollback``, each its own
    process, while trainings run. Counts moves that went through and keeps every answer
    that was not one (a lost race must be a clear refusal, never a traceback)."""

    def __init__(self, config: Path, root: str, seed: int, done: threading.Event) -> None:
        super().__init__(daemon=True)
        self.config, self.root, self.rng, self.done = config, root, random.Random(seed), done
        self.moves = 0
        self.refusals: list[str] = []
        self.errors: list[str] = []

    def run(self) -> None:
        hookline = str(Path(sys.executable).with_name("hookline"))
        registry = Registry(open_storage(self.root))
        while not self.done.is_set():
            state = registry.alias(MODEL, "production")
            if state is None or state.version is None:
                time.sleep(0.05)
                continue
            if self.rng.random() < 0.4:
                args = ["models", "rollback", MODEL, "--reason", "operator: rollback"]
            else:
                target = f"{MODEL}/{self.rng.randint(1, state.version)}"
                args = ["models", "promote", target, "--alias", "production"]
            proc = subprocess.run(
                [hookline, *args, "--config", str(self.config)],
                capture_output=True,
                text=True,
                timeout=120,
            )
            if proc.returncode == 0:
                self.moves += 1
            elif "Traceback" in proc.stderr or not proc.stderr.strip().startswith("error:"):
                self.errors.append(f"{args}: exit {proc.returncode}: {proc.stderr[-800:]}")
            else:
                self.refusals.append(proc.stderr.strip().splitlines()[0])


class DashboardOperator(threading.Thread):
    """An operator in the dashboard: approve and roll back through its forms (CSRF token,
    the ``expected`` version the page showed), while trainings run."""

    def __init__(self, project: Project, seed: int, done: threading.Event) -> None:
        super().__init__(daemon=True)
        self.project, self.rng, self.done = project, random.Random(seed), done
        self.moves = 0
        self.answers: dict[int, int] = {}
        self.errors: list[str] = []

    def run(self) -> None:
        import re

        from fastapi.testclient import TestClient
        from hookline.adapters.dashboard._auth import Auth
        from hookline.adapters.dashboard.app import create_app

        app = create_app(
            self.project.root,
            config=str(self.project.config_path),
            auth=Auth([], local_operator="operator"),
        )
        with TestClient(app, follow_redirects=False) as client:
            while not self.done.is_set():
                time.sleep(self.rng.uniform(0.02, 0.1))
                page = client.get(f"/models/{MODEL}")
                token = re.search(r'name="csrf" value="([^"]+)"', page.text)
                state = self.project.registry.alias(MODEL, "production")
                if page.status_code != 200 or token is None or state is None:
                    continue
                shown = str(state.version)
                if self.rng.random() < 0.4:
                    path, data = "rollback", {"alias": "production", "expected": shown}
                else:
                    target = str(self.rng.randint(1, state.version or 1))
                    path, data = "promote", {"version": target, "expected": shown}
                answer = client.post(
                    f"/models/{MODEL}/{path}", data={**data, "csrf": token.group(1)}
                )
                self.answers[answer.status_code] = self.answers.get(answer.status_code, 0) + 1
                if answer.status_code == 303:
                    self.moves += 1
                elif answer.status_code in (404, 409) or (
                    # nothing to roll back to (the history holds one version): a refusal
                    path == "rollback" and answer.status_code == 400 and "roll" in answer.text
                ):
                    continue
                else:
                    self.errors.append(f"{path} {data}: {answer.status_code} {answer.text[:300]}")


@pytest.mark.parametrize("backend", backend_params(fast=("local",)))
def test_operators_move_the_alias_while_trainings_promote(project: Project) -> None:
    """8 trainings with ``must_beat_production`` while one operator promotes and rolls back
    from the command line and another from the dashboard. Each training's promotion is
    bound to the production it was compared with; the operators' moves are theirs; nothing
    is lost from the history, and a lost race is a refusal (409, a clear error), never a
    crash."""
    make_project(project.folder, project.root, must_beat_production="true")
    seed = random.randrange(10**6)
    [first] = project.app().handle(project.upload(f"{TRAIN_PREFIX}seed.csv", training_csv(seed)))
    assert first.status == "succeeded", first.message
    events = [
        project.upload(f"{TRAIN_PREFIX}part-{i:02d}.csv", training_csv(seed + 1 + i)).to_dict()
        for i in range(8)
    ]
    done = threading.Event()
    cli = CliOperator(project.config_path, project.root, seed, done)
    web = DashboardOperator(project, seed + 1, done)
    with AliasReader(project.root, MODEL) as reader:
        cli.start()
        web.start()
        rows = train_concurrently(str(project.folder), project.root, events, threading.Barrier(1))
        time.sleep(1.0)  # let each operator act at least once on the final state
        done.set()
        cli.join(timeout=150)
        web.join(timeout=30)
        reader.stop()

    context = f"(seed {seed})"
    assert {r["status"] for r in rows} <= {"succeeded", "rejected"}, (rows, context)
    assert cli.errors == [] and web.errors == [], (cli.errors, web.errors)
    assert cli.moves + len(cli.refusals) > 0 and sum(web.answers.values()) > 0
    assert reader.violations == [], reader.violations[:5]
    found = audit(project.storage, MODEL, records=run_records(project.storage))
    assert found, found.problems
    assert found.alias is not None
    history = found.alias.history
    trained = [e for e in history if e.get("run_id") and e["action"] == "promote"]
    promoted = [r for r in rows if r["status"] == "succeeded"]
    assert len(trained) == 1 + len(promoted), "one move per promoted run"
    assert len(history) == len(trained) + cli.moves + web.moves, "every move is in the history"
    stale = [
        (e["seq"], (e.get("evidence") or {}).get("compared_with"), e["previous"])
        for e in trained[1:]
        if (e.get("evidence") or {}).get("compared_with") != e["previous"]
    ]
    assert stale == [], f"promotions compared with a stale production: {stale} {context}"
    record("concurrent_runs", len(rows) + cli.moves + web.moves)
