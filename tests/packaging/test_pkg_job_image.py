"""The job image (run offload): the pipeline bundle's layers under a config whose entry point
is ``python3 -m hookline job run``. Built on a synthetic base, accepted by skopeo and umoci,
and its entry point, run from the unpacked tree, completes a dispatched run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from _pkg_helpers import REPO, make_base_image, require_tool
from hookline.adapters.packaging._image import build_image
from hookline.adapters.packaging._job import JOB_ENTRYPOINT, write_job_image


def _site() -> Path:
    import sysconfig

    return Path(sysconfig.get_paths()["purelib"])


def _bundle(root: Path) -> Path:
    """A pipeline bundle's application files: this source tree's hookline (with the
    installed distribution's metadata, which names the built-in plugins), the entry file."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    [dist] = _site().glob("hookline-*.dist-info")
    shutil.copytree(dist, root / dist.name)
    shutil.copytree(REPO / "core", root / "hookline", ignore=ignore)
    shutil.copytree(REPO / "plugins", root / "hookline" / "plugins", ignore=ignore)
    shutil.copytree(REPO / "adapters", root / "hookline" / "adapters", ignore=ignore)
    shutil.copy2(REPO / "functions" / "aws_lambda" / "pipeline.py", root / "pipeline.py")
    return root


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = make_base_image(tmp_path_factory.mktemp("base") / "layout")
    out = tmp_path_factory.mktemp("dist") / "aws"
    out.mkdir()
    root = _bundle(tmp_path_factory.mktemp("bundle"))
    pipeline = build_image(
        root, base, out / "pipeline.oci", cmd=["pipeline.handler"], tag="pipeline"
    )
    manifest = {
        "schema": "hookline.bundle/1",
        "cloud": "aws",
        "role": "pipeline",
        "format": "image",
    }
    job = write_job_image(
        root=root,
        base=base,
        folder=out,
        workdir="/var/task",
        architecture="amd64",
        version="0.0.0",
        pipeline_manifest=manifest,
        log=lambda line: None,
    )
    return {"out": out, "pipeline": pipeline, "job": job, "base": base}


def test_the_job_image_shares_the_pipeline_s_layers_and_has_its_own_entry_point(images):
    job = images["job"]
    assert job["role"] == "job" and job["artifact"] == "job.oci.tar"
    assert job["handler"] == "hookline job run"
    assert job["image"]["entrypoint"] == list(JOB_ENTRYPOINT)
    assert job["image"]["digest"] != images["pipeline"].digest
    on_disk = json.loads((images["out"] / "job.manifest.json").read_text())
    assert on_disk == job
    layout = images["out"] / "job.oci"
    [entry] = json.loads((layout / "index.json").read_text())["manifests"]
    assert entry["digest"] == job["image"]["digest"]
    blob = layout / "blobs" / "sha256" / entry["digest"].split(":", 1)[1]
    layers = [d["digest"] for d in json.loads(blob.read_text())["layers"]]
    assert layers == list(images["pipeline"].layers), "the same layers: stored once"
    inspected = subprocess.run(
        [require_tool("skopeo"), "inspect", "--config", f"oci:{layout}:job"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert inspected.returncode == 0, inspected.stderr
    config = json.loads(inspected.stdout)["config"]
    assert config["Entrypoint"] == list(JOB_ENTRYPOINT) and not config.get("Cmd")
    env = dict(e.split("=", 1) for e in config["Env"])
    assert env["PYTHONPATH"] == "/var/task" and env["HOOKLINE_ROLE"] == "job"


def test_its_entry_point_runs_a_dispatched_run_from_the_unpacked_tree(images, tmp_path):
    import sys

    sys.path.insert(0, str(REPO / "tests"))
    try:
        from offload._project import make_project, training_csv
    finally:
        sys.path.remove(str(REPO / "tests"))
    unpacked = tmp_path / "unpacked"
    done = subprocess.run(
        [
            require_tool("umoci"),
            "unpack",
            "--rootless",
            "--image",
            f"{images['out'] / 'job.oci'}:job",
            str(unpacked),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rootfs = unpacked / "rootfs"
    process = json.loads((unpacked / "config.json").read_text())["process"]
    assert process["args"] == list(JOB_ENTRYPOINT)
    image_env = dict(e.split("=", 1) for e in process["env"])

    project = make_project(
        tmp_path / "p", compute={"command": [sys.executable, "-c", "import time; time.sleep(300)"]}
    )
    run_id = project.app().handle(project.upload("a.csv", training_csv(41)))[0].run_id
    # The image's interpreter and search path, rooted at the unpacked tree; this test's
    # bundle has no dependency layer, so this environment's libraries stand in for it.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(rootfs) + image_env["PYTHONPATH"], str(_site())]),
        "HOOKLINE_CONFIG": str(project.config_path),
        "HOOKLINE_RUN_ID": run_id,
        "HOOKLINE_ATTEMPT": "1",
    }
    interpreter = rootfs / "var" / "lang" / "bin" / process["args"][0]
    ran = subprocess.run(
        [str(interpreter), *process["args"][1:], "train"],  # SageMaker appends "train"
        cwd=rootfs / "var" / "task",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    project.kill_all()  # the local backend's placeholder job: this test plays the platform
    assert ran.returncode == 0, ran.stdout + ran.stderr
    record = project.record(run_id)
    assert record["status"] == "succeeded", record.get("error")
    where = json.loads(
        subprocess.run(
            [str(interpreter), "-c", "import hookline, json; print(json.dumps(hookline.__file__))"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert where.startswith(str(rootfs)), "the job ran the image's hookline"
