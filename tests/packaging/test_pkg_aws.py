"""The AWS Lambda pipeline bundle, built once for x86_64 / Python 3.11 in this session.

It must be slimmed but complete, reproducible, under Lambda's limits, and it must run one
S3 event through the real Lambda runtime client (awslambdaric) with nothing but its own
packages (plus what the Lambda runtime itself provides: the runtime client and boto3).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import marshal
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from _lambda_runtime import (
    assert_one_succeeded_run,
    invoke_pipeline,
    lambda_runtime_dir,
    upload_and_event,
)
from _pkg_helpers import REPO, check_manifest, require_entry_files
from hookline.adapters.packaging import LIMITS, BuildOptions, BundleTooLarge, Limit, _spec, build
from hookline.adapters.packaging._spec import Target, platform_tags

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
BUILD_ONLY = (".pyx", ".pxd", ".pxi", ".c", ".cc", ".cpp", ".h", ".hpp", ".a", ".pyi")


@pytest.fixture(scope="session")
def aws_build(
    tmp_path_factory: pytest.TempPathFactory, project_copy: Path, config_file: Path
) -> dict[str, Any]:
    functions = require_entry_files("aws_lambda/pipeline.py")
    out = tmp_path_factory.mktemp("dist-aws")
    options = BuildOptions(
        cloud="aws",
        config=config_file,
        out=out,
        project=project_copy,
        functions=functions,
        roles=("pipeline",),
        python=PY,
        registry="none",  # no production model: this environment's versions where they install
    )
    started = time.perf_counter()
    [result] = build(options)
    keep = tmp_path_factory.mktemp("kept") / "pipeline.zip"
    shutil.copy2(result.path, keep)
    return {
        "options": options,
        "result": result,
        "zip": keep,
        "seconds": time.perf_counter() - started,
    }


@pytest.fixture(scope="session")
def names(aws_build: dict[str, Any]) -> list[str]:
    with zipfile.ZipFile(aws_build["zip"]) as zf:
        return zf.namelist()


def test_bundle_has_handler_config_and_packages_at_its_root(aws_build, names, config_file):
    assert aws_build["result"].path == aws_build["options"].out / "aws" / "pipeline.zip"
    with zipfile.ZipFile(aws_build["zip"]) as zf:
        assert zf.read("pipeline.py") == (REPO / "functions/aws_lambda/pipeline.py").read_bytes()
        assert zf.read("hookline.toml") == config_file.read_bytes()
        eps = [n for n in names if n.startswith("hookline-") and n.endswith("entry_points.txt")]
        assert len(eps) == 1, "hookline's dist-info (its entry points) must be in the bundle"
        assert "[hookline.storage]" in zf.read(eps[0]).decode()
    for top in (
        "hookline/__init__.py",
        "numpy/__init__.py",
        "sklearn/__init__.py",
        "pandas/__init__.py",
        "scipy/__init__.py",
        "skops/__init__.py",
    ):
        assert top in names
    for dist in ("numpy", "scipy", "scikit_learn", "pandas", "skops", "pluggy"):
        assert any(n.startswith(f"{dist}-") and n.endswith(".dist-info/METADATA") for n in names), (
            dist
        )
    assert not any(n.startswith(("pyarrow/", "boto3/", "botocore/")) for n in names), (
        "pyarrow (no Parquet in the config) and boto3 (the runtime has it) stay out"
    )


def test_the_manifest_describes_the_zip(aws_build):
    manifest = check_manifest(aws_build["options"].out, "aws", "pipeline", PY)
    assert manifest["handler"] == "pipeline.handler" and manifest["artifact"] == "pipeline.zip"
    assert {"hookline", "scikit-learn", "numpy", "scipy", "pandas", "skops"} <= set(
        manifest["libraries"]
    )
    assert manifest["sha256"] == aws_build["result"].sha256
    report = json.loads((aws_build["options"].out / "aws" / "build-report.json").read_text())
    checked = {c["measure"]: c["size_bytes"] for c in report["bundles"][0]["limits"]}
    assert checked == {"zipped": manifest["size_bytes"], "unzipped": manifest["unzipped_bytes"]}


def test_test_suites_build_files_and_scripts_are_gone(names):
    for n in names:
        parts = n.split("/")
        assert not n.endswith(BUILD_ONLY), n
        assert parts[-1] != "conftest.py" and not parts[-1].startswith("test_"), n
        assert parts[0] != "bin" and not n.endswith("direct_url.json"), n
    in_tests = {n for n in names if "tests" in n.split("/")[1:-1]}
    # only what numpy.testing imports at run time survives from a tests/ folder
    assert {
        n.replace("__pycache__/", "").split(".cpython")[0].removesuffix(".py") for n in in_tests
    } <= {"numpy/_core/tests/__init__", "numpy/_core/tests/_natype"}
    assert any(n.startswith("numpy/testing/") for n in names), "numpy.testing is API: kept"


def test_byte_code_is_precompiled_for_the_target_with_no_timestamps(aws_build, names):
    sources = [n for n in names if n.endswith(".py")]
    have = set(names)
    tag = sys.implementation.cache_tag
    missing = [
        s
        for s in sources
        if f"{os.path.dirname(s)}/__pycache__/{os.path.basename(s)[:-3]}.{tag}.pyc".lstrip("/")
        not in have
    ]
    # a handful of files that are not valid Python for this version may lack byte code
    assert len(missing) <= len(aws_build["result"].slim.get("compile_failed", [])), missing[:5]
    assert len(sources) > 1000
    with zipfile.ZipFile(aws_build["zip"]) as zf:
        data = zf.read(f"numpy/__pycache__/__init__.{tag}.pyc")
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], "little") == 0b01, "hash-based, unchecked"
    assert marshal.loads(data[16:]).co_filename == "/var/task/numpy/__init__.py"


def _wheel_libs(pins: dict[str, str], dists: list[str], dest: Path) -> dict[str, bytes]:
    target = Target("aws", "x86_64", PY)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "-d",
        str(dest),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        PY,
    ]
    for tag in platform_tags(target):
        cmd += ["--platform", tag]
    subprocess.run([*cmd, *(f"{d}=={pins[d]}" for d in dists)], check=True)
    out = {}
    for wheel in dest.glob("*.whl"):
        with zipfile.ZipFile(wheel) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                if ".libs/" in info.filename or info.filename.endswith(".so"):
                    out[info.filename] = zf.read(info)
    return out


def test_vendored_libs_are_untouched_and_extension_modules_stripped(aws_build, tmp_path):
    result = aws_build["result"]
    wheel_files = _wheel_libs(dict(result.pins), ["numpy", "scipy"], tmp_path)
    with zipfile.ZipFile(aws_build["zip"]) as zf:
        bundle = {n: zf.read(n) for n in wheel_files if n in zf.namelist()}
    libs = [n for n in wheel_files if ".libs/" in n]
    assert libs and all(n in bundle for n in libs)
    for n in libs:  # byte for byte what the wheel shipped (stripping these breaks OpenBLAS)
        assert hashlib.sha256(bundle[n]).digest() == hashlib.sha256(wheel_files[n]).digest(), n
    modules = [n for n in bundle if ".libs/" not in n]
    assert all(len(bundle[n]) <= len(wheel_files[n]) for n in modules)
    assert sum(len(wheel_files[n]) - len(bundle[n]) for n in modules) > 0, "nothing stripped"
    assert result.slim["stripped"] > 100


def test_size_is_under_lambda_limits_and_reported(aws_build):
    result = aws_build["result"]
    with zipfile.ZipFile(aws_build["zip"]) as zf:
        infos = zf.infolist()
    assert result.unzipped == sum(i.file_size for i in infos)
    assert result.zipped == aws_build["zip"].stat().st_size
    unzipped_limit = LIMITS["aws"][0]
    assert unzipped_limit.measure == "unzipped" and unzipped_limit.bytes == 262_144_000
    assert result.unzipped < unzipped_limit.bytes
    report = json.loads((aws_build["options"].out / "aws" / "build-report.json").read_text())
    [entry] = report["bundles"]
    assert entry["unzipped_bytes"] == result.unzipped and entry["sha256"] == result.sha256
    assert [c["over"] for c in entry["limits"] if c["hard"]] == [False]
    assert result.smoke.startswith("ok"), result.smoke


def test_zip_entries_are_normalised(aws_build):
    with zipfile.ZipFile(aws_build["zip"]) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} <= {0o100644, 0o100755}
    assert not any(i.is_dir() for i in infos)


def test_rebuilding_gives_identical_bytes(aws_build, monkeypatch):
    options, first = aws_build["options"], aws_build["zip"]
    first_path = aws_build["result"].path
    first_path.unlink(missing_ok=True)  # the archive is written from scratch; the staged
    # install is reused. (The rebuild also runs over a tiny limit with --ignore-limits, which
    # must change nothing but a note: one archive write serves both checks.)
    tiny = Limit("tiny", "unzipped", 1024, True, "deploy a container image instead")
    monkeypatch.setitem(_spec.LIMITS, "aws", (tiny,))
    [again] = build(dataclasses.replace(options, enforce_limits=False, smoke=False))
    assert again.path == first_path
    assert again.path.read_bytes() == first.read_bytes()
    assert again.sha256 == aws_build["result"].sha256
    assert any("--ignore-limits" in n for n in again.notes)


def test_over_the_hard_limit_fails_naming_the_biggest_packages(aws_build, monkeypatch):
    options = aws_build["options"]
    small = Limit(
        "Lambda deployment package, unzipped",
        "unzipped",
        10 * 1024 * 1024,
        True,
        "deploy a container image instead",
    )
    monkeypatch.setitem(_spec.LIMITS, "aws", (small,))
    dest = options.out / "aws" / "pipeline.zip"
    dest.unlink(missing_ok=True)
    with pytest.raises(BundleTooLarge) as info:
        build(dataclasses.replace(options, smoke=False))
    message = str(info.value)
    assert "scipy" in message and "numpy" in message and "10.0 MB" in message
    assert "container image" in message and "pyarrow left out" in message
    assert not dest.exists(), "no over-size archive is left where Terraform would pick it up"


# --- one event through the real Lambda runtime client ------------------------------------


def test_bundle_runs_one_s3_event_through_awslambdaric(
    aws_build, s3_server, s3_bucket, runtime_api, tmp_path, config_file
):
    key, event = upload_and_event(s3_server, s3_bucket, config_file)
    task = tmp_path / "task"
    with zipfile.ZipFile(aws_build["zip"]) as zf:
        zf.extractall(task)
    runtime = lambda_runtime_dir(tmp_path / "runtime")
    kind, payload, output = invoke_pipeline(
        task,
        runtime,
        runtime_api(event),
        {"HOOKLINE_STORAGE": f"s3://{s3_bucket}", **s3_server.env},
        sys.executable,
        "pipeline.handler",
    )
    assert kind == "response", f"the function failed ({kind}): {payload}\n{output[-3000:]}"
    assert_one_succeeded_run(s3_server.s3_client(), s3_bucket, key, output)


# --- the same bundle as an OCI image ------------------------------------------------------


@pytest.fixture(scope="session")
def aws_images(aws_build, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The pipeline bundle built twice as an image on a synthetic base (the staged
    installs of the zip build are reused: only the image is assembled)."""
    from _pkg_helpers import make_base_image

    base = make_base_image(tmp_path_factory.mktemp("lambda-base") / "layout", tag=PY)
    options = dataclasses.replace(aws_build["options"], format="image", base=base, smoke=False)
    started = time.perf_counter()
    [first] = build(options)
    seconds = time.perf_counter() - started
    kept = tmp_path_factory.mktemp("first-image")
    shutil.copytree(first.path.parent / "pipeline.oci", kept / "pipeline.oci")
    shutil.copy2(first.path, kept / "pipeline.oci.tar")
    manifest = json.loads((options.out / "aws" / "pipeline.manifest.json").read_text())
    [second] = build(options)
    return {
        "options": options,
        "first": first,
        "second": second,
        "kept": kept,
        "manifest": manifest,
        "seconds": seconds,
    }


def test_the_image_is_reproducible_and_its_manifest_names_it(aws_images, aws_build):
    first, second, kept = aws_images["first"], aws_images["second"], aws_images["kept"]
    manifest = aws_images["manifest"]
    image = manifest["image"]
    print(
        f"image digests: {first.manifest['image']['digest']} {second.manifest['image']['digest']}"
    )
    assert first.manifest["image"]["digest"] == second.manifest["image"]["digest"]
    assert (kept / "pipeline.oci.tar").read_bytes() == second.path.read_bytes()
    assert manifest["format"] == "image" and manifest["artifact"] == "pipeline.oci.tar"
    assert image["oci_layout"] == "pipeline.oci" and image["archive"] == "pipeline.oci.tar"
    assert image["base"].startswith(aws_images["options"].base + "@sha256:")
    layout = second.path.parent / "pipeline.oci"
    [entry] = json.loads((layout / "index.json").read_text())["manifests"]
    assert entry["digest"] == image["digest"]
    data = second.path.read_bytes()
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["size_bytes"] == len(data)
    assert manifest["runtime"] == f"python{PY}" and manifest["handler"] == "pipeline.handler"
    # the bundle's files plus the base layer, uncompressed: what Lambda's 10 GB counts
    assert manifest["unzipped_bytes"] > aws_build["result"].unzipped
    limits = {c.limit.name: c for c in second.checks}
    assert list(limits) == ["Lambda container image, uncompressed (all layers)"]


def test_the_image_build_writes_the_job_image_beside_it(aws_images):
    """Run offload's job image: the pipeline bundle's layers, its own entry point."""
    out = aws_images["options"].out / "aws"
    job = json.loads((out / "job.manifest.json").read_text())
    pipeline = aws_images["manifest"]
    assert job["role"] == "job" and job["handler"] == "hookline job run"
    assert job["image"]["entrypoint"] == ["python3", "-m", "hookline", "job", "run"]
    assert job["image"]["digest"] != pipeline["image"]["digest"]
    assert (job["runtime"], job["architecture"], job["libraries"]) == (
        pipeline["runtime"],
        pipeline["architecture"],
        pipeline["libraries"],
    )
    [entry] = json.loads((out / "job.oci" / "index.json").read_text())["manifests"]
    assert entry["digest"] == job["image"]["digest"]


def test_the_image_unpacks_and_its_handler_answers_an_s3_event(
    aws_images, s3_server, s3_bucket, runtime_api, tmp_path, config_file
):
    from _pkg_helpers import require_tool

    layout = aws_images["second"].path.parent / "pipeline.oci"
    inspected = subprocess.run(
        [require_tool("skopeo"), "inspect", f"oci:{layout}:pipeline"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["Digest"] == aws_images["manifest"]["image"]["digest"]
    unpacked = tmp_path / "unpacked"
    proc = subprocess.run(
        [require_tool("umoci"), "unpack", "--image", f"{layout}:pipeline", str(unpacked)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rootfs = unpacked / "rootfs"
    process = json.loads((unpacked / "config.json").read_text())["process"]
    assert process["args"] == ["/lambda-entrypoint.sh", "pipeline.handler"]
    assert process["cwd"] == "/var/task"
    image_env = dict(e.split("=", 1) for e in process["env"])
    assert image_env["LAMBDA_TASK_ROOT"] == "/var/task"
    key, event = upload_and_event(s3_server, s3_bucket, config_file)
    # the image's own interpreter, task root and handler, the paths rooted at the unpacked tree
    kind, payload, output = invoke_pipeline(
        rootfs / "var/task",
        lambda_runtime_dir(tmp_path / "runtime"),
        runtime_api(event),
        {"HOOKLINE_STORAGE": f"s3://{s3_bucket}", **s3_server.env},
        str(rootfs / "var/lang/bin/python3"),
        process["args"][-1],
    )
    assert kind == "response", f"the function failed ({kind}): {payload}\n{output[-3000:]}"
    assert_one_succeeded_run(s3_server.s3_client(), s3_bucket, key, output)
