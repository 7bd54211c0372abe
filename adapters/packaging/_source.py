"""Where the hookline that goes into a bundle comes from.

In order: a wheel given with ``--hookline-wheel`` (a pinned release); a source tree given
with ``--project``; else the hookline this interpreter runs. An installed (non-editable)
distribution is packed back into a wheel from its own files, each checked against the
distribution's ``RECORD``, so ``hookline package`` works in any project folder with no
source tree; an editable install is built from the tree it points at.
"""

from __future__ import annotations

import base64
import hashlib
import json
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path
from urllib.parse import unquote, urlparse

from hookline.adapters.packaging import _pip, _zip
from hookline.adapters.packaging._pip import PipError, Wheel
from hookline.errors import UsageError

__all__ = ["hookline_wheel", "installed_functions", "repack_installed"]

_SKIP_META = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})


def _editable_tree(dist: Distribution) -> Path | None:
    raw = dist.read_text("direct_url.json")
    if not raw:
        return None
    doc = json.loads(raw)
    if not doc.get("dir_info", {}).get("editable"):
        return None
    url = urlparse(doc.get("url", ""))
    return Path(unquote(url.path)) if url.scheme == "file" else None


def installed_functions() -> Path:
    """The entry files installed with hookline: ``functions/`` ships in the wheel as
    ``hookline/adapters/functions/`` (an editable install reads them from its tree).

    :raises UsageError: this installation has none.
    """
    import hookline.adapters

    installed = Path(hookline.adapters.__file__).parent / "functions"
    if installed.is_dir():
        return installed
    try:
        tree = _editable_tree(distribution("hookline"))
    except PackageNotFoundError:
        tree = None
    if tree is not None and (tree / "functions").is_dir():
        return tree / "functions"
    raise UsageError(
        f"this hookline installation has no entry files (looked in {installed})",
        hint="reinstall hookline, or pass --functions DIR",
    )


def hookline_wheel(
    dest: Path, *, wheel: Path | None = None, project: Path | None = None
) -> tuple[Wheel, str]:
    """The hookline wheel to bundle, written under ``dest``, and where it came from.

    :raises PipError: the wheel, the tree or the installed distribution is unusable.
    """
    if wheel is not None:
        if not wheel.is_file():
            raise PipError(f"--hookline-wheel {wheel}: no such file")
        return _pip.read_wheel(wheel), f"the wheel {wheel}"
    if project is not None:
        return _pip.build_wheel(project, dest), f"the source tree {project}"
    try:
        dist = distribution("hookline")
    except PackageNotFoundError:  # pragma: no cover - this module is part of hookline
        raise PipError("hookline is not installed in this environment") from None
    tree = _editable_tree(dist)
    if tree is not None:
        return _pip.build_wheel(tree, dest), f"the source tree {tree} (editable install)"
    return repack_installed(dist, dest), f"the installed distribution {dist.locate_file('')}"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def repack_installed(dist: Distribution, dest: Path) -> Wheel:
    """A wheel made of the installed files of ``dist`` (byte code and installer records
    left out), each checked against the sha256 its ``RECORD`` holds.

    :raises PipError: a file is missing or differs from what was installed.
    """
    files = dist.files or []
    name = str(dist.metadata["Name"]).replace("-", "_")
    version = str(dist.version)
    info_dir = f"{name}-{version}.dist-info"
    entries: dict[str, Path | bytes] = {}
    for f in files:
        parts = f.parts
        if not parts or parts[0].startswith(".."):  # console scripts: pip makes them anew
            continue
        if "__pycache__" in parts or f.name.endswith(".pyc"):
            continue
        if parts[0].endswith(".dist-info") and f.name in _SKIP_META:
            continue
        path = Path(str(dist.locate_file(f)))
        if not path.is_file():
            raise PipError(
                f"the installed hookline is incomplete: {path} is missing",
                hint="reinstall hookline, or pass --hookline-wheel FILE",
            )
        data = path.read_bytes()
        recorded = f.hash.value if f.hash is not None and f.hash.mode == "sha256" else None
        if recorded is not None and _record_hash(data) != f"sha256={recorded}":
            raise PipError(
                f"the installed hookline was changed after installation: {path} differs "
                "from its RECORD",
                hint="reinstall hookline, or pass --project DIR to bundle a source tree",
            )
        arcname = "/".join(parts)
        if parts[0].endswith(".dist-info"):
            arcname = "/".join([info_dir, *parts[1:]])
        entries[arcname] = data
    if f"{info_dir}/METADATA" not in entries or f"{info_dir}/WHEEL" not in entries:
        raise PipError(
            f"the installed hookline at {dist.locate_file('')} has no METADATA or WHEEL",
            hint="reinstall hookline, or pass --hookline-wheel FILE",
        )
    record = [
        f"{n},{_record_hash(d)},{len(d)}"
        for n, d in sorted(entries.items())
        if isinstance(d, bytes)
    ]
    record.append(f"{info_dir}/RECORD,,")
    entries[f"{info_dir}/RECORD"] = ("\n".join(record) + "\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("*.whl"):
        old.unlink()
    out = dest / f"{name}-{version}-py3-none-any.whl"
    _zip.write_zip(out, entries, _zip.EPOCH_1980)
    return _pip.read_wheel(out)
