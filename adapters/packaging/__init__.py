"""``hookline package``: deployable bundles for AWS Lambda, Cloud Functions and Azure Functions.

``hookline package --cloud aws|gcp|azure`` builds, under ``--out`` (default ``dist/``):

* ``aws/pipeline.zip`` and ``aws/serving.zip`` -- Lambda zips, dependencies installed for
  Lambda's platform, slimmed, byte code precompiled, reproducible;
* ``gcp/source.zip`` -- a Cloud Functions (2nd gen) source archive with a pinned
  ``requirements.txt``;
* ``azure/pipeline.zip`` and ``azure/serving.zip`` -- run-from-package zips with
  ``.python_packages``.

Each bundle is checked against its platform's size limits. See docs/packaging.md.
Importing this package imports nothing heavy; pip runs only when a build does.
"""

from hookline.adapters.packaging._build import build
from hookline.adapters.packaging._pip import PipError
from hookline.adapters.packaging._report import BundleResult, BundleTooLarge
from hookline.adapters.packaging._smoke import SmokeFailed
from hookline.adapters.packaging._spec import BUNDLE_NAMES, LIMITS, BuildOptions, Limit

__all__ = [
    "BUNDLE_NAMES",
    "LIMITS",
    "BuildOptions",
    "BundleResult",
    "BundleTooLarge",
    "Limit",
    "PipError",
    "SmokeFailed",
    "build",
]
