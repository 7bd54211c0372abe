"""hookline on Google Cloud: GCS storage, CloudEvents, the Cloud Run functions, Secret Manager.

============  ===================================================================
``events``    ``google.cloud.storage.object.v1.finalized`` and schedule CloudEvents
              -> events (no SDK)
``pipeline``  the ``pipeline`` CloudEvent function (``functions/gcp_functions/main.py``)
``serving``   the ``serving`` HTTP function, the prediction service (same file)
``storage``   ``gs://`` storage (google-cloud-storage, imported when a client is needed)
``secrets``   Secret Manager references (imported when one is read)
============  ===================================================================

:data:`CLOUD` describes all of it to the rest of hookline (entry point ``hookline.clouds``).
Importing this package imports no Google SDK.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from hookline.adapters.cloud import Cloud, Packaging, Role, configure_logging
from hookline.adapters.gcp._samples import MODES

__all__ = ["CLOUD", "GCP"]


class GCP(Cloud):
    name = "gcp"
    title = "Google Cloud"
    package = "hookline.adapters.gcp"
    scheme = "gs"
    extra = "gcp"
    kinds = MODES
    sample_option = "mode"
    secret_sdk = "google-cloud-secret-manager"
    secret_forms = ("projects/PROJECT/secrets/SECRET[/versions/VERSION]", "gcp-sm://...")
    packaging = Packaging(
        functions="gcp_functions",
        roles=(
            Role(
                "source",
                ("main.py",),
                "main.py",
                entry_points={"pipeline": "pipeline", "serving": "serving"},
                requirements=("functions-framework",),
            ),
        ),
        site_dir=None,  # Cloud Build installs requirements.txt
        prepend_dir="/workspace",
        extras=("gcp",),
        runtime="python{nodot}",
        pythons=("3.11", "3.12", "3.13"),
        architectures=("x86_64",),
        glibc={"*": 35},  # Ubuntu 22.04 base image
    )

    def infer(self, payload: Any) -> bool:
        from hookline.adapters.gcp.events import classify

        if isinstance(payload, Mapping) and set(payload) == {"headers", "data"}:
            return classify(payload["data"], payload["headers"]) != "unknown"
        return classify(payload) != "unknown"

    def parse(self, payload: Any) -> list[Any]:
        """A CloudEvent (structured mode, or a functions-framework ``CloudEvent``), or a
        binary-mode request written as ``{"headers": {...}, "data": {...}}`` (what
        ``hookline events sample --kind binary`` prints)."""
        from hookline.adapters.gcp.events import parse_event

        if isinstance(payload, Mapping) and set(payload) == {"headers", "data"}:
            return parse_event(payload["data"], payload["headers"])
        return parse_event(payload)

    def configure_logging(self) -> bool:
        """On Cloud Run functions (``K_SERVICE`` is set): JSON lines on standard output with
        ``severity``, which Cloud Logging reads as the entry's severity."""
        return configure_logging(
            on_platform=bool(os.environ.get("K_SERVICE") or os.environ.get("FUNCTION_TARGET")),
            severity=True,
        )


CLOUD = GCP()
