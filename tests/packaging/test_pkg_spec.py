"""What goes in which bundle, decided from the config and the options (no pip involved)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hookline.adapters.packaging import BUNDLE_NAMES, BuildOptions
from hookline.adapters.packaging._spec import (
    CLOUDS,
    DEFAULT_PYTHON,
    RUNTIMES,
    Target,
    bundle_specs,
    needs_parquet,
    platform_tags,
    runtime_id,
    split_requirement,
)
from hookline.errors import UsageError

REQUIRES = (
    "pluggy>=1.5",
    "pandas>=2.2",
    "pyarrow>=15",
    "numpy>=1.26",
    "scipy>=1.11",
    "scikit-learn>=1.4",
    "skops>=0.10",
    'boto3>=1.35; extra == "aws"',
    'google-cloud-storage>=2.18; extra == "gcp"',
    "azure-storage-blob>=12.20; extra == 'azure'",
    'fastapi>=0.110; extra == "serve"',
    'mangum>=0.17; extra == "serve"',
)
TRAINS = {
    "pipelines": {
        "train": {
            "stages": ["ingest", "train"],
            "trigger": {"prefix": "landing/", "suffix": ".csv"},
        }
    }
}
SCORES = {"pipelines": {"score": {"stages": ["ingest", "monitor"]}}}


def _options(cloud: str = "aws", **kw) -> BuildOptions:
    return BuildOptions(
        cloud=cloud,
        config=Path("hookline.toml"),
        out=Path("dist"),
        project=Path("."),
        functions=Path("functions"),
        **kw,
    )


def _names(reqs: tuple[str, ...]) -> set[str]:
    return {split_requirement(r)[0] for r in reqs}


def test_bundle_names_are_the_ones_terraform_expects():
    assert dict(BUNDLE_NAMES) == {
        ("aws", "pipeline"): "aws/pipeline.zip",
        ("aws", "serving"): "aws/serving.zip",
        ("gcp", "source"): "gcp/source.zip",
        ("azure", "pipeline"): "azure/pipeline.zip",
        ("azure", "serving"): "azure/serving.zip",
    }
    specs = bundle_specs(_options(), REQUIRES, TRAINS)
    assert [(s.name, s.handler, list(s.entry_files.values())) for s in specs] == [
        ("aws/pipeline.zip", ("pipeline", "handler"), ["pipeline.py"]),
        ("aws/serving.zip", ("serving", "handler"), ["serving.py"]),
    ]


def test_aws_pipeline_gets_base_deps_without_pyarrow_or_boto3_by_default():
    pipeline, serving = bundle_specs(_options(), REQUIRES, TRAINS)
    assert _names(pipeline.requirements) == {
        "pluggy",
        "pandas",
        "numpy",
        "scipy",
        "scikit-learn",
        "skops",
    }
    assert "numpy>=1.26" in pipeline.requirements, "specifiers come from hookline's metadata"
    assert any("pyarrow left out" in n for n in pipeline.notes)
    assert any("boto3 left out" in n for n in pipeline.notes)
    assert {
        "fastapi",
        "mangum",
        "pydantic",
        "scikit-learn",
        "skops",
        "numpy",
        "scipy",
        "pluggy",
    } <= _names(serving.requirements)


def test_parquet_in_the_config_or_flag_brings_pyarrow():
    parquet = {
        "pipelines": {
            "p": {
                "stages": ["ingest"],
                "trigger": {"prefix": "landing/", "suffix": [".csv", ".parquet"]},
            }
        }
    }
    assert needs_parquet(parquet) and not needs_parquet(TRAINS)
    assert needs_parquet({"plugins": {"pandas": {"format": "parquet"}}})
    assert "pyarrow" in _names(bundle_specs(_options(), REQUIRES, parquet)[0].requirements)
    forced = bundle_specs(_options(parquet=True), REQUIRES, TRAINS)[0]
    assert "pyarrow" in _names(forced.requirements)
    assert "pyarrow" not in _names(
        bundle_specs(_options(parquet=False), REQUIRES, parquet)[0].requirements
    )


def test_boto3_only_when_asked():
    pipeline, serving = bundle_specs(_options(include_boto3=True), REQUIRES, TRAINS)
    assert "boto3" in _names(pipeline.requirements) and "boto3" in _names(serving.requirements)


def test_serving_pandas_follows_training_unless_overridden():
    serving = bundle_specs(_options(), REQUIRES, TRAINS)[1]
    assert "pandas" in _names(serving.requirements), "built-in models take a DataFrame"
    assert any("built-in trainer" in n for n in serving.notes)
    assert "pandas" not in _names(bundle_specs(_options(), REQUIRES, SCORES)[1].requirements)
    off = bundle_specs(_options(serving_with_pandas=False), REQUIRES, TRAINS)[1]
    assert "pandas" not in _names(off.requirements) and "pandas" not in off.smoke_imports
    on = bundle_specs(_options(serving_with_pandas=True), REQUIRES, SCORES)[1]
    assert "pandas" in _names(on.requirements)


def test_gcp_is_one_source_archive_and_azure_one_zip_per_role():
    [gcp] = bundle_specs(_options("gcp"), REQUIRES, TRAINS)
    assert gcp.site_dir is None and gcp.name == "gcp/source.zip"
    assert {"functions-framework", "google-cloud-storage", "fastapi"} <= _names(gcp.requirements)
    pipeline, serving = bundle_specs(_options("azure"), REQUIRES, TRAINS)
    assert pipeline.site_dir == serving.site_dir == ".python_packages/lib/site-packages"
    assert set(pipeline.entry_files.values()) == {"function_app.py", "host.json"}
    assert (pipeline.env, serving.env) == (
        {"HOOKLINE_ROLE": "pipeline"},
        {"HOOKLINE_ROLE": "serving"},
    )
    assert {"azure-functions", "azure-storage-blob"} <= _names(pipeline.requirements)


def test_extra_requirements_reach_every_bundle():
    specs = bundle_specs(_options(extra_requirements=("hookline-plugin-x==1.2",)), REQUIRES, TRAINS)
    assert all("hookline-plugin-x==1.2" in s.requirements for s in specs)


def test_platform_tags_stop_at_the_runtime_glibc():
    al2 = platform_tags(Target("aws", "x86_64", "3.11"))
    assert al2[0] == "manylinux2014_x86_64" and al2[-1] == "manylinux_2_26_x86_64"
    al2023 = platform_tags(Target("aws", "arm64", "3.12"))
    assert al2023[-1] == "manylinux_2_34_aarch64" and "manylinux_2_28_aarch64" in al2023
    assert platform_tags(Target("azure", "x86_64", "3.11"))[-1] == "manylinux_2_31_x86_64"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"cloud": "lambda"}, "unknown cloud"),
        ({"arch": "ppc64"}, "unknown --arch"),
        ({"cloud": "azure", "arch": "arm64"}, "x86_64 only"),
        ({"python": "3.10"}, "aws runs Python 3.11, 3.12, 3.13"),
        ({"cloud": "azure", "python": "3.13"}, "runtimes 3.11, 3.12"),
        ({"format": "tar"}, "unknown --format"),
        ({"cloud": "gcp", "format": "image"}, "aws only"),
        ({"base": "oci:base"}, "--format image only"),
        ({"roles": ("train",)}, "unknown role"),
    ],
)
def test_bad_options_are_usage_errors(kwargs, words):
    cloud = kwargs.pop("cloud", "aws")
    with pytest.raises(UsageError, match=words):
        _options(cloud, **kwargs)


def test_split_requirement():
    assert split_requirement("boto3>=1.35; extra == 'aws'") == ("boto3", ">=1.35", "aws")
    assert split_requirement("Scikit_Learn>=1.4") == ("scikit-learn", ">=1.4", None)
    assert split_requirement("uvicorn[standard]>=0.29") == ("uvicorn", ">=0.29", None)


def test_runtime_identifiers_per_cloud():
    assert [runtime_id("aws", v) for v in RUNTIMES["aws"]] == [
        "python3.11",
        "python3.12",
        "python3.13",
    ]
    assert [runtime_id("gcp", v) for v in RUNTIMES["gcp"]] == [
        "python311",
        "python312",
        "python313",
    ]
    assert [runtime_id("azure", v) for v in RUNTIMES["azure"]] == ["3.11", "3.12"]


def test_one_default_python_everywhere():
    """The command line, the options and every cloud agree on the default runtime."""
    import argparse

    from hookline.cli import build_parser

    assert all(DEFAULT_PYTHON in versions for versions in RUNTIMES.values())
    assert BuildOptions.__dataclass_fields__["python"].default == DEFAULT_PYTHON
    args = build_parser().parse_args(["package", "--cloud", "azure"])
    assert isinstance(args, argparse.Namespace) and args.python == DEFAULT_PYTHON
    for cloud in CLOUDS:
        assert _options(cloud).runtime == runtime_id(cloud, DEFAULT_PYTHON)


def test_a_relative_out_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _options().out == tmp_path / "dist"


def test_pyarrow_from_the_parquet_extra():
    """hookline declares pyarrow in its `parquet` extra: bundles take it from there, with
    the version the extra states, only when Parquet is needed."""
    requires = tuple(r for r in REQUIRES if not r.startswith("pyarrow")) + (
        'pyarrow>=15; extra == "parquet"',
    )
    parquet = {"pipelines": {"p": {"stages": ["ingest"], "trigger": {"prefix": "l/"}}}}
    wanted = bundle_specs(_options(parquet=True), requires, parquet)[0]
    assert "pyarrow>=15" in wanted.requirements
    left_out = bundle_specs(_options(), requires, TRAINS)[0]
    assert "pyarrow" not in _names(left_out.requirements)
    assert any("pyarrow left out" in n for n in left_out.notes)
