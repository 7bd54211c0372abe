"""``make bench``: run every benchmark, print each section, write ``bench/results.md``.

    python -m bench                  # everything, full size -> bench/results.md
    python -m bench --quick          # a fast pass -> bench/results-quick.md
    python -m bench coldstart serving --output /tmp/r.md

The convention every benchmark module follows: ``run(quick: bool = False) -> str`` returns
its section as Markdown (a ``###`` heading, a table, the ratio to its baseline), measured
against a baseline taken in the same run; ``quick`` shrinks it to a smoke pass. Modules
written before the convention are adapted here: a ``run()`` without ``quick`` is called with
its own defaults (capped by :data:`QUICK_CAPS` in quick mode), and a module with only
``main()`` has its printed output taken as the section.

Each module runs in its own process (an import or a crash in one cannot skew or stop
another); a module that is missing, fails or times out is reported in the results, and
the others still run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import io
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ORDER = ("core_import", "coldstart", "lifecycle", "throughput", "serving", "bundles", "dashboard")
"""The benchmarks, in the order they run (any other ``bench/*.py`` runs after them)."""
QUICK_CAPS = {"repeat": 3, "runs": 500, "rows": 10_000, "cold": 2, "uploads": 20}
"""Quick mode, for ``run()`` functions without a ``quick`` flag: integer parameters with
these names are capped at these values."""
LIBRARIES = (
    "hookline",
    "pluggy",
    "pandas",
    "numpy",
    "pyarrow",
    "scipy",
    "scikit-learn",
    "skops",
    "boto3",
    "botocore",
    "google-cloud-storage",
    "azure-storage-blob",
    "azure-functions",
    "functions-framework",
    "fastapi",
    "starlette",
    "mangum",
    "uvicorn",
    "moto",
)
TIMEOUT = {False: 60 * 60, True: 15 * 60}


@dataclass(frozen=True)
class Section:
    name: str
    status: str
    seconds: float
    markdown: str


def discover() -> list[str]:
    """Benchmark module names: :data:`ORDER` first, then any other public module."""
    found = sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))
    return [n for n in ORDER] + [n for n in found if n not in ORDER]


# -- one module, in a child process --------------------------------------------------------


def call(name: str, quick: bool) -> str:
    """Run ``bench.<name>`` by the convention (or adapt it) and return its Markdown."""
    module = importlib.import_module(f"bench.{name}")
    run = getattr(module, "run", None)
    if callable(run):
        params = inspect.signature(run).parameters
        kwargs: dict[str, object] = {}
        if "quick" in params:
            kwargs["quick"] = quick
        elif quick:
            for key, cap in QUICK_CAPS.items():
                default = params[key].default if key in params else None
                if isinstance(default, int) and not isinstance(default, bool):
                    kwargs[key] = min(default, cap)
        return str(run(**kwargs))
    main = getattr(module, "main", None)
    if not callable(main):
        raise SystemExit(f"bench/{name}.py has neither run() nor main()")
    out = io.StringIO()
    argv = sys.argv
    try:
        sys.argv = [f"bench.{name}"]
        with contextlib.redirect_stdout(out):
            takes_argv = bool(inspect.signature(main).parameters)
            main([]) if takes_argv else main()
    finally:
        sys.argv = argv
    return out.getvalue()


def child(name: str, quick: bool, out: Path) -> int:
    os.chdir(REPO)
    out.write_text(call(name, quick))
    return 0


# -- the whole run -------------------------------------------------------------------------


def run_one(name: str, quick: bool) -> Section:
    """Run one module in a child process, echoing its output (indented) to stderr."""
    if not (HERE / f"{name}.py").exists():
        return Section(
            name,
            "missing",
            0.0,
            f"### {name}\n\n_bench/{name}.py is not in this checkout yet: nothing measured._\n",
        )
    with tempfile.TemporaryDirectory(prefix="hookline-bench-") as tmp:
        out = Path(tmp) / "section.md"
        argv = [sys.executable, "-m", "bench", "--section", name, "--out", str(out)]
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv + (["--quick"] if quick else []),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        timer = threading.Timer(TIMEOUT[quick], proc.kill)
        timer.start()
        tail: deque[str] = deque(maxlen=40)
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                tail.append(line.rstrip("\n"))
                sys.stderr.write(f"    {line}")
            code = proc.wait()
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        if code == 0 and out.exists():
            return Section(name, "ok", seconds, out.read_text())
        status = "timed out" if seconds >= TIMEOUT[quick] else "failed"
        text = "\n".join(tail)
        return Section(
            name,
            status,
            seconds,
            f"### {name}\n\n**{status}** (exit status {code} after {seconds:.0f} s); "
            f"the end of its output:\n\n```\n{text}\n```\n",
        )


def _meminfo() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            text=True,
            capture_output=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            text=True,
            capture_output=True,
        ).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "-"
    rows = [
        ("CPU", _cpu_model()),
        ("cores", f"{os.cpu_count()} ({usable} usable by this process)"),
        ("memory", _meminfo()),
        ("OS", platform.platform()),
        ("load average at start (1, 5, 15 min)", load),
        (
            "Python",
            f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})",
        ),
        ("commit", _commit()),
    ]
    versions = []
    for name in LIBRARIES:
        try:
            versions.append((name, version(name)))
        except PackageNotFoundError:
            versions.append((name, "not installed"))
    return (
        "## Machine\n\n| | |\n|---|---|\n"
        + "\n".join(f"| {k} | {v} |" for k, v in rows)
        + "\n\n## Library versions\n\n| package | version |\n|---|---|\n"
        + "\n".join(f"| {k} | {v} |" for k, v in versions)
        + "\n"
    )


def document(sections: Sequence[Section], quick: bool, started: datetime, header: str) -> str:
    mode = "quick pass (`python -m bench --quick`)" if quick else "full run (`make bench`)"
    summary = "\n".join(
        f"| `bench/{s.name}.py` | {s.status} | {s.seconds:.0f} s |" for s in sections
    )
    body = "\n\n".join(f"{s.markdown.strip()}\n" for s in sections)
    return (
        "# hookline benchmarks\n\n"
        f"Written by `python -m bench` ({mode}) on {started:%Y-%m-%d %H:%M} UTC. Every figure "
        "is compared with a baseline measured in the same run on the same machine; the "
        "machines are shared and noisy, so read ratios rather than absolute times. None of "
        "these is a pass/fail test.\n\n"
        f"{header}\n## Benchmarks\n\n| benchmark | status | wall time |\n|---|---|---|\n"
        f"{summary}\n\n{body}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="benchmarks to run (default: every module in bench/)",
    )
    parser.add_argument("--quick", action="store_true", help="a fast pass: smaller sizes")
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the results (default: "
        "bench/results.md, or bench/results-quick.md with --quick)",
    )
    parser.add_argument("--section", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.section:
        return child(args.section, args.quick, args.out)
    names = args.names or discover()
    output = args.output or HERE / ("results-quick.md" if args.quick else "results.md")
    started = datetime.now(UTC)
    header = machine()
    print(header, flush=True)
    sections = []
    for name in names:
        print(f"--- {name} ...", file=sys.stderr, flush=True)
        section = run_one(name, args.quick)
        sections.append(section)
        print(section.markdown, flush=True)
        print(
            f"--- {name}: {section.status} in {section.seconds:.0f} s", file=sys.stderr, flush=True
        )
    output.write_text(document(sections, args.quick, started, header))
    print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
