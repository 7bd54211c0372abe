"""A throw-away directory tree in which one hook call runs, and what the call changed in it.

Layout of a sandbox::

    <base>/storage/   the storage root handed to the hook (writes here are allowed)
    <base>/work/      the local copy of the uploaded object (``Source.path``)
    <base>/cwd/       the working directory during the call
    <base>/tmp/       the temporary directory during the call (``tempfile``, ``$TMPDIR``)

Anything created, modified or deleted under ``<base>`` outside ``storage/`` and ``tmp/`` is
a write outside the storage root; anything left in ``tmp/`` after the call is a leak.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Changes", "Sandbox", "snapshot"]

Snapshot = dict[str, tuple[int, int]]


def snapshot(root: Path, *, skip: tuple[str, ...] = ()) -> Snapshot:
    """Map every file under ``root`` (relative path) to ``(size, mtime_ns)``, and every
    folder (relative path ending in ``/``) to ``(-2, 0)``.

    :param skip: top-level entries of ``root`` not to descend into.
    """
    found: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            key = os.path.normpath(os.path.join(rel, name))
            found[key] = (st.st_size, st.st_mtime_ns)
        for name in dirnames:  # folders count too: an empty one left behind is a write
            is_link = os.path.islink(os.path.join(dirpath, name))
            found[os.path.normpath(os.path.join(rel, name)) + "/"] = (-1 if is_link else -2, 0)
    return found


@dataclass(frozen=True)
class Changes:
    """What a call did to the files it should not touch."""

    created: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    leftover_tmp: tuple[str, ...] = ()

    @property
    def outside(self) -> tuple[str, ...]:
        return self.created + self.modified + self.deleted


def _diff(before: Snapshot, after: Snapshot) -> tuple[list[str], list[str], list[str]]:
    created = sorted(set(after) - set(before))
    deleted = sorted(set(before) - set(after))
    modified = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    return created, modified, deleted


@dataclass
class Sandbox:
    """A fresh directory tree for one hook call; remove it with :meth:`cleanup`."""

    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hookline-check-")))

    def __post_init__(self) -> None:
        self.base = self.base.resolve()
        for sub in ("storage", "work", "cwd", "tmp"):
            (self.base / sub).mkdir(exist_ok=True)

    @property
    def storage_dir(self) -> Path:
        return self.base / "storage"

    @property
    def work_dir(self) -> Path:
        return self.base / "work"

    @contextlib.contextmanager
    def watch(self) -> Iterator[list[Changes]]:
        """Run the body with ``cwd/`` as working directory and ``tmp/`` as temporary
        directory; afterwards the yielded list holds one :class:`Changes`."""
        result: list[Changes] = []
        before = snapshot(self.base, skip=("storage", "tmp"))
        old_cwd = os.getcwd()
        old_tempdir = tempfile.tempdir
        old_env = {k: os.environ.get(k) for k in ("TMPDIR", "TEMP", "TMP")}
        tmp = str(self.base / "tmp")
        os.chdir(self.base / "cwd")
        tempfile.tempdir = tmp
        os.environ.update(TMPDIR=tmp, TEMP=tmp, TMP=tmp)
        try:
            yield result
        finally:
            os.chdir(old_cwd)
            tempfile.tempdir = old_tempdir
            for k, v in old_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            after = snapshot(self.base, skip=("storage", "tmp"))
            created, modified, deleted = _diff(before, after)
            leftover = sorted(snapshot(self.base / "tmp"))
            result.append(Changes(tuple(created), tuple(modified), tuple(deleted), tuple(leftover)))

    def cleanup(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
