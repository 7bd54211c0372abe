"""Shared helpers for benchmarks: fresh-process timing, interleaved repetitions, ratios.

Benchmarks never pass or fail: they print figures and the ratio to a baseline measured in
the same run, because the machines are shared and noisy.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    name: str
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p99(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def time_process(
    code: str,
    *,
    python: str = sys.executable,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> float:
    """Wall time of ``python -c code`` in a fresh interpreter, from spawn to exit."""
    started = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def interleave(
    cases: Mapping[str, Callable[[], float]], repeat: int, warmup: int = 1
) -> dict[str, Sample]:
    """Run each case ``repeat`` times, round-robin, so drift in machine load hits all alike."""
    for _ in range(warmup):
        for fn in cases.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            times[name].append(fn())
    return {name: Sample(name, tuple(ts)) for name, ts in times.items()}


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
