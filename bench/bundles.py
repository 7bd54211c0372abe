"""Deployment bundles against the platforms' size limits, and the cold import of a slimmed
bundle against the same packages installed plainly, measured in the same run.

For the quickstart config (a minimal one if it is missing), builds every bundle with
``hookline package`` and reports its size zipped and unzipped against each limit. Then it
installs the AWS pipeline bundle's packages plainly (``pip install --target``, same target
platform, no slimming) and times, in fresh interpreters that see only that folder
(``python -I -S -B``), ``import sklearn, pandas`` plus the handler module: slimmed vs plain,
interleaved.

Goals (issue 6): AWS pipeline bundle < 250 MB unzipped; serving bundle without pandas
< 200 MB; the slimmed bundle's cold import no slower than the plain install's.

    python -m bench.bundles [--repeat 10] [--clouds aws,gcp,azure] [--quick]

Builds are staged in bench/.work/bundles (reused while their inputs are unchanged).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from bench._harness import interleave, ms, table

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench" / ".work" / "bundles"
QUICKSTART = REPO / "examples" / "quickstart" / "hookline.toml"
MINIMAL_CONFIG = """\
[pipelines.train]
model = "m"
stages = ["ingest", "train", "validate", "deploy"]
trigger = { prefix = "landing/train/", suffix = ".csv" }
"""
STAND_IN = "def handler(event, context):\n    return None\n"
ENTRY_FILES = (
    "aws_lambda/pipeline.py",
    "aws_lambda/serving.py",
    "gcp_functions/main.py",
    "azure_functions/function_app.py",
    "azure_functions/host.json",
)
COLD = "import sklearn, pandas\nimport pipeline\n"
MB = 1024 * 1024
PY = f"{sys.version_info.major}.{sys.version_info.minor}"

if TYPE_CHECKING:
    from hookline.adapters.packaging import BundleResult


def _mb(n: int) -> str:
    return f"{n / MB:.1f} MB"


def _functions(notes: list[str]) -> Path:
    """The real entry files; a stand-in for any that is still missing (and say so)."""
    real = REPO / "functions"
    missing = [f for f in ENTRY_FILES if not (real / f).is_file()]
    if not missing:
        return real
    copy = WORK / "functions"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(real, copy)
    for rel in missing:
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (copy / rel).write_text("{}\n" if rel.endswith(".json") else STAND_IN)
    notes.append(f"stand-in entry files (missing in functions/): {', '.join(missing)}")
    return copy


def _config(notes: list[str]) -> Path:
    if QUICKSTART.is_file():
        return QUICKSTART
    path = WORK / "hookline.toml"
    path.write_text(MINIMAL_CONFIG)
    notes.append("examples/quickstart/hookline.toml missing: a minimal config was used")
    return path


def _build(cloud: str, functions: Path, config: Path, **kw: object) -> list[BundleResult]:
    from hookline.adapters.packaging import BuildOptions, build

    out = WORK / "dist"
    options = BuildOptions(
        cloud=cloud,
        config=config,
        out=out,
        project=REPO,
        functions=functions,
        # this interpreter's version: the bundle's byte code is precompiled and its cold
        # import can be timed here; no registry: the library versions of this environment
        python=PY,
        registry="none",
        **kw,  # type: ignore[arg-type]
    )
    return build(options)


def _size_rows(results: list[BundleResult]) -> list[tuple[str, ...]]:
    """One row per bundle, sizes as its manifest records them (what Terraform deploys; kept
    from the build, since a later variant of the same role writes the file anew)."""
    rows = []
    for r in results:
        manifest = r.manifest
        limits = "; ".join(
            f"{c.percent:.0f}% of {_mb(c.limit.bytes)} {c.limit.measure}"
            + ((" (OVER)" if c.limit.hard else " (over: deployed via S3)") if c.over else "")
            for c in r.checks
        )
        label = f"{r.cloud}/{r.path.name}" + (
            " (no pandas)" if r.role == "serving" and "pandas" not in r.pins else ""
        )
        rows.append(
            (
                label,
                manifest["runtime"],
                str(r.files),
                _mb(manifest["unzipped_bytes"]),
                _mb(manifest["size_bytes"]),
                limits,
            )
        )
    return rows


def _plain_install(pipeline: BundleResult, dest: Path) -> Path:
    """The AWS pipeline bundle's packages, installed plainly: same versions, same target
    platform, pip's defaults (byte code with timestamps), nothing removed or stripped."""
    from hookline.adapters.packaging import _pip
    from hookline.adapters.packaging._spec import Target

    target = Target("aws", "x86_64", f"{sys.version_info.major}.{sys.version_info.minor}")
    pins = dict(pipeline.pins)
    wheel = next((WORK / "dist" / ".build" / "wheel").glob("*.whl"))
    shutil.rmtree(dest, ignore_errors=True)
    reqs = [f"{name}=={version}" for name, version in pins.items() if name != "hookline"]
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-warn-conflicts",
        "--target",
        str(dest),
        "--no-deps",
        *_pip._target_flags(target),
        *reqs,
        str(wheel),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"plain install failed:\n{proc.stderr[-3000:]}")
    return dest


def _tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def run(
    repeat: int = 10, clouds: tuple[str, ...] = ("aws", "gcp", "azure"), quick: bool = False
) -> str:
    """The section for ``make bench``; ``quick``: AWS and GCP only, 3 repetitions."""
    if quick:
        repeat, clouds = min(repeat, 3), tuple(c for c in clouds if c != "azure")
    WORK.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PIP_CACHE_DIR", str(REPO / ".cache" / "pip"))
    notes: list[str] = []
    functions, config = _functions(notes), _config(notes)
    results = []
    aws: dict[str, BundleResult] = {}
    for cloud in clouds:
        built = _build(cloud, functions, config)
        results += built
        if cloud == "aws":
            aws = {r.role: r for r in built}
            results += _build(
                cloud, functions, config, roles=("serving",), serving_with_pandas=False
            )
    shown = config.relative_to(REPO) if config.is_relative_to(REPO) else config
    out = [
        f"### Deployment bundles ({shown})\n",
        table(_size_rows(results), ["bundle", "runtime", "files", "unzipped", "zipped", "limits"]),
        "",
    ]
    goals = []
    if aws:
        pipeline = aws["pipeline"]
        no_pandas = [r for r in results if r.role == "serving" and "pandas" not in r.pins]
        goals.append(
            f"AWS pipeline bundle: **{_mb(pipeline.unzipped)}** unzipped (goal: under 250 MB)"
        )
        if no_pandas:
            goals.append(
                f"AWS serving bundle without pandas: **{_mb(no_pandas[0].unzipped)}** "
                f"(goal: under 200 MB)"
            )
        goals += _cold_import(pipeline, repeat, out)
    out += [f"- {g}" for g in goals] + [f"- note: {n}" for n in notes]
    return "\n".join(out) + "\n"


def _cold_import(pipeline: BundleResult, repeat: int, out: list[str]) -> list[str]:
    slim = Path(tempfile.mkdtemp(prefix="hl-slim-", dir=WORK))
    plain = WORK / "plain"
    try:
        with zipfile.ZipFile(pipeline.path) as zf:
            zf.extractall(slim)
        _plain_install(pipeline, plain)
        for name in ("pipeline.py", "hookline.toml"):
            shutil.copy2(slim / name, plain / name)
        plain_size = _tree_size(plain)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "LANG": "C.UTF-8",
            "HOOKLINE_CONFIG": str(slim / "hookline.toml"),
        }

        def cold(root: Path) -> float:
            code = f"import sys; sys.path[:0] = [{str(root)!r}]\n{COLD}"
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-I", "-S", "-B", "-c", code],
                check=True,
                env=env,
                cwd=str(root),
                stdout=subprocess.DEVNULL,
            )
            return time.perf_counter() - started

        samples = interleave(
            {"slimmed bundle": lambda: cold(slim), "plain install": lambda: cold(plain)},
            repeat=repeat,
            warmup=2,
        )
        s, p = samples["slimmed bundle"], samples["plain install"]
        out.extend(
            [
                f"\n### Cold import: `import sklearn, pandas` + the handler ({repeat} interleaved "
                "runs each, `python -I -S -B`, only the folder on sys.path)\n",
                table(
                    [
                        ("slimmed bundle", ms(s.median), ms(s.p99), _mb(pipeline.unzipped)),
                        ("plain install", ms(p.median), ms(p.p99), _mb(plain_size)),
                    ],
                    ["case", "median", "p99", "unzipped size"],
                ),
                "",
            ]
        )
        return [
            f"cold import, slimmed vs plain: **{s.median / p.median:.2f}x** "
            f"(goal: at most 1.00x); size {_mb(pipeline.unzipped)} vs "
            f"{_mb(plain_size)}"
        ]
    finally:
        shutil.rmtree(slim, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--clouds", default="aws,gcp,azure")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(run(args.repeat, tuple(c for c in args.clouds.split(",") if c), args.quick))


if __name__ == "__main__":
    main()
