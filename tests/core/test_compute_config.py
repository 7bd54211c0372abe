"""A pipeline's ``compute`` table is validated at load: a wrong or missing backend setting is
a ConfigError naming the dotted key (exit 2), before any event arrives."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hookline.compute import backend_names, job_name
from hookline.config import parse_config
from hookline.errors import ConfigError

DIGEST = "sha256:" + "ab" * 32
IMAGE = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/hookline@{DIGEST}"


def _config(compute: dict) -> dict:
    return {
        "project": {"storage": "/tmp/never-opened"},
        "pipelines": {
            "train": {
                "model": "m",
                "stages": ["ingest", "train"],
                "trigger": {"prefix": "landing/train/"},
                "compute": compute,
            }
        },
    }


def _error(compute: dict) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(_config(compute), source="hookline.toml")
    return caught.value


def test_every_backend_the_issue_names_is_installed():
    assert set(backend_names()) >= {
        "local",
        "aws-batch",
        "sagemaker",
        "cloud-run-job",
        "container-apps-job",
    }


def test_a_valid_table_fills_in_the_defaults():
    config = parse_config(
        _config(
            {
                "backend": "aws-batch",
                "job_queue": "q",
                "job_definition": "jd",
                "image": IMAGE,
                "memory_mib": 16384,
            }
        )
    )
    compute = config.pipelines["train"].compute
    assert compute is not None
    assert (compute.backend, compute.when, compute.max_attempts) == ("aws-batch", "auto", 3)
    assert compute.settings["memory_mib"] == 16384
    assert compute.image_digest == DIGEST
    assert compute.lease_seconds == 3 * compute.heartbeat_seconds


@pytest.mark.parametrize(
    ("compute", "key", "words"),
    [
        ({}, "pipelines.train.compute.backend", "missing required key"),
        ({"backend": "aws-bach"}, "pipelines.train.compute.backend", "did you mean 'aws-batch'"),
        (
            {"backend": "aws-batch", "job_definition": "jd", "image": IMAGE},
            "pipelines.train.compute.job_queue",
            "missing required key",
        ),
        (
            {
                "backend": "aws-batch",
                "job_queue": "q",
                "job_definition": "jd",
                "image": "repo:latest",
            },
            "pipelines.train.compute.image",
            "by digest",
        ),
        (
            {
                "backend": "aws-batch",
                "job_queue": "q",
                "job_definition": "jd",
                "image": IMAGE,
                "vcpu": 4,
            },
            "pipelines.train.compute.vcpu",
            "did you mean 'vcpus'",
        ),
        (
            {"backend": "aws-batch", "job_queue": "", "job_definition": "jd", "image": IMAGE},
            "pipelines.train.compute.job_queue",
            "non-empty",
        ),
        ({"backend": "local", "when": "sometimes"}, "pipelines.train.compute.when", "one of"),
        (
            {"backend": "local", "heartbeat_seconds": 0},
            "pipelines.train.compute.heartbeat_seconds",
            "at least 1",
        ),
        (
            {"backend": "local", "max_attempts": "3"},
            "pipelines.train.compute.max_attempts",
            "an integer",
        ),
        ({"backend": "local", "command": []}, "pipelines.train.compute.command", "non-empty"),
        (
            {
                "backend": "sagemaker",
                "image": IMAGE,
                "role_arn": "TrainingRole",
                "output_path": "s3://b/o",
            },
            "pipelines.train.compute.role_arn",
            "IAM role ARN",
        ),
        (
            {
                "backend": "sagemaker",
                "image": IMAGE,
                "role_arn": "arn:aws:iam::1:role/r",
                "output_path": "/tmp",
            },
            "pipelines.train.compute.output_path",
            "s3://",
        ),
        (
            {"backend": "cloud-run-job", "image": IMAGE, "job": "hookline-train"},
            "pipelines.train.compute.job",
            "projects/PROJECT/locations/REGION/jobs/NAME",
        ),
        (
            {"backend": "container-apps-job", "image": IMAGE, "queue": "Hookline_Jobs"},
            "pipelines.train.compute.queue",
            "invalid queue name",
        ),
    ],
)
def test_a_wrong_or_missing_setting_names_its_dotted_key(compute, key, words):
    error = _error(compute)
    assert error.key == key
    assert words in str(error)
    assert "hookline.toml" in str(error)
    assert error.exit_code == 2


def test_the_cli_exits_2_on_a_bad_compute_table(tmp_path: Path):
    (tmp_path / "hookline.toml").write_text(
        textwrap.dedent(
            """
            [project]
            storage = "store"
            [pipelines.train]
            model = "m"
            stages = ["ingest", "train"]
            trigger = { prefix = "landing/train/" }
            compute = { backend = "aws-batch", job_definition = "jd" }
            """
        )
    )
    (tmp_path / "data.csv").write_text("x,y\n1,2\n")
    done = subprocess.run(
        [sys.executable, "-m", "hookline", "run", "data.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "[pipelines.train.compute.job_queue] missing required key" in done.stderr
    assert not (tmp_path / "store" / "landing").exists(), "nothing is uploaded on a bad config"


def test_job_names_are_derived_and_fit_every_platform():
    import re

    long_pipeline = "Train.Big_model-" + "x" * 60
    run_id = f"{long_pipeline}-0123456789abcdef0123"
    name = job_name(run_id, 12)
    assert name == job_name(run_id, 12), "derived, never random"
    assert name != job_name(run_id, 13)
    assert len(name) <= 63
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name), name  # SageMaker's rule
    assert name.endswith("-0123456789abcdef0123-12")
    assert job_name("train-0123456789abcdef0123", 1) == "hl-train-0123456789abcdef0123-1"
