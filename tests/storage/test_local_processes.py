"""Local storage's conditional writes hold across *processes*, not only threads: several
``hookline watch`` workers (or a CLI next to one) share the same folder."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from hookline.storage import LocalStorage

from ._race import create_once, increment, write_own

PROCESSES = 8


def test_racing_processes_create_exactly_once(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(PROCESSES)
        with ctx.Pool(PROCESSES) as pool:
            wins = pool.starmap(
                create_once, [(storage.uri, "claims/run", i, barrier) for i in range(PROCESSES)]
            )
    assert wins.count(True) == 1, wins
    assert storage.read("claims/run") == f"worker {wins.index(True)}".encode()


def test_racing_processes_lose_no_increment(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.create("counter", b"0")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(PROCESSES)
        with ctx.Pool(PROCESSES) as pool:
            pool.starmap(increment, [(storage.uri, "counter", barrier)] * PROCESSES)
    assert storage.read("counter") == str(PROCESSES).encode()


def test_racing_writers_of_one_key_each_get_their_own_info(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(PROCESSES)
        with ctx.Pool(PROCESSES) as pool:
            infos = pool.starmap(
                write_own, [(storage.uri, "landing/same.csv", i, barrier) for i in range(PROCESSES)]
            )
    assert [size for _, size in infos] == [i + 1 for i in range(PROCESSES)]
    assert len({etag for etag, _ in infos}) == PROCESSES, infos
    final = storage.stat("landing/same.csv")
    assert final is not None and (final.etag, final.size) in infos
