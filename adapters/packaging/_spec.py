"""What goes into each bundle: targets, platform tags, dependency sets, entry files, limits.

Everything here is data and small pure functions, so the rules can be read (and tested)
in one place. The Terraform modules rely on the bundle names in :data:`BUNDLE_NAMES`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hookline.errors import UsageError

__all__ = [
    "BUNDLE_NAMES",
    "CLOUDS",
    "DEFAULT_PYTHON",
    "FORMATS",
    "IMAGE_LIMITS",
    "LIMITS",
    "MODEL_LIBRARIES",
    "ROLES",
    "RUNTIMES",
    "BuildOptions",
    "BundleSpec",
    "Limit",
    "Target",
    "bundle_specs",
    "platform_tags",
    "runtime_id",
    "serving_runtime",
    "split_requirement",
]

CLOUDS = ("aws", "gcp", "azure")
ROLES = ("pipeline", "serving")
ARCHES = {"x86_64": "x86_64", "arm64": "aarch64"}
"""``--arch`` value -> the machine name in manylinux tags and in ``uname -m``."""

FORMATS = ("zip", "image")

BUNDLE_NAMES: Mapping[tuple[str, str], str] = {
    ("aws", "pipeline"): "aws/pipeline.zip",
    ("aws", "serving"): "aws/serving.zip",
    ("gcp", "source"): "gcp/source.zip",
    ("azure", "pipeline"): "azure/pipeline.zip",
    ("azure", "serving"): "azure/serving.zip",
}
"""Bundle paths under ``--out``. Fixed: each has ``<role>.manifest.json`` beside it, which
the Terraform modules read (docs/packaging.md, "The bundle manifest")."""

RUNTIMES: Mapping[str, tuple[str, ...]] = {
    "aws": ("3.11", "3.12", "3.13"),
    "gcp": ("3.11", "3.12", "3.13"),
    "azure": ("3.11", "3.12"),
}
"""Python versions each platform runs that hookline packages for (``--python``)."""

DEFAULT_PYTHON = "3.12"
"""``--python`` when not given: supported on every cloud, and what the manifest then records
(the Terraform modules read the runtime from the manifest, so they cannot disagree)."""

MODEL_LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas", "skops")
"""The libraries a saved model depends on: the bundle carries the versions that trained the
production model (the ``libraries`` of its version manifest)."""

MANIFEST_LIBRARIES = ("hookline", *MODEL_LIBRARIES, "onnxruntime")
"""The libraries a bundle manifest lists (those the bundle carries)."""


def runtime_id(cloud: str, python: str) -> str:
    """The platform's own name of the runtime for Python ``X.Y``: ``python3.12`` (Lambda),
    ``python312`` (Cloud Run functions), ``3.12`` (Azure Functions ``python_version``)."""
    if cloud == "aws":
        return f"python{python}"
    if cloud == "gcp":
        return "python" + python.replace(".", "")
    return python


AZURE_SITE_DIR = ".python_packages/lib/site-packages"

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limit:
    """One size limit of a platform.

    :param measure: ``"zipped"`` (the archive's size) or ``"unzipped"`` (sum of file sizes).
    :param hard: over a hard limit the platform refuses the bundle, so the build fails;
        over a soft one it only changes how the bundle must be deployed (a note).
    :param advice: what to do when over it.
    """

    name: str
    measure: str
    bytes: int
    hard: bool
    advice: str = ""


LIMITS: Mapping[str, tuple[Limit, ...]] = {
    "aws": (
        Limit(
            "Lambda deployment package, unzipped (function code and layers)",
            "unzipped",
            262_144_000,
            True,
            "deploy a container image instead (up to 10 GB), or slim the dependency set",
        ),
        Limit(
            "Lambda direct upload, zipped",
            "zipped",
            52_428_800,
            False,
            "upload the zip to S3 and point the function at it (the Terraform module "
            "does this: s3_bucket/s3_key)",
        ),
    ),
    "gcp": (
        Limit(
            "Cloud Run functions (1st gen) sources, compressed; 2nd gen has no such quota",
            "zipped",
            100 * MB,
            False,
            "keep data files and wheels out of the source; dependencies are installed "
            "by Cloud Build from requirements.txt",
        ),
    ),
    "azure": (
        Limit(
            "Azure Functions Consumption plan storage (shared by all apps in the plan)",
            "unzipped",
            5 * 1024 * MB,
            True,
            "host on a Premium or Dedicated plan, or deploy a container image",
        ),
    ),
}
"""Published platform limits of zip bundles. Sources and caveats are in docs/packaging.md
(a test holds its table to these values)."""

IMAGE_LIMITS: Mapping[str, tuple[Limit, ...]] = {
    "aws": (
        Limit(
            "Lambda container image, uncompressed (all layers)",
            "unzipped",
            10 * 1024 * MB,
            True,
            "slim the dependency set",
        ),
    ),
}
"""Published limits of container images, by cloud."""

# Highest glibc the target runtime ships, by cloud and Python version: wheels built for a
# newer glibc than the runtime's would install fine and fail at import time.
_GLIBC_AWS = {"3.11": 26}  # python3.11 runs on Amazon Linux 2 (glibc 2.26)
_GLIBC_AWS_NEWER = 34  # python3.12 and newer run on Amazon Linux 2023 (glibc 2.34)
# The official Lambda base image of each runtime (``--format image`` without ``--base``
# names it; it cannot be pulled here, so it must be on disk: see docs/packaging.md).
LAMBDA_BASE = "public.ecr.aws/lambda/python:{python}"
_GLIBC = {"azure": 31, "gcp": 35}  # Debian 11 based workers / Ubuntu 22.04 base image

PARQUET_SUFFIXES = (".parquet", ".pq")

# Requirements by bundle role, beyond what hookline itself declares. Version specifiers come
# from hookline's own metadata when it names the package (one place: pyproject.toml).
SERVING_BASE = ("pluggy", "numpy", "scipy", "scikit-learn", "skops", "fastapi", "pydantic")
# `[serving] runtime = "onnx"`: the served model is its ONNX artifact, predicted with
# onnxruntime and numpy; the training stack (scikit-learn, scipy, pandas, skops) stays out.
SERVING_ONNX = ("pluggy", "numpy", "onnxruntime", "fastapi", "pydantic")
CLOUD_EXTRA = {"aws": (), "gcp": ("gcp",), "azure": ("azure",)}
CLOUD_RUNTIME: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "aws": {"pipeline": (), "serving": ("mangum",)},
    "gcp": {"pipeline": ("functions-framework",), "serving": ("functions-framework",)},
    "azure": {"pipeline": ("azure-functions",), "serving": ("azure-functions",)},
}


@dataclass(frozen=True, slots=True)
class Target:
    """Where a bundle runs: cloud, CPU and Python version."""

    cloud: str
    arch: str
    python: str

    @property
    def machine(self) -> str:
        return ARCHES[self.arch]

    @property
    def python_tag(self) -> str:
        return "cp" + self.python.replace(".", "")


@dataclass(frozen=True)
class BuildOptions:
    """Everything ``hookline package`` was asked for.

    :param config: the ``hookline.toml`` to bundle (as ``hookline.toml`` at the root).
    :param out: output directory; bundles land at :data:`BUNDLE_NAMES` under it (made
        absolute here, so a relative ``--out`` means the same folder to every step).
    :param project: a hookline source tree to build the wheel from; ``None``: the
        installed hookline distribution (or ``hookline_wheel``).
    :param functions: the folder holding ``aws_lambda/``, ``gcp_functions/``,
        ``azure_functions/`` entry files; ``None``: the ones installed with hookline.
    :param python: the runtime's Python ``X.Y`` (one of :data:`RUNTIMES` for the cloud).
    :param format: ``zip`` (a function archive) or ``image`` (an OCI image, AWS).
    :param base: the base image for ``format="image"``: ``oci:DIR[:TAG]`` or
        ``oci-archive:FILE[:TAG]`` on disk (``None``: the platform's official base, which
        must then be on disk as ``oci:`` and is named in the error otherwise).
    :param hookline_wheel: a hookline wheel to bundle (a pinned release) instead of the
        installed distribution.
    :param registry: where the production models live (a storage URI); ``None``: the
        config's storage root; ``"none"``: do not look (bundle this environment's versions).
    :param force: build even when the production model was trained with library versions
        the bundle would not carry (a warning instead of the refusal).
    :param serving_with_pandas: bundle pandas for serving; ``None`` decides from the config
        (yes when a pipeline trains: the built-in trainer fits a Pipeline on a DataFrame,
        so predicting needs one).
    :param parquet: include pyarrow; ``None`` decides from the config.
    :param extra_requirements: more requirements for every bundle (third-party plugins).
    :param fresh: ignore the staged installs under ``out/.build`` and reinstall.
    :param smoke: run the import smoke test where the build machine matches the target.
    :param enforce_limits: fail over a hard size limit (off: write the archive anyway).
    """

    cloud: str
    config: Path
    out: Path
    project: Path | None = None
    functions: Path | None = None
    arch: str = "x86_64"
    python: str = DEFAULT_PYTHON
    roles: tuple[str, ...] = ROLES
    format: str = "zip"
    base: str | None = None
    hookline_wheel: Path | None = None
    registry: str | None = None
    force: bool = False
    include_boto3: bool = False
    serving_with_pandas: bool | None = None
    parquet: bool | None = None
    extra_requirements: tuple[str, ...] = ()
    fresh: bool = False
    smoke: bool = True
    enforce_limits: bool = True

    def __post_init__(self) -> None:
        if self.cloud not in CLOUDS:
            raise UsageError(f"unknown cloud {self.cloud!r}", hint=f"one of {', '.join(CLOUDS)}")
        if self.arch not in ARCHES:
            raise UsageError(f"unknown --arch {self.arch!r}", hint=f"one of {', '.join(ARCHES)}")
        if self.cloud == "azure" and self.arch != "x86_64":
            raise UsageError(
                "Azure Functions on Linux runs Python on x86_64 only",
                hint="drop --arch or pass --arch x86_64",
            )
        supported = RUNTIMES[self.cloud]
        if self.python not in supported:
            raise UsageError(
                f"--python {self.python!r}: {self.cloud} runs Python "
                f"{', '.join(supported)} (runtimes "
                f"{', '.join(runtime_id(self.cloud, v) for v in supported)})",
                hint=f"pass one of --python {' / '.join(supported)} (default {DEFAULT_PYTHON})",
            )
        if self.format not in FORMATS:
            raise UsageError(f"unknown --format {self.format!r}", hint="one of zip, image")
        if self.format == "image" and self.cloud not in IMAGE_LIMITS:
            raise UsageError(
                f"--format image is built for aws only (not {self.cloud})",
                hint=f"package {self.cloud} as a zip (drop --format)",
            )
        if self.base is not None and self.format != "image":
            raise UsageError("--base applies to --format image only", hint="drop --base")
        if self.project is not None and self.hookline_wheel is not None:
            raise UsageError(
                "--project and --hookline-wheel both say where hookline comes from",
                hint="pass one of them",
            )
        for role in self.roles:
            if role not in ROLES:
                raise UsageError(f"unknown role {role!r}", hint="one of pipeline, serving, all")
        object.__setattr__(self, "out", Path(self.out).absolute())

    @property
    def target(self) -> Target:
        return Target(self.cloud, self.arch, self.python)

    @property
    def runtime(self) -> str:
        return runtime_id(self.cloud, self.python)


@dataclass(frozen=True)
class BundleSpec:
    """One archive to build.

    :param name: path under ``--out`` (see :data:`BUNDLE_NAMES`).
    :param entry_files: source file -> name at the archive root.
    :param site_dir: where installed packages go inside the archive (``""`` = root);
        ``None`` = dependencies are not installed (GCP builds them from requirements.txt).
    :param requirements: what pip resolves (and installs unless ``site_dir`` is None).
    :param handler: module to import in the smoke test, and the attribute it must have.
    :param smoke_imports: heavy modules the smoke test imports to prove the native
        extensions load on the target.
    :param prepend_dir: where the site dir lives at run time (for byte code paths).
    """

    cloud: str
    role: str
    name: str
    entry_files: Mapping[Path, str]
    site_dir: str | None
    requirements: tuple[str, ...]
    handler: tuple[str, str]
    smoke_imports: tuple[str, ...]
    prepend_dir: str
    limits: tuple[Limit, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def platform_tags(target: Target) -> list[str]:
    """The ``--platform`` tags pip may pick wheels for, oldest glibc first.

    ``manylinux2014`` (glibc 2.17) plus every ``manylinux_2_N`` up to the runtime's glibc,
    because pip does not expand ``manylinux_2_N`` tags by itself.
    """
    if target.cloud == "aws":
        glibc = _GLIBC_AWS.get(target.python, _GLIBC_AWS_NEWER)
    else:
        glibc = _GLIBC[target.cloud]
    tags = [f"manylinux2014_{target.machine}"]
    tags += [f"manylinux_2_{n}_{target.machine}" for n in range(17, glibc + 1)]
    return tags


def split_requirement(line: str) -> tuple[str, str, str | None]:
    """``"boto3>=1.35; extra == 'aws'"`` -> ``("boto3", ">=1.35", "aws")``.

    The name is normalised (PEP 503); the extra is ``None`` for a base dependency.
    """
    spec, _, marker = line.partition(";")
    extra = None
    found = re.search(r"""extra\s*==\s*["']([^"']+)["']""", marker)
    if found:
        extra = found.group(1)
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)", spec)
    if not match:
        raise ValueError(f"cannot parse requirement {line!r}")
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
    return name, match.group(3).strip(), extra


def _requirements(names: Sequence[str], declared: Mapping[str, str]) -> list[str]:
    out = []
    for name in names:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", name):  # a full requirement: taken as given
            out.append(name)
            continue
        norm = re.sub(r"[-_.]+", "-", name).lower()
        out.append(f"{norm}{declared.get(norm, '')}")
    return list(dict.fromkeys(out))


def needs_parquet(config_raw: Mapping[str, object]) -> bool:
    """Whether the config names Parquet inputs (a trigger suffix, or a ``format`` key)."""

    def walk(value: object) -> bool:
        if isinstance(value, str):
            low = value.lower()
            return low == "parquet" or low.endswith(PARQUET_SUFFIXES)
        if isinstance(value, Mapping):
            return any(walk(v) for v in value.values())
        if isinstance(value, list | tuple):
            return any(walk(v) for v in value)
        return False

    return walk(config_raw.get("pipelines", {})) or walk(config_raw.get("plugins", {}))


def serving_runtime(config_raw: Mapping[str, object]) -> str:
    """The configuration's ``[serving] runtime`` (``auto`` when unset)."""
    serving = config_raw.get("serving")
    runtime = serving.get("runtime", "auto") if isinstance(serving, Mapping) else "auto"
    return str(runtime)


def bundle_specs(
    options: BuildOptions, requires_dist: Sequence[str], config_raw: Mapping[str, object]
) -> list[BundleSpec]:
    """The bundles ``options`` asks for.

    :param requires_dist: hookline's ``Requires-Dist`` lines (from the built wheel).
    :param config_raw: the parsed ``hookline.toml`` (to decide whether Parquet is needed).
    """
    base: list[str] = []
    declared: dict[str, str] = {}
    extras: dict[str, list[str]] = {}
    for line in requires_dist:
        name, spec, extra = split_requirement(line)
        if extra is None:
            base.append(name)
        else:
            extras.setdefault(extra, []).append(name)
        declared.setdefault(name, spec)
    parquet = needs_parquet(config_raw) if options.parquet is None else options.parquet
    notes: list[str] = []
    # pyarrow comes from hookline's `parquet` extra (from the base of older releases)
    parquet_deps = [n for n in base if n == "pyarrow"] + extras.get("parquet", [])
    pipeline_deps = [n for n in base if n != "pyarrow"] + (parquet_deps if parquet else [])
    if parquet_deps and not parquet:
        notes.append(
            "pyarrow left out: the config names no Parquet input "
            "(pass --parquet to include it; it adds about 170 MB unzipped)"
        )
    for extra in CLOUD_EXTRA[options.cloud]:
        pipeline_deps += extras.get(extra, [])
    pipelines = config_raw.get("pipelines", {})
    trains = isinstance(pipelines, Mapping) and any(
        isinstance(p, Mapping) and "train" in (p.get("stages") or ()) for p in pipelines.values()
    )
    serving_pandas = trains if options.serving_with_pandas is None else options.serving_with_pandas
    if serving_pandas and options.serving_with_pandas is None:
        serving_note = (
            "pandas included in the serving bundle: the config trains with the "
            "built-in trainer, whose models take a DataFrame "
            "(--no-serving-with-pandas leaves it out)"
        )
    elif serving_pandas:
        serving_note = "pandas included in the serving bundle (--serving-with-pandas)"
    else:
        serving_note = (
            "pandas left out of the serving bundle: models fitted on a DataFrame "
            "cannot be served without it (--serving-with-pandas bundles it)"
        )
    lean = serving_runtime(config_raw) == "onnx"
    if lean and options.cloud == "aws" and options.python == "3.11" and "serving" in options.roles:
        raise UsageError(
            '[serving] runtime = "onnx" needs onnxruntime, whose wheels need glibc 2.27 or '
            "newer; the python3.11 Lambda runtime (Amazon Linux 2) has glibc 2.26",
            hint="package for --python 3.12 (Amazon Linux 2023), or serve with "
            'runtime = "auto" or "sklearn" on python3.11',
        )
    if lean:
        serving_pandas = False
        serving_note = (
            'lean serving bundle: [serving] runtime = "onnx" serves each version\'s '
            "model.onnx with onnxruntime; scikit-learn, scipy, pandas and skops left out"
        )
        serving_deps = list(SERVING_ONNX)
    else:
        serving_deps = list(SERVING_BASE) + (["pandas"] if serving_pandas else [])
    for extra in CLOUD_EXTRA[options.cloud]:
        serving_deps += extras.get(extra, [])
    if options.cloud == "aws" and options.include_boto3:
        pipeline_deps += extras.get("aws", ["boto3"])
        serving_deps += extras.get("aws", ["boto3"])
    elif options.cloud == "aws":
        notes.append("boto3 left out: the Lambda runtime ships it (--include-boto3 bundles it)")
    runtime = CLOUD_RUNTIME[options.cloud]
    pipeline_deps += [*runtime["pipeline"], *options.extra_requirements]
    serving_deps += [*runtime["serving"], *options.extra_requirements]

    from hookline.adapters.packaging._source import installed_functions

    fdir = options.functions or installed_functions()
    limits = (IMAGE_LIMITS if options.format == "image" else LIMITS)[options.cloud]
    specs: list[BundleSpec] = []
    if options.cloud == "gcp":
        union = list(dict.fromkeys(pipeline_deps + serving_deps))
        specs.append(
            BundleSpec(
                cloud="gcp",
                role="source",
                name=BUNDLE_NAMES["gcp", "source"],
                entry_files={fdir / "gcp_functions" / "main.py": "main.py"},
                site_dir=None,
                requirements=tuple(_requirements(union, declared)),
                handler=("main", "pipeline"),
                smoke_imports=(),
                prepend_dir="/workspace",
                notes=tuple(notes),
                limits=limits,
            )
        )
        return specs
    for role in options.roles:
        deps = pipeline_deps if role == "pipeline" else serving_deps
        heavy: tuple[str, ...] = (
            ("numpy", "scipy.sparse", "sklearn", "pandas", "skops.io")
            if role == "pipeline"
            else ("numpy", "onnxruntime", "fastapi")
            if lean
            else ("numpy", "sklearn", "skops.io", "fastapi")
        )
        if serving_pandas and role == "serving":
            heavy += ("pandas",)
        role_notes = tuple(n for n in notes if role == "pipeline" or "pyarrow" not in n)
        if role == "serving":
            role_notes += (serving_note,)
        if options.cloud == "aws":
            specs.append(
                BundleSpec(
                    cloud="aws",
                    role=role,
                    name=BUNDLE_NAMES["aws", role],
                    entry_files={fdir / "aws_lambda" / f"{role}.py": f"{role}.py"},
                    site_dir="",
                    requirements=tuple(_requirements(deps, declared)),
                    handler=(role, "handler"),
                    smoke_imports=heavy,
                    prepend_dir="/var/task",
                    notes=role_notes,
                    limits=limits,
                )
            )
        else:
            specs.append(
                BundleSpec(
                    cloud="azure",
                    role=role,
                    name=BUNDLE_NAMES["azure", role],
                    entry_files={
                        fdir / "azure_functions" / "function_app.py": "function_app.py",
                        fdir / "azure_functions" / "host.json": "host.json",
                    },
                    site_dir=AZURE_SITE_DIR,
                    requirements=tuple(_requirements(deps, declared)),
                    handler=("function_app", "app"),
                    smoke_imports=heavy,
                    prepend_dir=f"/home/site/wwwroot/{AZURE_SITE_DIR}",
                    env={"HOOKLINE_ROLE": role},
                    notes=role_notes,
                    limits=limits,
                )
            )
    return specs
