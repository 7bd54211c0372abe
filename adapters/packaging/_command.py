"""The ``hookline package`` subcommand (registered through ``hookline.commands``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hookline.adapters.packaging._spec import DEFAULT_PYTHON, FORMATS, RUNTIMES

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``hookline package`` to the command line."""
    p = sub.add_parser(
        "package",
        help="build the deployable bundles for one cloud (see docs/packaging.md)",
        description="Build deployable bundles: dist/aws/{pipeline,serving}.zip (or OCI "
        "images with --format image), dist/gcp/source.zip, dist/azure/{pipeline,serving}.zip; "
        "each with ROLE.manifest.json beside it, which the Terraform modules read.",
    )
    p.add_argument(
        "--cloud", required=True, choices=("aws", "gcp", "azure"), help="the cloud to package for"
    )
    p.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        default=None,
        help="hookline.toml to bundle (default: $HOOKLINE_CONFIG or ./hookline.toml)",
    )
    p.add_argument("--out", metavar="DIR", default="dist", help="output folder (default: dist)")
    p.add_argument(
        "--arch",
        choices=("x86_64", "arm64"),
        default="x86_64",
        help="CPU of the function (AWS: x86_64 or arm64)",
    )
    p.add_argument(
        "--python",
        default=DEFAULT_PYTHON,
        metavar="X.Y",
        help=f"Python version of the runtime (default: {DEFAULT_PYTHON}; aws and gcp: "
        f"{', '.join(RUNTIMES['aws'])}; azure: {', '.join(RUNTIMES['azure'])})",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="zip",
        help="zip archives, or OCI container images (aws; needs --base)",
    )
    p.add_argument(
        "--base",
        metavar="REF",
        default=None,
        help="base image for --format image, on disk: oci:DIR[:TAG] or "
        "oci-archive:FILE[:TAG] (e.g. a copy of public.ecr.aws/lambda/python:3.12)",
    )
    p.add_argument(
        "--registry",
        metavar="URI",
        default=None,
        help="where the production models are, whose training library versions the "
        "bundle carries (default: the config's storage; 'none': this environment's)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="build even when a production model was trained with library versions the "
        "bundle would not carry (a warning instead of exit code 2)",
    )
    p.add_argument(
        "--role",
        choices=("pipeline", "serving", "all"),
        default="all",
        help="which bundle(s) to build (AWS, Azure; GCP has one source archive)",
    )
    p.add_argument(
        "--include-boto3",
        action="store_true",
        help="bundle boto3 (the Lambda runtime already ships it)",
    )
    p.add_argument(
        "--serving-with-pandas",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bundle pandas in the serving bundle (default: when a pipeline trains, "
        "since the built-in trainer's models take a DataFrame)",
    )
    p.add_argument(
        "--with",
        dest="extra",
        action="append",
        default=[],
        metavar="REQ",
        help="another requirement for every bundle, e.g. a third-party plugin "
        "(a name, a pinned name or a wheel path; repeatable)",
    )
    p.add_argument(
        "--parquet",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bundle pyarrow for Parquet ingest (default: only when the config "
        "names Parquet inputs)",
    )
    p.add_argument(
        "--hookline-wheel",
        metavar="FILE",
        default=None,
        help="a hookline wheel to bundle (a pinned release) instead of the installed hookline",
    )
    p.add_argument(
        "--project",
        metavar="DIR",
        default=None,
        help="a hookline source tree to build the bundled hookline from (default: the "
        "installed hookline)",
    )
    p.add_argument(
        "--functions",
        metavar="DIR",
        default=None,
        help="folder with the entry files (default: those installed with hookline)",
    )
    p.add_argument("--fresh", action="store_true", help="ignore staged installs in OUT/.build")
    p.add_argument(
        "--no-smoke", dest="smoke", action="store_false", help="skip the import smoke test"
    )
    p.add_argument(
        "--ignore-limits",
        dest="enforce_limits",
        action="store_false",
        help="write a bundle even over a hard size limit (to build a container image from it)",
    )
    p.add_argument("--json", action="store_true", help="print the build report as JSON")
    p.set_defaults(func=cmd_package)


def cmd_package(args: argparse.Namespace) -> int:
    from hookline.adapters.packaging import BuildOptions, build
    from hookline.adapters.packaging._report import format_result
    from hookline.cli import print_json
    from hookline.config import find_config

    options = BuildOptions(
        cloud=args.cloud,
        config=Path(find_config(args.config)),
        out=Path(args.out),
        project=Path(args.project).resolve() if args.project else None,
        functions=Path(args.functions).resolve() if args.functions else None,
        arch=args.arch,
        python=args.python,
        roles=("pipeline", "serving") if args.role == "all" else (args.role,),
        format=args.format,
        base=args.base,
        hookline_wheel=Path(args.hookline_wheel).resolve() if args.hookline_wheel else None,
        registry=args.registry,
        force=args.force,
        include_boto3=args.include_boto3,
        serving_with_pandas=args.serving_with_pandas,
        parquet=args.parquet,
        extra_requirements=tuple(args.extra),
        fresh=args.fresh,
        enforce_limits=args.enforce_limits,
        smoke=args.smoke,
    )
    quiet = args.json or (not sys.stderr.isatty() and os.environ.get("CI"))
    results = build(
        options, log=(lambda m: None) if quiet else (lambda m: print(m, file=sys.stderr))
    )
    for r in results:  # shown even when quiet: the bundle may not serve the model it should
        for note in r.notes:
            if note.startswith("--force:"):
                print(f"warning: {note}", file=sys.stderr)
    if args.json:
        print_json([r.to_dict() for r in results])
    else:
        for r in results:
            print(format_result(r))
    return 0
