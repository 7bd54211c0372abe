"""Slimming an installed tree: test suites, build-only files, caches, symbols; byte code.

The rules, and why each is safe:

* ``tests/`` folders inside packages (numpy/*/tests, scipy/**/tests, sklearn/**/tests,
  pandas/tests, ...), and ``test/`` folders holding ``test_*.py`` files (joblib/test), are
  test suites nothing imports at run time. ``testing`` modules
  (``numpy.testing``, ``pandas._testing``) are public or semi-public API and stay.
* ``.pyx .pxd .pxi .c .cc .cpp .h .hpp .a`` are sources, headers and static libraries for
  building against a package; ``.pyi`` stubs serve type checkers. None is read at run time.
* ``bin/`` at the top of the tree holds console scripts whose ``#!`` line names the build
  machine's interpreter: useless on the platform, and not reproducible.
* ``__pycache__`` and stray ``.pyc`` from any earlier step are replaced by byte code compiled
  here, reproducibly, for the target.
* ``*.dist-info`` folders stay (entry points and versions live there), except
  ``direct_url.json``, which records the build machine's temporary wheel path.
* Extension modules (``*.so``) are stripped of symbols not needed for linking, but never
  inside vendored ``*.libs/`` folders: auditwheel patched those libraries (numpy's
  OpenBLAS among them) and stripping them breaks them.
"""

from __future__ import annotations

import compileall
import os
import platform
import py_compile
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SlimReport", "compile_tree", "slim_tree", "strip_tree"]

BUILD_ONLY_SUFFIXES = frozenset(
    {".pyx", ".pxd", ".pxi", ".c", ".cc", ".cpp", ".cxx", ".h", ".hpp", ".a", ".pyi"}
)
TEST_DIRS = frozenset({"tests", "test"})
_ELF_MACHINE = {62: "x86_64", 183: "aarch64"}


@dataclass
class SlimReport:
    """What slimming did, for the build report."""

    removed_files: int = 0
    removed_bytes: int = 0
    stripped: int = 0
    strip_saved_bytes: int = 0
    strip_skipped: str = ""
    compiled: int = 0
    compile_failed: list[str] = field(default_factory=list)
    compile_skipped: str = ""


def _remove(path: Path, report: SlimReport) -> None:
    if path.is_dir() and not path.is_symlink():
        for f in path.rglob("*"):
            if f.is_file():
                report.removed_files += 1
                report.removed_bytes += f.stat().st_size
        shutil.rmtree(path)
    else:
        report.removed_files += 1
        report.removed_bytes += path.stat().st_size
        path.unlink()


_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import[ \t]+\(?([\w, \t]+)|"
    r"import[ \t]+([\w.]+))",
    re.MULTILINE,
)


def _in_tests(rel: tuple[str, ...]) -> bool:
    return any(p in TEST_DIRS for p in rel[1:])


def imported_test_modules(root: Path) -> set[Path]:
    """Files inside test folders that code *outside* them imports (absolute imports), with
    the ``__init__.py`` files on the way: they must survive slimming. (numpy.testing, for
    one, imports ``numpy._core.tests._natype``.)"""
    keep: set[Path] = set()
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).parts
        if _in_tests(rel) or path.name == "conftest.py" or "_precompute" in rel:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if "test" not in text:
            continue
        for m in _IMPORT.finditer(text):
            module = m.group(1) or m.group(3)
            names = [module]
            if m.group(2):
                names += [f"{module}.{n.strip()}" for n in m.group(2).split(",") if n.strip()]
            for name in names:
                parts = name.split(".")
                if not TEST_DIRS.intersection(parts[1:]):
                    continue
                for i in range(1, len(parts) + 1):
                    base = root.joinpath(*parts[:i])
                    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                        if candidate.is_file():
                            keep.add(candidate)
    return keep


def slim_tree(root: Path, report: SlimReport | None = None) -> SlimReport:
    """Remove test suites, build-only files and caches under ``root`` (an installed tree).

    A ``tests`` folder is removed only below a top-level package (``root/pkg/.../tests``),
    never a top-level one, and never inside ``*.dist-info``; modules in it that the rest of
    the package imports are kept (:func:`imported_test_modules`).
    """
    report = report or SlimReport()
    keep_files = imported_test_modules(root)
    keep_dirs = {p for f in keep_files for p in f.parents}
    test_roots: set[Path] = set()  # test suites kept only for the modules code imports
    for dirpath, dirnames, filenames in os.walk(root, topdown=True):
        here = Path(dirpath)
        rel = here.relative_to(root).parts
        in_meta = any(p.endswith((".dist-info", ".data")) for p in rel)
        in_tests = here in test_roots or any(p in test_roots for p in here.parents)
        keep = []
        for d in sorted(dirnames):
            test_dir = d in TEST_DIRS and len(rel) >= 1 and not in_meta
            if test_dir and d == "test":  # joblib/test: a suite only if it holds test files
                test_dir = any((here / d).glob("test_*.py"))
            scripts = d == "bin" and not rel  # console scripts: shebang of the build machine
            if (
                d == "__pycache__"
                or scripts
                or ((test_dir or in_tests) and here / d not in keep_dirs)
            ):
                _remove(here / d, report)
            else:
                keep.append(d)
                if test_dir:
                    test_roots.add(here / d)
        dirnames[:] = keep
        for name in filenames:
            path = here / name
            suffix = path.suffix.lower()
            if in_meta:
                if name == "direct_url.json":
                    _remove(path, report)
                    _drop_record_line(here / "RECORD", f"{here.name}/{name}")
            elif (
                suffix in BUILD_ONLY_SUFFIXES
                or suffix in (".pyc", ".pyo")
                or name == "conftest.py"
                or (in_tests and path not in keep_files)
            ):
                _remove(path, report)
    return report


def _drop_record_line(record: Path, name: str) -> None:
    if record.is_file():
        lines = record.read_text().splitlines(keepends=True)
        record.write_text("".join(x for x in lines if not x.startswith(f"{name},")))


def _elf_machine(path: Path) -> str | None:
    with path.open("rb") as f:
        head = f.read(20)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    return _ELF_MACHINE.get(int.from_bytes(head[18:20], "little"))


def strip_tree(root: Path, machine: str, report: SlimReport | None = None) -> SlimReport:
    """``strip --strip-unneeded`` every ``*.so`` under ``root`` outside ``*.libs/``.

    Only binaries for ``machine`` are stripped, and only when the build machine is that
    machine too (its ``strip`` may not understand another architecture).
    """
    report = report or SlimReport()
    strip = shutil.which("strip")
    host = {"amd64": "x86_64", "arm64": "aarch64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    if strip is None:
        report.strip_skipped = "no strip on PATH (install binutils)"
        return report
    if host != machine:
        report.strip_skipped = f"build machine is {host}, bundle is {machine}"
        return report
    files = []
    for path in sorted(root.rglob("*.so")):
        rel = path.relative_to(root).parts
        if any(part.endswith(".libs") for part in rel[:-1]) or path.is_symlink():
            continue
        if _elf_machine(path) == machine:
            files.append(path)
    before = sum(f.stat().st_size for f in files)
    for i in range(0, len(files), 100):
        batch = files[i : i + 100]
        proc = subprocess.run(
            [strip, "--strip-unneeded", *map(str, batch)], capture_output=True, check=False
        )
        if proc.returncode != 0:  # retry one by one; a file strip rejects stays as it was
            for f in batch:
                subprocess.run(
                    [strip, "--strip-unneeded", str(f)], capture_output=True, check=False
                )
    report.stripped += len(files)
    report.strip_saved_bytes += before - sum(f.stat().st_size for f in files)
    return report


def compile_tree(
    root: Path, python: str, prepend_dir: str, report: SlimReport | None = None
) -> SlimReport:
    """Compile every ``.py`` under ``root`` into ``__pycache__`` for the target Python.

    Reproducible: ``unchecked-hash`` byte code carries no timestamps (the deployed folder is
    read-only, so the runtime could not rewrite stale files anyway), and the source paths
    recorded in it are ``prepend_dir`` + the path inside the bundle, not the build folder.
    Compiling needs the build interpreter to *be* the target version (byte code is
    version-specific); otherwise it is skipped and said so.
    """
    import sys

    report = report or SlimReport()
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if here != python:
        report.compile_skipped = (
            f"byte code not precompiled: the build interpreter is "
            f"Python {here}, the target {python}; run hookline package "
            f"with Python {python} to precompile"
        )
        return report
    before = set(root.rglob("*.pyc"))
    ok = compileall.compile_dir(
        str(root),
        quiet=2,
        workers=min(2, os.cpu_count() or 1),
        stripdir=str(root),
        prependdir=prepend_dir,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    after = set(root.rglob("*.pyc"))
    report.compiled += len(after - before)
    if not ok:  # sources that do not compile (templates, py2 leftovers) stay source only
        compiled = {p.parent.parent / (p.name.split(".")[0] + ".py") for p in after}
        report.compile_failed += sorted(
            str(p.relative_to(root)) for p in root.rglob("*.py") if p not in compiled
        )[:20]
    return report


def compile_tree_files(root: Path, files: list[Path], python: str, prepend_dir: str) -> int:
    """Compile single ``files`` under ``root`` like :func:`compile_tree` (same rules).

    :returns: how many were compiled (0 when the build interpreter is not the target).
    """
    import importlib.util
    import sys

    if f"{sys.version_info.major}.{sys.version_info.minor}" != python:
        return 0
    for f in files:
        rel = f.relative_to(root).as_posix()
        py_compile.compile(
            str(f),
            cfile=importlib.util.cache_from_source(str(f)),
            dfile=f"{prepend_dir.rstrip('/')}/{rel}",
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    return len(files)
