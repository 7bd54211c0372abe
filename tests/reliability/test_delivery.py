"""Duplicate and out-of-order delivery: every event delivered 1-3 times, shuffled, by
several instances at once, against each storage back-end: exactly one run per object
version, no version lost, every promoted model intact."""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict

import pytest
from hookline.runs import FINAL

from ._audit import audit, run_records
from ._counters import record
from ._platform import deliver
from ._stack import MODEL, TRAIN_PREFIX, Project, training_csv
from .conftest import Scale, backend_params


@pytest.mark.parametrize("backend", backend_params(fast=("local", "azure")))
def test_every_object_version_runs_exactly_once(scale: Scale, project: Project) -> None:
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    keys = scale.pick(5, 24)
    overwrites = scale.pick(2, 8)
    sha_of_version: dict[str, str] = {}
    versions_of_key: dict[str, list[str]] = defaultdict(list)
    events = []
    for n in range(keys + overwrites):
        key = f"{TRAIN_PREFIX}batch {n % keys:03d}+é.csv"  # spaces, '+', non-ASCII
        data = training_csv(seed + n)
        event = project.upload(key, data)
        events.append(event)
        sha_of_version[event.identity] = hashlib.sha256(data).hexdigest()
        versions_of_key[event.uri].append(event.identity)
    assert len({e.identity for e in events}) == len(events), "each upload is a new version"

    deliveries = [e for e in events for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)
    record("duplicates_injected", len(deliveries) - len(events))
    outcome = deliver(project.app, deliveries, workers=scale.pick(3, 8), retries=20)

    context = f"(seed {seed}, {len(deliveries)} deliveries of {len(events)} versions)"
    assert not outcome.unexpected, context
    assert not outcome.given_up, context
    # The only retries: duplicates that arrived while their twin was running.
    assert all("held by another invocation" in why for _, why in outcome.transient)
    by_identity = outcome.by_identity()
    assert set(by_identity) == {e.identity for e in events}, f"a version was lost {context}"
    for identity, results in by_identity.items():
        executed = [r for r in results if r.status in FINAL]
        assert len(executed) == 1, f"{identity}: {[r.status for r in results]} {context}"
        assert executed[0].status == "succeeded", executed[0].message
        assert {r.status for r in results} <= {"succeeded", "duplicate", "in_progress"}

    # The bytes in storage: one claim and one record per version, attempt 1 each.
    storage = project.storage
    claims = [i.key for i in storage.list("runs/") if i.key.endswith("/claim.json")]
    records = run_records(storage)
    expected_runs = {e.run_id("train") for e in events}
    assert {k.split("/")[1] for k in claims} == expected_runs, context
    assert len(claims) == len(expected_runs)
    assert {r["run_id"] for r in records} == expected_runs, context
    assert len(records) == len(events)
    identity_of_run = {e.run_id("train"): e.identity for e in events}
    for rec in records:
        assert rec["attempt"] == 1 and rec["status"] == "succeeded", rec["run_id"]
        identity = identity_of_run[rec["run_id"]]
        trigger = rec["trigger"]
        # The run trained on the bytes it says it read: the delivered version's, or (an
        # out-of-order delivery of an overwritten key) a later version's, named as such.
        if trigger["read_version"] == trigger["version"]:
            assert trigger["sha256"] == sha_of_version[identity]
        else:
            later = versions_of_key[trigger["uri"]]
            assert trigger["sha256"] in {sha_of_version[i] for i in later}

    found = audit(storage, MODEL, records=records)
    assert found, found.problems
    assert len(found.versions) == len(events), "one version per successful run"
    manifests = [project.registry.get(MODEL, v).manifest for v in found.versions]
    assert sorted(m["run_id"] for m in manifests) == sorted(expected_runs)
    assert found.alias is not None and found.alias.seq == len(events)
