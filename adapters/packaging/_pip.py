"""Running pip (or uv) for a target platform: the project wheel, installs and resolutions.

Every install is for the *target* (``--platform`` manylinux tags, ``--implementation cp``,
``--python-version``, ``--only-binary=:all:``), never the build machine. pip's own cache
(``PIP_CACHE_DIR``) makes repeated builds fast. An environment without pip (one made by
``uv venv``) installs with ``uv pip`` instead, with the same target flags in uv's spelling.
"""

from __future__ import annotations

import email.parser
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hookline.adapters.packaging._spec import Target, platform_tags
from hookline.errors import HooklineError

__all__ = ["PipError", "Wheel", "build_wheel", "install", "installer", "read_wheel", "resolve"]

# What a wheel build of the project needs; everything else in the tree stays out.
_PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", "setup.cfg")
_PROJECT_DIRS = ("core", "plugins", "adapters", "functions")


class PipError(HooklineError):
    """pip could not build or install what a bundle needs."""


@dataclass(frozen=True, slots=True)
class Wheel:
    """The project's wheel: its file, metadata and a hash of its *contents* (not its
    timestamps), which keys the staged install."""

    path: Path
    name: str
    version: str
    requires_dist: tuple[str, ...]
    content_hash: str


def _run(cmd: Sequence[str], what: str, hint: str | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise PipError(f"{what} failed (exit {proc.returncode}):\n{tail}", hint=hint)
    return proc


def _pip() -> list[str]:
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def _uv_binary() -> str | None:
    found = shutil.which("uv")
    if found:
        return found
    try:  # the PyPI package `uv` ships the binary and says where it is
        from uv import find_uv_bin  # type: ignore[import-not-found]

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return None


def installer() -> tuple[str, str]:
    """``("pip", version)`` when this environment has pip, else ``("uv", path)``.

    :raises PipError: neither is there.
    """
    if importlib.util.find_spec("pip") is not None:
        from importlib.metadata import version

        return "pip", version("pip")
    uv = _uv_binary()
    if uv is None:
        raise PipError(
            f"neither pip nor uv is available to {sys.executable}",
            hint="install one of them: python -m ensurepip, or pip/uv install uv",
        )
    proc = subprocess.run([uv, "--version"], capture_output=True, text=True, check=False)
    return "uv", proc.stdout.strip() or uv


def _uv() -> str:
    uv = _uv_binary()
    assert uv is not None
    return uv


def _uv_flags(target: Target) -> list[str]:
    glibc = platform_tags(target)[-1].split("_")[2]
    return [
        "--python",
        sys.executable,
        "--python-version",
        target.python,
        "--python-platform",
        f"{target.machine}-manylinux_2_{glibc}",
        "--only-binary",
        ":all:",
    ]


def _tree_pins(tree: Path) -> dict[str, str]:
    """``{name: version}`` of every distribution installed under ``tree``."""
    pins = {}
    for meta in sorted(tree.glob("*.dist-info/METADATA")):
        msg = email.parser.BytesParser().parsebytes(meta.read_bytes(), headersonly=True)
        pins[str(msg["Name"])] = str(msg["Version"])
    return pins


def build_wheel(project: Path, dest: Path) -> Wheel:
    """Build hookline's wheel from the source tree ``project`` into ``dest``.

    The tree is copied first (only what the wheel needs), so concurrent builds never share
    setuptools' ``build/`` folder and the project's own tree is left untouched.

    :raises PipError: ``project`` is not a hookline source tree, or the build failed.
    """
    if not (project / "pyproject.toml").is_file() or not (project / "core").is_dir():
        raise PipError(
            f"not a hookline source tree: {project} (no pyproject.toml or core/)",
            hint="run from the project folder or pass --project DIR",
        )
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hookline-src-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in _PROJECT_FILES:
            if (project / name).is_file():
                shutil.copy2(project / name, src / name)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
        for name in _PROJECT_DIRS:
            if (project / name).is_dir():
                shutil.copytree(project / name, src / name, ignore=ignore)
        if not (src / "README.md").exists():  # the metadata names it; an empty one will do
            (src / "README.md").write_text("hookline\n")
        for old in dest.glob("*.whl"):
            old.unlink()
        if installer()[0] == "uv":
            cmd = [_uv(), "build", "--wheel", "--quiet", "--out-dir", str(dest), str(src)]
        else:
            cmd = [*_pip(), "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dest), str(src)]
            if _has_build_backend():
                cmd.insert(-1, "--no-build-isolation")
        _run(cmd, f"building the hookline wheel from {project}")
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise PipError(f"expected one wheel in {dest}, found {[w.name for w in wheels]}")
    return read_wheel(wheels[0])


def _has_build_backend() -> bool:
    """Whether this environment can build the wheel without an isolated build environment
    (found, not imported: importing setuptools here would patch distutils in-process)."""
    from importlib.metadata import PackageNotFoundError, version

    if importlib.util.find_spec("setuptools") is None or importlib.util.find_spec("wheel") is None:
        return False
    try:
        return int(version("setuptools").split(".")[0]) >= 77
    except (PackageNotFoundError, ValueError):
        return False


def read_wheel(path: Path) -> Wheel:
    """A wheel's name, version, requirements and content hash."""
    digest = hashlib.sha256()
    metadata = None
    with zipfile.ZipFile(path) as zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            data = zf.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                continue
            digest.update(info.filename.encode() + b"\0" + hashlib.sha256(data).digest())
            if info.filename.endswith(".dist-info/METADATA"):
                metadata = email.parser.BytesParser().parsebytes(data)
    if metadata is None:
        raise PipError(f"{path} has no METADATA")
    return Wheel(
        path=path,
        name=str(metadata["Name"]),
        version=str(metadata["Version"]),
        requires_dist=tuple(metadata.get_all("Requires-Dist") or ()),
        content_hash=digest.hexdigest(),
    )


def _target_flags(target: Target) -> list[str]:
    flags = ["--only-binary=:all:", "--implementation", "cp", "--python-version", target.python]
    for tag in platform_tags(target):
        flags += ["--platform", tag]
    return flags


def _pins(report_file: Path) -> dict[str, str]:
    report = json.loads(report_file.read_text())
    return {
        item["metadata"]["name"]: item["metadata"]["version"] for item in report.get("install", [])
    }


def _hint(target: Target) -> str:
    return (
        f"a package may have no binary wheel for {target.machine} / CPython "
        f"{target.python} / glibc <= {platform_tags(target)[-1].split('_')[2]}: pin an "
        "older release that has one, or build a container image"
    )


def install(
    requirements: Sequence[str], dest: Path, target: Target, *, no_deps: bool = False
) -> dict[str, str]:
    """Install ``requirements`` (names or wheel paths) into ``dest`` for ``target``.

    Byte code is not compiled here (:mod:`._slim` compiles it reproducibly later).

    :returns: ``{distribution name: version}`` of everything pip installed.
    :raises PipError: resolution or installation failed (with pip's own message).
    """
    dest.mkdir(parents=True, exist_ok=True)
    what = (
        f"installing for {target.cloud} ({target.machine}, Python {target.python}) "
        f"{' '.join(map(str, requirements))}"
    )
    if installer()[0] == "uv":
        cmd = [_uv(), "pip", "install", "--quiet", "--target", str(dest), *_uv_flags(target)]
        if no_deps:
            cmd.append("--no-deps")
        _run([*cmd, *requirements], f"uv pip {what}", _hint(target))
        return _tree_pins(dest)
    with tempfile.TemporaryDirectory(prefix="hookline-pip-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [
            *_pip(),
            "install",
            "--quiet",
            "--no-compile",
            "--no-warn-conflicts",
            "--no-warn-script-location",
            "--target",
            str(dest),
            "--report",
            str(report),
            *_target_flags(target),
        ]
        if no_deps:
            cmd.append("--no-deps")
        _run([*cmd, *requirements], f"pip {what}", _hint(target))
        return _pins(report)


def resolve(requirements: Sequence[str], target: Target) -> dict[str, str]:
    """What pip would install for ``requirements`` on ``target``, without installing it.

    :returns: ``{distribution name: version}``.
    """
    what = f"resolving {' '.join(requirements)} for {target.cloud}"
    if installer()[0] == "uv":
        proc = subprocess.run(
            [
                _uv(),
                "pip",
                "compile",
                "-",
                "--quiet",
                "--no-header",
                "--no-annotate",
                *_uv_flags(target),
            ],
            input="\n".join(requirements) + "\n",
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            raise PipError(
                f"uv {what} failed (exit {proc.returncode}):\n{tail}", hint=_hint(target)
            )
        pins = {}
        for line in proc.stdout.splitlines():
            name, sep, version = line.strip().partition("==")
            if sep and not name.startswith("#"):
                pins[name.strip()] = version.split(";")[0].strip()
        return pins
    with tempfile.TemporaryDirectory(prefix="hookline-pip-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [
            *_pip(),
            "install",
            "--quiet",
            "--dry-run",
            "--ignore-installed",
            "--target",
            str(Path(tmp) / "t"),
            "--report",
            str(report),
            *_target_flags(target),
            *requirements,
        ]
        _run(cmd, what, _hint(target))
        return _pins(report)
