"""The building blocks on small trees: reproducible zips, slimming rules, stripping, and
byte code compilation."""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hookline.adapters.packaging import _slim, _zip
from hookline.errors import HooklineError

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
TREE = {
    "pkg/__init__.py": b"from pkg import core\n",
    "pkg/core.py": b"VALUE = 42\n",
    "pkg/_ext.cpython-311-x86_64-linux-gnu.so": b"\x7fELF fake extension",
    "pkg/__pycache__/core.cpython-311.pyc": b"stale byte code",
    "pkg-1.0.dist-info/METADATA": b"Name: pkg\nVersion: 1.0\n",
    "pkg-1.0.dist-info/entry_points.txt": b"[hookline]\npkg = pkg\n",
    "pkg.libs/libvendored-1a2b.so.1": b"\x7fELF vendored",
}


def _make(root: Path, order: list[str], mtime: int, mode: int) -> Path:
    for name in order:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(TREE[name])
        path.chmod(0o755 if ".so" in name else mode)
        os.utime(path, (mtime, mtime))
    return root


def test_same_files_give_the_same_zip_bytes_whatever_their_mtimes_order_and_modes(tmp_path):
    names = sorted(TREE)
    a = _make(tmp_path / "a", names, 1_700_000_000, 0o600)
    b = _make(tmp_path / "b", names[::-1], 1_500_000_000, 0o664)
    za = _zip.write_zip(tmp_path / "a.zip", _zip.collect_tree(a), _zip.zip_timestamp({}))
    zb = _zip.write_zip(tmp_path / "b.zip", _zip.collect_tree(b), _zip.zip_timestamp({}))
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert za == zb and za.files == len(TREE)
    assert za.unzipped == sum(len(v) for v in TREE.values())
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        infos = {i.filename: i for i in zf.infolist()}
        assert list(infos) == sorted(TREE)
        assert infos["pkg/core.py"].date_time == (1980, 1, 1, 0, 0, 0)
        assert infos["pkg/core.py"].external_attr >> 16 == 0o100644
        assert infos["pkg.libs/libvendored-1a2b.so.1"].external_attr >> 16 == 0o100755
        assert zf.read("pkg/core.py") == TREE["pkg/core.py"]


def test_source_date_epoch_sets_every_timestamp(tmp_path):
    a = _make(tmp_path / "a", sorted(TREE), 1_700_000_000, 0o644)
    stamp = _zip.zip_timestamp({"SOURCE_DATE_EPOCH": "1700000001"})
    assert stamp == (2023, 11, 14, 22, 13, 20)
    _zip.write_zip(tmp_path / "a.zip", _zip.collect_tree(a), stamp)
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert {i.date_time for i in zf.infolist()} == {stamp}
    assert _zip.zip_timestamp({"SOURCE_DATE_EPOCH": "0"}) == (1980, 1, 1, 0, 0, 0)
    with pytest.raises(HooklineError, match="SOURCE_DATE_EPOCH"):
        _zip.zip_timestamp({"SOURCE_DATE_EPOCH": "yesterday"})


def test_two_files_at_one_name_is_an_error():
    with pytest.raises(HooklineError, match="pipeline.py"):
        _zip.merge([("pipeline.py", b"a")], [("pipeline.py", b"b")])


def test_slimming_rules(tmp_path):
    files = {
        "lib/__init__.py": "",
        "lib/core.py": "X = 1\n",
        "lib/tests/__init__.py": "",
        "lib/tests/test_core.py": "def test(): pass\n",
        "lib/tests/data/big.csv": "a,b\n",
        "lib/_core/__init__.py": "",
        "lib/_core/tests/__init__.py": "",
        "lib/_core/tests/_natype.py": "NA = None\n",
        "lib/_core/tests/test_natype.py": "",
        "lib/conftest.py": "",
        "lib/testing/__init__.py": "from lib._core.tests._natype import NA\n",
        "lib/_src.pyx": "",
        "lib/_src.pxd": "",
        "lib/_src.c": "",
        "lib/include/api.h": "",
        "lib/core.pyi": "",
        "lib/libstatic.a": "",
        "lib/__pycache__/core.cpython-311.pyc": "",
        "bin/lib-cli": "#!/home/me/venv/bin/python\n",
        "tests/__init__.py": "",
        "lib-1.0.dist-info/METADATA": "Name: lib\n",
        "lib-1.0.dist-info/direct_url.json": "{}",
        "lib-1.0.dist-info/RECORD": "lib/core.py,,\nlib-1.0.dist-info/direct_url.json,,\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    report = _slim.slim_tree(tmp_path)
    left = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert left == {
        "lib/__init__.py",
        "lib/core.py",
        "lib/_core/__init__.py",
        "lib/testing/__init__.py",
        "lib/_core/tests/__init__.py",
        "lib/_core/tests/_natype.py",
        "tests/__init__.py",
        "lib-1.0.dist-info/METADATA",
        "lib-1.0.dist-info/RECORD",
    }
    assert (tmp_path / "lib-1.0.dist-info/RECORD").read_text() == "lib/core.py,,\n"
    assert report.removed_files == len(files) - len(left)


@pytest.fixture
def shared_object(tmp_path: Path) -> Path:
    if not shutil.which("gcc") or not shutil.which("strip"):
        pytest.skip("needs gcc and strip (binutils)")
    src = tmp_path / "answer.c"
    src.write_text("int answer(void) { return 42; }\n")
    out = tmp_path / "answer.so"
    subprocess.run(["gcc", "-g", "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    return out


def test_strip_leaves_vendored_libs_alone_and_stripped_modules_load(tmp_path, shared_object):
    import platform

    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg.libs").mkdir()
    module, vendored = tree / "pkg" / "_answer.so", tree / "pkg.libs" / "libanswer.so"
    shutil.copy2(shared_object, module)
    shutil.copy2(shared_object, vendored)
    before = hashlib.sha256(vendored.read_bytes()).hexdigest()
    report = _slim.strip_tree(tree, machine)
    assert report.stripped == 1 and report.strip_saved_bytes > 0
    assert module.stat().st_size < shared_object.stat().st_size
    assert hashlib.sha256(vendored.read_bytes()).hexdigest() == before
    assert ctypes.CDLL(str(module)).answer() == 42
    other = "aarch64" if machine == "x86_64" else "x86_64"
    assert "bundle is" in _slim.strip_tree(tree, other).strip_skipped


def test_byte_code_is_reproducible_and_names_the_runtime_path(tmp_path):
    import marshal

    trees = []
    for name in ("one", "two"):
        root = tmp_path / name
        (root / "pkg").mkdir(parents=True)
        (root / "pkg" / "__init__.py").write_text("def f():\n    return {'a': (1, 2.5, 'x')}\n")
        report = _slim.compile_tree(root, PY, "/var/task")
        assert report.compiled == 1 and not report.compile_skipped
        trees.append(root)
    tag = sys.implementation.cache_tag
    one, two = (t / "pkg" / "__pycache__" / f"__init__.{tag}.pyc" for t in trees)
    assert one.read_bytes() == two.read_bytes()
    assert marshal.loads(one.read_bytes()[16:]).co_filename == "/var/task/pkg/__init__.py"
    skipped = _slim.compile_tree(trees[0], "3.99", "/var/task")
    assert "Python 3.99" in skipped.compile_skipped and skipped.compiled == 0
