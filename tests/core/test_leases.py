"""Leases on run claims: a job's heartbeat keeps a multi-hour run its own, a dead holder's
lease ends, and a function's lease ends at its own deadline. Time is simulated."""

from __future__ import annotations

from pathlib import Path

import pytest
from hookline import jsonio, layout
from hookline.errors import TransientStorageError
from hookline.events import StorageEvent
from hookline.runs import Heartbeat, RunStore, current_deadline, function_deadline
from hookline.storage import open_storage


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


EVENT = StorageEvent(uri="file:///x/landing/a.csv", bucket="", key="landing/a.csv", etag="e1")
RUN = "train-0123456789abcdef0123"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> RunStore:
    return RunStore(open_storage(str(tmp_path / "root")), claim_timeout=900, clock=clock)


def _doc(store: RunStore) -> dict:
    return jsonio.loads(store.storage.read(layout.run_claim_key(RUN)))


def test_a_lease_survives_a_four_hour_job_with_heartbeats(store: RunStore, clock: Clock):
    claim = store.claim(RUN, EVENT, "train", holder="job", lease_seconds=180, job="hl-a-1")
    assert claim.acquired and claim.token
    beat = Heartbeat(store, RUN, claim.token, every=60, lease=180)
    redeliveries = []
    for minute in range(1, 4 * 60 + 1):  # four hours, one renewal a minute
        clock.advance(60)
        assert beat.beat(), f"lost the lease after {minute} minutes"
        if minute % 15 == 0:  # a redelivery (or a second job) every quarter of an hour
            other = store.claim(RUN, EVENT, "train", holder="job", lease_seconds=180, job="hl-a-2")
            redeliveries.append(other.state)
            assert other.holder and other.holder["job"] == "hl-a-1"
    assert beat.beats == 240 and not beat.lost
    assert set(redeliveries) == {"in_progress"} and len(redeliveries) == 16
    doc = _doc(store)
    assert doc["token"] == claim.token and doc["attempt"] == 1
    assert doc["lease_expires_epoch"] == clock.now + 180

    # The job dies: no more heartbeats. Its lease ends 180 s after the last renewal.
    clock.advance(179)
    assert store.claim(RUN, EVENT, "train", holder="job", lease_seconds=180).state == "in_progress"
    clock.advance(2)
    taken = store.claim(RUN, EVENT, "train", holder="job", lease_seconds=180, job="hl-a-2")
    assert (taken.acquired, taken.state, taken.attempt) == (True, "restarted", 2)
    assert taken.holder and taken.holder["job"] == "hl-a-1"
    # The old holder's next heartbeat finds the claim is someone else's and stops.
    assert beat.beat() is False and beat.lost


def test_exactly_one_of_eight_takes_over_a_dead_lease(store: RunStore, clock: Clock):
    from concurrent.futures import ThreadPoolExecutor

    store.claim(RUN, EVENT, "train", holder="job", lease_seconds=30)
    clock.advance(31)
    with ThreadPoolExecutor(8) as pool:
        claims = list(
            pool.map(
                lambda i: store.claim(
                    RUN, EVENT, "train", holder="job", lease_seconds=30, job=f"j{i}"
                ),
                range(8),
            )
        )
    assert sum(c.acquired for c in claims) == 1
    assert {c.state for c in claims if not c.acquired} == {"in_progress"}


def test_a_function_lease_ends_at_its_deadline_not_after_the_claim_timeout(store, clock):
    deadline = clock.now + 30  # e.g. Lambda's get_remaining_time_in_millis() = 30000
    claim = store.claim(RUN, EVENT, "train", lease_until=deadline)
    assert claim.acquired
    assert _doc(store)["lease_expires_epoch"] == deadline
    clock.advance(29)
    assert store.peek(RUN).live
    clock.advance(2)  # the function timed out; the platform retries a minute later at most
    view = store.peek(RUN)
    assert not view.live and view.died and view.holder == "function"
    assert store.claim(RUN, EVENT, "train").state == "restarted"


def test_without_a_deadline_the_claim_timeout_still_applies(store, clock):
    store.claim(RUN, EVENT, "train")
    clock.advance(899)
    assert store.claim(RUN, EVENT, "train").state == "in_progress"
    clock.advance(2)
    assert store.claim(RUN, EVENT, "train").state == "restarted"


def test_a_claim_written_before_leases_ends_after_the_claim_timeout(store, clock):
    old = {"run_id": RUN, "claimed_epoch": clock.now, "attempt": 1, "token": "t", "released": False}
    store.storage.write(layout.run_claim_key(RUN), jsonio.dumps(old))
    clock.advance(600)
    assert store.peek(RUN).live
    clock.advance(301)
    assert store.claim(RUN, EVENT, "train").state == "restarted"


def test_a_broken_lease_is_released_only_for_the_job_that_held_it(store, clock):
    store.claim(RUN, EVENT, "train", holder="job", lease_seconds=180, job="hl-x-1")
    assert store.break_lease(RUN, job="hl-x-2", reason="not mine") is False
    assert store.peek(RUN).live
    assert store.break_lease(RUN, job="hl-x-1", reason="aws-batch job hl-x-1 FAILED")
    view = store.peek(RUN)
    assert not view.live and view.released and not view.died
    assert view.doc["last_error"] == "aws-batch job hl-x-1 FAILED"


def test_renewals_that_storage_refuses_keep_the_lease_until_it_ends(store, clock, monkeypatch):
    claim = store.claim(RUN, EVENT, "train", holder="job", lease_seconds=180)
    beat = Heartbeat(store, RUN, claim.token, every=60, lease=180)

    def throttled(*args, **kwargs):
        raise TransientStorageError("SlowDown")

    monkeypatch.setattr(store, "renew", throttled)
    clock.advance(60)
    assert beat.beat() and beat.failures == 1 and not beat.lost
    clock.advance(60)
    assert beat.beat()
    clock.advance(61)  # 181 s without a renewal: the lease has ended, others may take over
    assert beat.beat() is False and beat.lost


def test_the_heartbeat_thread_renews_and_stops(tmp_path):
    store = RunStore(open_storage(str(tmp_path / "r")))
    claim = store.claim(RUN, EVENT, "train", holder="job", lease_seconds=3)
    calls = []
    with Heartbeat(store, RUN, claim.token, every=0.05, lease=3, on_beat=calls.append) as beat:
        import time

        deadline = time.monotonic() + 5
        while beat.beats < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    count = beat.beats
    assert count >= 3 and calls[:3] == [3.0, 3.0, 3.0]
    import time

    time.sleep(0.2)
    assert beat.beats == count, "no renewal after stop()"


def test_a_lease_must_outlast_its_heartbeat(store):
    with pytest.raises(ValueError, match="does not outlast"):
        Heartbeat(store, RUN, "t", every=60, lease=60)


def test_the_function_deadline_scope_and_the_timeout_setting(monkeypatch):
    monkeypatch.delenv("HOOKLINE_FUNCTION_TIMEOUT_SECONDS", raising=False)
    assert current_deadline(100.0) is None
    with function_deadline(123.0):
        assert current_deadline(100.0) == 123.0
    monkeypatch.setenv("HOOKLINE_FUNCTION_TIMEOUT_SECONDS", "540")
    assert current_deadline(100.0) == 640.0
    monkeypatch.setenv("HOOKLINE_FUNCTION_TIMEOUT_SECONDS", "soon")
    assert current_deadline(100.0) is None
