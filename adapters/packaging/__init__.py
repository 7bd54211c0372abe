"""``hookline package``: deployable bundles for AWS Lambda, Cloud Functions and Azure Functions.

``hookline package --cloud aws|gcp|azure`` builds, under ``--out`` (default ``dist/``):

* ``aws/pipeline.zip`` and ``aws/serving.zip`` -- Lambda zips, dependencies installed for
  Lambda's platform, slimmed, byte code precompiled, reproducible;
* ``gcp/source.zip`` -- a Cloud Functions (2nd gen) source archive with a pinned
  ``requirements.txt``;
* ``azure/pipeline.zip`` and ``azure/serving.zip`` -- run-from-package zips with
  ``.python_packages``;
* with ``--format image``, ``aws/<role>.oci/`` and ``aws/<role>.oci.tar`` -- OCI images
  (:func:`build_image`).

Each artifact has ``<role>.manifest.json`` beside it (the Terraform modules read it) and is
checked against its platform's size limits. See docs/packaging.md.
Importing this package imports nothing: the names below load on first use, so the
``hookline`` command line (which registers ``package`` at start-up) pays nothing for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookline.adapters.packaging._build import build
    from hookline.adapters.packaging._image import ImageError, ImageResult, build_image
    from hookline.adapters.packaging._libraries import LibraryMismatch
    from hookline.adapters.packaging._pip import PipError
    from hookline.adapters.packaging._report import BundleResult, BundleTooLarge
    from hookline.adapters.packaging._smoke import SmokeFailed
    from hookline.adapters.packaging._spec import (
        BUNDLE_NAMES,
        DEFAULT_PYTHON,
        IMAGE_LIMITS,
        LIMITS,
        RUNTIMES,
        BuildOptions,
        Limit,
        runtime_id,
    )

__all__ = [
    "BUNDLE_NAMES",
    "DEFAULT_PYTHON",
    "IMAGE_LIMITS",
    "LIMITS",
    "RUNTIMES",
    "BuildOptions",
    "BundleResult",
    "BundleTooLarge",
    "ImageError",
    "ImageResult",
    "LibraryMismatch",
    "Limit",
    "PipError",
    "SmokeFailed",
    "build",
    "build_image",
    "runtime_id",
]

_WHERE = {
    "build": "_build",
    "build_image": "_image",
    "ImageError": "_image",
    "ImageResult": "_image",
    "LibraryMismatch": "_libraries",
    "DEFAULT_PYTHON": "_spec",
    "IMAGE_LIMITS": "_spec",
    "RUNTIMES": "_spec",
    "runtime_id": "_spec",
    "PipError": "_pip",
    "BundleResult": "_report",
    "BundleTooLarge": "_report",
    "SmokeFailed": "_smoke",
    "BUNDLE_NAMES": "_spec",
    "LIMITS": "_spec",
    "BuildOptions": "_spec",
    "Limit": "_spec",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        module = importlib.import_module(f"{__name__}.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
