"""``file://`` storage: the embedded default, safe across threads *and* processes.

* Writes go to a temporary file in the target folder and are renamed into place, so a
  reader sees the old object or the new one, never half of one.
* *Create only if absent* publishes the temporary file with ``os.link``, which fails
  atomically when the name exists, whichever process got there first.
* *Replace only if unchanged* holds an exclusive ``flock`` on a per-key lock file while it
  compares the etag and renames.
* The etag is the inode, mtime and size of the file: every write makes a new inode.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from hookline.errors import AlreadyExists, InvalidKey, NotFound, PreconditionFailed, StorageError
from hookline.storage._base import ObjectInfo, check_key
from hookline.storage._uri import object_uri

__all__ = ["LocalStorage"]

_TMP_PREFIX = ".hl-tmp-"
_LOCK_DIR = ".hookline-locks"


def _info(key: str, st: os.stat_result) -> ObjectInfo:
    return ObjectInfo(
        key=key,
        size=st.st_size,
        etag=f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}",
        modified=st.st_mtime,
    )


class LocalStorage:
    """A folder on the local file system, addressed as ``file:///abs/path`` or a plain path.

    :param root: ``file://`` URI or path of the root folder; created when missing.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        root = os.fspath(root)
        if root.startswith("file://"):
            parts = urlsplit(root)
            if parts.netloc not in ("", "localhost"):
                # file://./relative or file://relative: a common slip; read it as a path.
                path = unquote(parts.netloc + parts.path)
            else:
                path = unquote(parts.path)
        else:
            path = root
        if "\x00" in path:
            raise InvalidKey("NUL in storage root path", uri=repr(root))
        shown = repr(path if len(path) <= 200 else path[:197] + "...")
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidKey(
                f"storage root {shown} is not valid UTF-8 text", hint="name the folder in UTF-8"
            ) from None
        try:
            self.root = Path(path).expanduser().resolve()
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            unusable = exc.errno in (errno.ENAMETOOLONG, errno.ENOTDIR, errno.EEXIST, errno.EINVAL)
            raise (InvalidKey if unusable else StorageError)(
                f"cannot use {shown} as a storage root: {exc.strerror or exc}",
                hint="name a folder that exists or can be created, or a storage URI "
                "(s3://, gs://, az://)",
            ) from None
        self.uri = object_uri("file", "", str(self.root))

    def __repr__(self) -> str:
        return f"LocalStorage({self.uri!r})"

    # -- paths --------------------------------------------------------------------------

    def url(self, key: str) -> str:
        base = self.root.as_posix().rstrip("/")
        return object_uri("file", "", f"{base}/{check_key(key, root=self.uri)}")

    def _path(self, key: str) -> Path:
        check_key(key, root=self.uri)
        for part in key.split("/"):
            if len(part.encode("utf-8")) > 255:
                raise InvalidKey(
                    "a key segment is longer than 255 bytes, the file system's limit for a name",
                    uri=self.uri + "/" + key[:120] + "...",
                    hint="shorten the object name",
                )
        path = self.root / key
        # Defence in depth: a symlink inside the root must not lead outside it.
        real = Path(os.path.realpath(path))
        if real != self.root and self.root not in real.parents:
            raise InvalidKey("object key resolves outside the storage root", uri=self.url(key))
        return path

    # -- reads --------------------------------------------------------------------------

    def stat(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None
        if not path.is_file():
            return None
        return _info(key, st)

    def read(self, key: str) -> bytes:
        return self.read_with_info(key)[0]

    def read_with_info(self, key: str) -> tuple[bytes, ObjectInfo]:
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                return fh.read(), _info(key, st)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound("no such object", uri=self.url(key)) from None

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return open(path, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound("no such object", uri=self.url(key)) from None

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        if prefix:
            check_key(prefix.rstrip("/") or "x", root=self.uri)
        base_dir = prefix.rpartition("/")[0]
        start = self.root / base_dir if base_dir else self.root
        if not start.is_dir():
            return
        found: list[ObjectInfo] = []
        for dirpath, dirnames, filenames in os.walk(start):
            rel_dir = os.path.relpath(dirpath, self.root)
            rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
            if rel_dir == "":
                dirnames[:] = [d for d in dirnames if d != _LOCK_DIR]
            # prune folders that cannot hold a matching key
            dirnames[:] = [
                d
                for d in dirnames
                if (rel_dir + d + "/").startswith(prefix) or prefix.startswith(rel_dir + d + "/")
            ]
            for name in filenames:
                key = rel_dir + name
                if name.startswith(_TMP_PREFIX) or not key.startswith(prefix):
                    continue
                try:  # keys found by walking the root need no re-validation
                    st = os.stat(os.path.join(dirpath, name))
                except FileNotFoundError:
                    continue  # deleted while we walked
                found.append(_info(key, st))
        found.sort(key=lambda info: info.key)
        yield from found

    # -- writes -------------------------------------------------------------------------

    def _temp_file(self, path: Path, data: bytes | BinaryIO) -> tuple[str, os.stat_result]:
        """Write ``data`` to a new temporary file beside ``path``.

        :returns: the temporary file's path and its final ``stat``. Renaming or linking it
            into place keeps its inode, size and mtime, so this *is* the published object's
            identity, whatever other writers do to the name afterwards.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                if isinstance(data, bytes | bytearray | memoryview):
                    fh.write(data)
                else:
                    shutil.copyfileobj(data, fh, 1024 * 1024)
                fh.flush()
                os.fsync(fh.fileno())
                st = os.fstat(fh.fileno())
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return tmp, st

    def write(self, key: str, data: bytes) -> ObjectInfo:
        return self._publish(key, data)

    def upload(self, key: str, source: BinaryIO) -> ObjectInfo:
        return self._publish(key, source)

    def _publish(self, key: str, data: bytes | BinaryIO) -> ObjectInfo:
        path = self._path(key)
        if path.is_dir():
            raise StorageError("a folder is in the way of the object", uri=self.url(key))
        tmp, st = self._temp_file(path, data)
        os.replace(tmp, path)
        # Not ``path.stat()``: another writer may already have replaced the name, and its
        # info is not this write's (two uploads would then share one etag, one run id).
        return _info(key, st)

    def create(self, key: str, data: bytes) -> ObjectInfo:
        path = self._path(key)
        tmp, st = self._temp_file(path, data)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise AlreadyExists("object already exists", uri=self.url(key)) from None
        except OSError as exc:  # file systems without hard links
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP):
                raise
            with self._locked(key):
                if path.exists():
                    raise AlreadyExists("object already exists", uri=self.url(key)) from None
                os.replace(tmp, path)
                return _info(key, st)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return _info(key, st)

    def replace(self, key: str, data: bytes, etag: str) -> ObjectInfo:
        path = self._path(key)
        tmp, st = self._temp_file(path, data)
        try:
            with self._locked(key):
                current = self.stat(key)
                if current is None or current.etag != etag:
                    raise PreconditionFailed(
                        "object changed since it was read (etag mismatch)"
                        if current
                        else "object no longer exists",
                        uri=self.url(key),
                    )
                os.replace(tmp, path)
                return _info(key, st)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        import fcntl

        lock_dir = self.root / _LOCK_DIR
        lock_dir.mkdir(exist_ok=True)
        name = hashlib.sha256(key.encode()).hexdigest()[:32]
        with open(lock_dir / name, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
