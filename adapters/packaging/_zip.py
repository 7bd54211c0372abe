"""Reproducible zip archives: the same files give the same bytes.

Entries are sorted by name; every entry has the same timestamp (1980-01-01, the earliest a
zip can hold, or ``SOURCE_DATE_EPOCH`` when set); permissions are normalised to 0644, or
0755 for files that were executable; no directory entries, no extra fields; deflate at a
fixed level.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from hookline.errors import HooklineError

__all__ = ["ZipStats", "collect_tree", "write_zip", "zip_timestamp"]

EPOCH_1980 = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 6


@dataclass(frozen=True, slots=True)
class ZipStats:
    """What was written: entry count, sum of file sizes, archive size."""

    files: int
    unzipped: int
    zipped: int


def zip_timestamp(env: Mapping[str, str] | None = None) -> tuple[int, int, int, int, int, int]:
    """The timestamp every entry gets: ``SOURCE_DATE_EPOCH`` (UTC, clamped to 1980) or
    1980-01-01 00:00:00."""
    env = os.environ if env is None else env
    raw = env.get("SOURCE_DATE_EPOCH")
    if not raw:
        return EPOCH_1980
    try:
        seconds = int(raw)
    except ValueError as exc:
        raise HooklineError(
            f"SOURCE_DATE_EPOCH={raw!r} is not an integer",
            hint="set it to seconds since 1970, e.g. $(git log -1 --format=%ct)",
        ) from exc
    t = time.gmtime(max(seconds, 315532800))  # 1980-01-01
    # zip stores even seconds only
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec - t.tm_sec % 2)


def collect_tree(root: Path, prefix: str = "") -> dict[str, Path]:
    """``{archive name: file}`` for every regular file under ``root``, names prefixed."""
    out: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            out[f"{prefix}{rel}" if prefix else rel] = path
    return out


def write_zip(
    dest: Path,
    entries: Mapping[str, Path | bytes],
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> ZipStats:
    """Write ``entries`` (archive name -> file or bytes) to ``dest`` reproducibly.

    The archive is written next to ``dest`` and renamed into place, so a reader never sees
    half an archive.
    """
    date_time = date_time or zip_timestamp()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    unzipped = 0
    try:
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
            for name in sorted(entries):
                source = entries[name]
                info = zipfile.ZipInfo(name, date_time=date_time)
                info.create_system = 3  # unix, so external_attr holds the mode
                info.compress_type = zipfile.ZIP_DEFLATED
                info._compresslevel = COMPRESS_LEVEL  # type: ignore[attr-defined]
                mode = 0o644
                if isinstance(source, Path) and source.stat().st_mode & stat.S_IXUSR:
                    mode = 0o755
                info.external_attr = (stat.S_IFREG | mode) << 16
                if isinstance(source, bytes):
                    info.file_size = len(source)
                    with zf.open(info, "w") as out:
                        out.write(source)
                    unzipped += len(source)
                else:
                    size = source.stat().st_size
                    info.file_size = size
                    with (
                        source.open("rb") as src,
                        zf.open(info, "w", force_zip64=size > 2**31) as out,
                    ):
                        shutil.copyfileobj(src, out, 1024 * 1024)
                    unzipped += size
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return ZipStats(files=len(entries), unzipped=unzipped, zipped=dest.stat().st_size)


def merge(*parts: Iterable[tuple[str, Path | bytes]]) -> dict[str, Path | bytes]:
    """Merge archive entries; the same name from two parts is an error (not a silent win)."""
    out: dict[str, Path | bytes] = {}
    for part in parts:
        for name, source in part:
            if name in out:
                raise HooklineError(
                    f"two files would land at {name!r} in the bundle",
                    hint="an entry file clashes with an installed package",
                )
            out[name] = source
    return out
