"""What "no model lost or corrupted" means, checked against the bytes in storage.

* every complete version (manifest written) has every artifact the manifest lists, with
  the recorded sha256, and its model loads through the registry's verified path;
* the alias points at a complete version, and its history has no gap: ``seq`` runs
  1..N, each entry's ``previous`` is the version the entry before it set;
* every run that says it deployed version V finds V complete, written by that run.

:class:`AliasReader` checks the same, continuously, while other threads and processes run.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hookline import modelio
from hookline.errors import HooklineError, NotFound
from hookline.registry import AliasState, Registry
from hookline.storage import Storage, open_storage

from ._counters import record

__all__ = ["AliasReader", "Audit", "audit", "history_problems", "run_records"]


def history_problems(state: AliasState) -> list[str]:
    """Gaps or inconsistencies in an alias's history."""
    problems: list[str] = []
    previous: Any = None
    for index, entry in enumerate(state.history, start=1):
        if entry.get("seq") != index:
            problems.append(f"history entry {index} has seq {entry.get('seq')}")
        if entry.get("previous") != previous:
            problems.append(
                f"history entry {index}: previous={entry.get('previous')}, "
                f"but the entry before set version {previous}"
            )
        previous = entry.get("version")
    if state.history and state.version != previous:
        problems.append(f"alias points at {state.version}, its last move set {previous}")
    if state.seq != len(state.history):
        problems.append(f"alias seq {state.seq} but {len(state.history)} history entries")
    return problems


def run_records(storage: Storage) -> list[dict[str, Any]]:
    """Every final run record under ``runs/``."""
    out = []
    for info in storage.list("runs/"):
        if info.key.endswith("/record.json") and not info.key.startswith("runs/index/"):
            out.append(json.loads(storage.read(info.key)))
    return out


@dataclass
class Audit:
    versions: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    alias: AliasState | None = None

    def __bool__(self) -> bool:
        return not self.problems


def audit(
    storage: Storage,
    model: str,
    *,
    alias: str = "production",
    records: Iterable[Mapping[str, Any]] | None = None,
    load: bool = True,
    count: bool = True,
) -> Audit:
    """Check the registry of ``model`` in ``storage`` (and, given run records, that every
    deployed version is there); return what was found.

    :param load: also load the alias's model through the registry's verified path.
    :param count: add the figures to the suite's counters (not for damage planted on
        purpose by a test).
    """
    registry = Registry(storage)
    result = Audit()
    complete = {}
    for mv in registry.versions(model):
        complete[mv.version] = mv
        prefix = f"registry/{model}/versions/{mv.version:06d}/"
        if mv.manifest.get("version") != mv.version:
            result.problems.append(f"v{mv.version}: manifest says {mv.manifest.get('version')}")
        for name, meta in mv.artifacts.items():
            try:
                data = storage.read(prefix + name)
            except NotFound:
                result.problems.append(f"v{mv.version}: artifact {name} missing")
                continue
            if modelio.sha256(data) != meta.get("sha256") or len(data) != meta.get("size"):
                result.problems.append(f"v{mv.version}: artifact {name} differs from manifest")
    result.versions = sorted(complete)
    state = registry.alias(model, alias)
    result.alias = state
    if state is not None:
        result.problems += [f"alias {alias}: {p}" for p in history_problems(state)]
        if state.version is not None and state.version not in complete:
            result.problems.append(f"alias {alias} points at incomplete version {state.version}")
        elif state.version is not None and load:
            try:
                registry.load_model(model, alias=alias)
            except HooklineError as exc:
                result.problems.append(f"alias {alias}: model does not load: {exc}")
    for rec in records or ():
        if rec.get("status") != "succeeded":
            continue
        for dep in rec.get("deployments") or ():
            version = dep.get("version")
            mv = complete.get(version)
            if mv is None:
                result.problems.append(f"run {rec['run_id']} deployed v{version}: lost")
            elif mv.manifest.get("run_id") != rec["run_id"]:
                result.problems.append(
                    f"run {rec['run_id']} deployed v{version}, written by "
                    f"{mv.manifest.get('run_id')}"
                )
    if count:
        record("models_checked", len(complete))
        record("models_lost_or_corrupted", len(result.problems))
    return result


class AliasReader(threading.Thread):
    """Polls an alias and verifies what it points at, as serving would, until stopped.

    Violations: the alias points at a version without a manifest; an artifact is missing
    or its sha256 differs; the alias's ``seq`` goes backwards; its history has a gap.

    :param root: the storage root URI (the reader opens its own client).
    """

    def __init__(self, root: str, model: str, alias: str = "production") -> None:
        super().__init__(name=f"alias-reader-{alias}", daemon=True)
        self.root, self.model, self.alias = root, model, alias
        self.reads = 0
        self.seen: set[int] = set()
        self.violations: list[str] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        registry = Registry(open_storage(self.root))
        last_seq = 0
        while not self._stop_event.is_set():
            try:
                last_seq = max(last_seq, self._check(registry, last_seq))
            except HooklineError as exc:
                self.violations.append(f"read failed: {exc}")
            time.sleep(0.005)

    def _check(self, registry: Registry, last_seq: int) -> int:
        """Check the alias once; return the seq it had."""
        state = registry.alias(self.model, self.alias)
        self.reads += 1
        if state is None or state.version is None:
            return state.seq if state else 0
        if state.seq < last_seq:
            self.violations.append(f"seq went back from {last_seq} to {state.seq}")
        self.violations += history_problems(state)
        try:
            mv = registry.get(self.model, state.version)
        except NotFound:
            self.violations.append(f"alias points at v{state.version}, which has no manifest")
            return state.seq
        for name in mv.artifacts:
            try:
                registry.read_artifact(self.model, state.version, name)
            except HooklineError as exc:
                self.violations.append(f"v{state.version} {name}: {exc}")
        self.seen.add(state.version)
        return state.seq

    def stop(self) -> AliasReader:
        """Stop polling, wait for the thread, record the figures; return self."""
        self._stop_event.set()
        self.join(timeout=30)
        record("alias_reads", self.reads)
        record("models_lost_or_corrupted", len(self.violations))
        return self

    def __enter__(self) -> AliasReader:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.is_alive():
            self.stop()
