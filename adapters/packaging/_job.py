"""The job image: the pipeline bundle as a container job's image (run offload).

With ``--format image``, beside ``aws/pipeline.oci`` the AWS build writes
``aws/job.oci`` (and ``job.oci.tar``, ``job.manifest.json``, role ``job``): the same
layers -- a registry stores them once -- under another image config, whose entry point is
``python3 -m hookline job run`` instead of the Lambda runtime's, with the bundle folder on
``PYTHONPATH``. AWS Batch (which cannot override an image's entry point), SageMaker (which
appends ``train``: the command ignores it), Cloud Run jobs and Container Apps jobs run it
as it is. Its manifest's ``image.digest`` is what the compute table's ``image`` and the job
definition's ``HOOKLINE_IMAGE_DIGEST`` name, so a job can tell it runs the image its run
was dispatched for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hookline.adapters.packaging import _image, _manifest

__all__ = ["JOB_ENTRYPOINT", "write_job_image"]

JOB_ENTRYPOINT = ("python3", "-m", "hookline", "job", "run")


def write_job_image(
    *,
    root: Path,
    base: str,
    folder: Path,
    workdir: str,
    architecture: str,
    version: str,
    pipeline_manifest: Mapping[str, Any],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Build ``folder/job.oci`` from the pipeline bundle ``root`` on ``base`` and write its
    manifest; return the manifest."""
    log(f"  writing the job image {folder / 'job.oci'} on {base}")
    archive = folder / "job.oci.tar"
    image = _image.build_image(
        root,
        base,
        folder / "job.oci",
        archive=archive,
        cmd=[],
        entrypoint=list(JOB_ENTRYPOINT),
        env={"PYTHONPATH": workdir, "LAMBDA_TASK_ROOT": workdir, "HOOKLINE_ROLE": "job"},
        workdir=workdir,
        architecture=architecture,
        tag="job",
        labels={"org.opencontainers.image.version": version},
    )
    raw = _manifest.file_sha256(archive)
    import base64

    doc = {
        **pipeline_manifest,
        "role": "job",
        "artifact": archive.name,
        "handler": " ".join(JOB_ENTRYPOINT[2:]),
        "sha256": raw.hex(),
        "sha256_base64": base64.b64encode(raw).decode(),
        "size_bytes": archive.stat().st_size,
        "unzipped_bytes": image.uncompressed_bytes,
        "image": {
            "digest": image.digest,
            "oci_layout": image.layout.name,
            "archive": archive.name,
            "base": image.base,
            "entrypoint": list(JOB_ENTRYPOINT),
        },
    }
    _manifest.write_manifest(folder / "job.manifest.json", doc)
    return doc
