"""OCI images without a Docker daemon: a base image on disk plus layers made from a bundle.

:func:`build_image` writes an OCI image layout (``oci-layout``, ``index.json``,
``blobs/sha256/...``) and an ``oci-archive`` (the layout as one tar, which ``skopeo copy
oci-archive:FILE docker://REGISTRY/REPO:TAG`` pushes). The base is read from an OCI layout
or archive on disk (``skopeo copy docker://public.ecr.aws/lambda/python:3.12
oci:base:3.12`` makes one); its layers are reused as they are. The bundle becomes two
layers: the dependencies (changing rarely, so registries and the platform cache them) and
the application (hookline, the entry files, ``hookline.toml``).

Reproducible byte for byte: entries sorted, every mtime the same (``SOURCE_DATE_EPOCH`` or
0), uid/gid 0 with no names, modes normalised (0644, 0755 for executables and
directories), gzip without a file name or timestamp, JSON with sorted keys. The same
bundle on the same base gives the same digest. Only the standard library is used: a
dependency for this would cost every install more than these 300 lines.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import os
import shutil
import stat
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hookline.errors import HooklineError

__all__ = ["BaseImage", "ImageError", "ImageResult", "build_image", "open_base", "parse_base"]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
_DOCKER = {
    "application/vnd.docker.distribution.manifest.v2+json": OCI_MANIFEST,
    "application/vnd.docker.distribution.manifest.list.v2+json": OCI_INDEX,
    "application/vnd.docker.container.image.v1+json": OCI_CONFIG,
    "application/vnd.docker.image.rootfs.diff.tar.gzip": OCI_LAYER_GZIP,
    "application/vnd.docker.image.rootfs.diff.tar": OCI_LAYER_TAR,
}
REF_NAME = "org.opencontainers.image.ref.name"
GZIP_LEVEL = 6
CHUNK = 1024 * 1024


class ImageError(HooklineError):
    """The base image cannot be read, or the image cannot be written."""


@dataclass(frozen=True)
class BaseImage:
    """A base image read from disk: its manifest, config and layer descriptors."""

    reference: str
    blobs: Path
    manifest_digest: str
    config: Mapping[str, Any]
    layers: tuple[Mapping[str, Any], ...]

    def blob(self, digest: str) -> Path:
        return self.blobs / digest.split(":", 1)[1]


@dataclass(frozen=True)
class ImageResult:
    """What :func:`build_image` wrote.

    :param digest: ``sha256:...`` of the image manifest (what a registry and Lambda's
        ``image_uri`` by digest name).
    :param layout: the OCI layout directory.
    :param archive: the ``oci-archive`` tar of that layout, or ``None``.
    :param uncompressed_bytes: sum of every layer's uncompressed size, base included
        (Lambda's 10 GB limit counts this).
    :param files: regular files in the layers made from the bundle.
    """

    digest: str
    layout: Path
    archive: Path | None
    config_digest: str
    layers: tuple[str, ...]
    base: str
    tag: str
    uncompressed_bytes: int
    files: int


def parse_base(reference: str) -> tuple[str, Path, str | None]:
    """``oci:DIR[:TAG]`` / ``oci-archive:FILE[:TAG]`` (skopeo's spelling) or a plain path ->
    ``(transport, path, tag)``."""
    transport, sep, rest = reference.partition(":")
    if not sep or transport not in ("oci", "oci-archive"):
        transport, rest = ("oci-archive" if reference.endswith(".tar") else "oci"), reference
    path, _, tag = rest.partition(":")
    return transport, Path(path), tag or None


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ImageError(f"cannot read {what} at {path}: {exc}") from exc


def _pick(descriptors: Sequence[Mapping[str, Any]], tag: str | None, where: str) -> Mapping:
    if tag is not None:
        found = [d for d in descriptors if (d.get("annotations") or {}).get(REF_NAME) == tag]
        if not found:
            names = sorted(str((d.get("annotations") or {}).get(REF_NAME)) for d in descriptors)
            raise ImageError(f"no image tagged {tag!r} in {where}", hint=f"tags: {names}")
        return found[0]
    if len(descriptors) != 1:
        raise ImageError(
            f"{where} holds {len(descriptors)} images: name one with :TAG",
            hint="e.g. --base oci:DIR:TAG",
        )
    return descriptors[0]


def open_base(layout: Path, tag: str | None, architecture: str, reference: str) -> BaseImage:
    """Read the image ``tag`` (for ``architecture``, from a multi-platform index) of the OCI
    layout ``layout``."""
    if not (layout / "index.json").is_file():
        raise ImageError(
            f"no OCI image layout at {layout} (no index.json)",
            hint="make one with: skopeo copy docker://IMAGE oci:DIR:TAG",
        )
    blobs = layout / "blobs" / "sha256"
    index = _read_json(layout / "index.json", "the base image index")
    desc = _pick(index.get("manifests") or [], tag, f"the base image layout {layout}")
    doc = _read_json(blobs / desc["digest"].split(":", 1)[1], "a base image manifest")
    while _media(desc.get("mediaType") or doc.get("mediaType", "")) == OCI_INDEX:
        platforms = [  # a multi-platform index: the image for the bundle's CPU
            m
            for m in doc.get("manifests") or []
            if (m.get("platform") or {}).get("architecture") == architecture
            and (m.get("platform") or {}).get("os", "linux") == "linux"
        ]
        if not platforms:
            raise ImageError(f"the base image {reference} has no linux/{architecture} image")
        desc = platforms[0]
        doc = _read_json(blobs / desc["digest"].split(":", 1)[1], "a base image manifest")
    config = _read_json(blobs / doc["config"]["digest"].split(":", 1)[1], "the base config")
    have = config.get("architecture")
    if have and have != architecture:
        raise ImageError(
            f"the base image {reference} is {have}, the bundle {architecture}",
            hint="copy the base for the bundle's CPU (skopeo copy --override-arch ...)",
        )
    return BaseImage(reference, blobs, desc["digest"], config, tuple(doc.get("layers") or ()))


def _media(media_type: str) -> str:
    return _DOCKER.get(media_type, media_type)


class _Digesting:
    """A write-only file that hashes and counts what passes through to ``inner``."""

    def __init__(self, inner: IO[bytes] | None = None) -> None:
        self.inner, self.sha, self.size = inner, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        if self.inner is not None:
            self.inner.write(data)
        return len(data)

    def flush(self) -> None:
        if self.inner is not None:
            self.inner.flush()

    @property
    def digest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


def _tar_entries(files: Mapping[str, Path], prefix: str) -> list[tuple[str, Path | None]]:
    """Every file under ``prefix`` plus every directory on the way, sorted."""
    names: dict[str, Path | None] = {}
    for rel, path in files.items():
        full = f"{prefix.strip('/')}/{rel}".strip("/")
        names[full] = path
        parts = full.split("/")
        for i in range(1, len(parts)):
            names.setdefault("/".join(parts[:i]), None)
    return sorted(names.items())


def _write_tar(entries: Iterable[tuple[str, Path | None]], out: IO[bytes], mtime: int) -> int:
    files = 0
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name, path in entries:
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
            if path is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                continue
            st = path.stat()
            info.size = st.st_size
            info.mode = 0o755 if st.st_mode & stat.S_IXUSR else 0o644
            with path.open("rb") as src:
                tar.addfile(info, src)
            files += 1
    return files


def _layer(
    files: Mapping[str, Path], prefix: str, blobs: Path, mtime: int
) -> tuple[dict[str, Any], str, int, int]:
    """Write one gzip layer into ``blobs``: ``(descriptor, diff_id, uncompressed, files)``."""
    with tempfile.NamedTemporaryFile(dir=blobs, prefix=".layer-", delete=False) as tmp:
        compressed = _Digesting(tmp)
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=compressed, compresslevel=GZIP_LEVEL, mtime=0
        ) as gz:
            plain = _Digesting(gz)  # type: ignore[arg-type]
            count = _write_tar(_tar_entries(files, prefix), plain, mtime)  # type: ignore[arg-type]
    os.replace(tmp.name, blobs / compressed.digest.split(":", 1)[1])
    desc = {"mediaType": OCI_LAYER_GZIP, "digest": compressed.digest, "size": compressed.size}
    return desc, plain.digest, plain.size, count


def _uncompressed_size(path: Path, media_type: str) -> int:
    size = 0
    with path.open("rb") as raw:
        f: Any = gzip.GzipFile(fileobj=raw) if media_type.endswith("gzip") else raw
        while chunk := f.read(CHUNK):
            size += len(chunk)
    return size


def _blob(blobs: Path, data: bytes) -> dict[str, Any]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (blobs / digest.split(":", 1)[1]).write_bytes(data)
    return {"digest": digest, "size": len(data)}


def _json_bytes(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _link(src: Path, dest: Path) -> None:
    if dest.exists():
        return
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def default_app(rel: str) -> bool:
    """The application layer: files at the root (entry files, ``hookline.toml``, their byte
    code) and hookline itself; everything else is a dependency."""
    top = rel.split("/", 1)[0]
    return (
        "/" not in rel
        or top in ("__pycache__", "hookline")
        or (top.startswith("hookline-") and top.endswith(".dist-info"))
    )


def _epoch() -> int:
    raw = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(raw) if raw.isdigit() else 0


def _write_archive(layout: Path, archive: Path, mtime: int) -> None:
    """The layout as one tar (what skopeo's ``oci-archive:`` transport reads)."""
    files = {
        p.relative_to(layout).as_posix(): p
        for p in layout.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }
    tmp = archive.with_name(f".{archive.name}.tmp")
    with tmp.open("wb") as out:
        _write_tar(_tar_entries(files, ""), out, mtime)
    os.replace(tmp, archive)


def build_image(
    bundle_dir: Path,
    base: str,
    out: Path,
    *,
    cmd: Sequence[str],
    entrypoint: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    workdir: str = "/var/task",
    architecture: str = "amd64",
    tag: str = "latest",
    archive: Path | None = None,
    app: Callable[[str], bool] = default_app,
    labels: Mapping[str, str] | None = None,
) -> ImageResult:
    """Build an OCI image: ``base`` plus the files of ``bundle_dir`` under ``workdir``.

    :param bundle_dir: the unpacked bundle (what a zip would hold).
    :param base: ``oci:DIR[:TAG]`` or ``oci-archive:FILE[:TAG]`` (see :func:`parse_base`).
    :param out: the OCI layout directory to write (replaced).
    :param cmd: the image's ``Cmd`` (on the Lambda base: the handler, ``["pipeline.handler"]``).
    :param entrypoint: the image's ``Entrypoint``; ``None`` keeps the base's.
    :param env: variables added to (or replacing those of) the base's environment.
    :param archive: where the ``oci-archive`` goes (default: ``out`` + ``.tar``).
    :param app: which bundle files (relative paths) form the application layer.
    :raises ImageError: the base cannot be read.
    """
    mtime = _epoch()
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mtime))
    archive = archive if archive is not None else out.with_name(out.name + ".tar")
    transport, path, base_tag = parse_base(base)
    if not path.exists():
        raise ImageError(
            f"base image {base}: {path} does not exist",
            hint="base images cannot be pulled here: copy one to disk first, e.g. "
            "skopeo copy docker://public.ecr.aws/lambda/python:3.12 oci:base:3.12, "
            "then pass --base oci:base:3.12",
        )
    with tempfile.TemporaryDirectory(prefix="hookline-base-") as tmp:
        layout_dir = path
        if transport == "oci-archive":
            layout_dir = Path(tmp)
            with tarfile.open(path) as tar:
                tar.extractall(layout_dir, filter="data")
        img = open_base(layout_dir, base_tag, architecture, base)

        if out.exists():
            shutil.rmtree(out)
        blobs = out / "blobs" / "sha256"
        blobs.mkdir(parents=True)
        layers: list[dict[str, Any]] = []
        total = 0
        for desc in img.layers:
            media = _media(desc["mediaType"])
            src = img.blob(desc["digest"])
            _link(src, blobs / src.name)
            layers.append({"mediaType": media, "digest": desc["digest"], "size": desc["size"]})
            total += _uncompressed_size(src, media)

        from hookline.adapters.packaging._zip import collect_tree

        tree = collect_tree(bundle_dir)
        parts = {
            "dependencies": {k: v for k, v in tree.items() if not app(k)},
            "application": {k: v for k, v in tree.items() if app(k)},
        }
        diff_ids = list((img.config.get("rootfs") or {}).get("diff_ids") or [])
        history = list(img.config.get("history") or [])
        files = 0
        for what, content in parts.items():
            if not content:
                continue
            desc, diff_id, size, count = _layer(content, workdir, blobs, mtime)
            layers.append(desc)
            diff_ids.append(diff_id)
            total += size
            files += count
            history.append({"created": created, "created_by": f"hookline package: {what} layer"})

    config = copy.deepcopy(dict(img.config))
    config.update(architecture=architecture, os="linux", created=created)
    run = dict(config.get("config") or {})
    merged = dict(e.split("=", 1) for e in run.get("Env") or [] if "=" in e)
    merged.update(env or {})
    run["Env"] = [f"{k}={v}" for k, v in merged.items()]
    run["WorkingDir"] = workdir
    run["Cmd"] = list(cmd)
    if entrypoint is not None:
        run["Entrypoint"] = list(entrypoint)
    if labels:
        run["Labels"] = {**(run.get("Labels") or {}), **labels}
    config["config"] = run
    config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    config["history"] = history
    config_desc = {"mediaType": OCI_CONFIG, **_blob(blobs, _json_bytes(config))}
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_desc,
        "layers": layers,
        "annotations": {
            "org.opencontainers.image.base.digest": img.manifest_digest,
            "org.opencontainers.image.base.name": base,
            "org.opencontainers.image.created": created,
        },
    }
    manifest_desc = {"mediaType": OCI_MANIFEST, **_blob(blobs, _json_bytes(manifest))}
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                **manifest_desc,
                "platform": {"architecture": architecture, "os": "linux"},
                "annotations": {REF_NAME: tag},
            }
        ],
    }
    (out / "index.json").write_bytes(_json_bytes(index))
    (out / "oci-layout").write_bytes(_json_bytes({"imageLayoutVersion": "1.0.0"}))
    _write_archive(out, archive, mtime)
    return ImageResult(
        digest=manifest_desc["digest"],
        layout=out,
        archive=archive,
        config_digest=config_desc["digest"],
        layers=tuple(d["digest"] for d in layers),
        base=f"{base}@{img.manifest_digest}",
        tag=tag,
        uncompressed_bytes=total,
        files=files,
    )
