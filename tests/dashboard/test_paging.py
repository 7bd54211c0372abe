"""``RunStore.page``: cursor paging of the run index, filters on keys, bounded reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hookline.runs import RunStore
from hookline.storage import LocalStorage


class CountingStorage(LocalStorage):
    """A local root that counts object reads, to prove a page reads only what it shows."""

    reads = 0

    def read(self, key: str) -> bytes:
        type(self).reads += 1
        return super().read(key)


T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def iso(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def store(tmp_path) -> RunStore:
    storage = CountingStorage(tmp_path)
    runs = RunStore(storage)
    for i in range(40):
        pipeline = "score" if i % 4 == 3 else "train"
        runs.save(
            {
                "run_id": f"{pipeline}-{i:020x}",
                "pipeline": pipeline,
                "model": "m" if i % 2 else "n",
                "status": "failed" if i % 10 == 0 else "succeeded",
                "started_at": iso(i),
                "trigger": {"uri": f"file:///x/{i}.csv"},
            }
        )
    CountingStorage.reads = 0
    return runs


def number(summary: dict) -> int:
    return int(summary["run_id"].rsplit("-", 1)[1], 16)


def test_pages_are_newest_first_and_cover_every_run_once(store: RunStore) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        page = store.page(7, after=cursor)
        seen += [number(s) for s in page.runs]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(range(39, -1, -1))
    assert pages == 6  # 7+7+7+7+7+5: the last page says there is no next one


def test_a_page_reads_only_the_summaries_it_shows(store: RunStore) -> None:
    page = store.page(5)
    assert len(page.runs) == 5 and CountingStorage.reads == 5
    CountingStorage.reads = 0
    deeper = store.page(5, after=store.page(5, after=page.next_cursor).next_cursor)
    assert [number(s) for s in deeper.runs] == [29, 28, 27, 26, 25]
    assert CountingStorage.reads == 10  # the middle page and this one; nothing skipped is read


def test_pipeline_filter_is_applied_to_keys_without_reading(store: RunStore) -> None:
    page = store.page(100, pipeline="score")
    assert [number(s) for s in page.runs] == [39, 35, 31, 27, 23, 19, 15, 11, 7, 3]
    assert CountingStorage.reads == 10


def test_status_and_model_filters(store: RunStore) -> None:
    failed = store.page(100, status="failed")
    assert [number(s) for s in failed.runs] == [30, 20, 10, 0]
    both = store.page(100, status="succeeded", model="m", pipeline="train")
    assert all(s["model"] == "m" and s["pipeline"] == "train" for s in both.runs)
    assert [number(s) for s in both.runs][:3] == [37, 33, 29]


def test_time_window_is_applied_to_keys(store: RunStore) -> None:
    page = store.page(100, started_after=iso(10), started_before=iso(15))
    assert [number(s) for s in page.runs] == [14, 13, 12, 11, 10]
    assert CountingStorage.reads == 5
    assert store.page(100, started_after=iso(100)).runs == ()
    assert store.page(100, started_before=iso(0)).runs == ()


def test_sparse_filters_stop_at_the_read_budget_and_continue(store: RunStore) -> None:
    page = store.page(10, status="failed", max_reads=12)
    assert [number(s) for s in page.runs] == [30]
    assert page.exhausted and page.next_cursor is not None
    assert CountingStorage.reads == 12
    rest = store.page(10, status="failed", after=page.next_cursor, max_reads=100)
    assert [number(s) for s in rest.runs] == [20, 10, 0]
    assert rest.next_cursor is None and not rest.exhausted


def test_summaries_still_lists_everything(store: RunStore) -> None:
    assert len(list(store.summaries())) == 40
