"""What the Terraform modules deploy, shared with `hookline package`.

The modules name a bundle and an entry point per cloud; `hookline package` builds those bundles
with those entry points. Both sides are checked against this table (the Terraform side in
tests/terraform/test_structure.py), so neither can drift alone.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AZURE_FUNCTIONS", "BUNDLES", "ENTRY_POINTS", "FUNCTION_DIRS", "EntryPoint"]


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """One deployed function.

    :param bundle: path of the bundle, relative to the repository root.
    :param entry: handler (AWS: ``module.attribute``) or entry point name (GCP), or the value of
        the ``HOOKLINE_ROLE`` app setting (Azure).
    :param source: the entry file inside the bundle.
    """

    bundle: str
    entry: str
    source: str


ENTRY_POINTS: dict[str, dict[str, EntryPoint]] = {
    "aws": {
        "pipeline": EntryPoint("dist/aws/pipeline.zip", "pipeline.handler", "pipeline.py"),
        "serving": EntryPoint("dist/aws/serving.zip", "serving.handler", "serving.py"),
    },
    "gcp": {
        "pipeline": EntryPoint("dist/gcp/source.zip", "pipeline", "main.py"),
        "serving": EntryPoint("dist/gcp/source.zip", "serving", "main.py"),
    },
    "azure": {
        "pipeline": EntryPoint("dist/azure/pipeline.zip", "pipeline", "function_app.py"),
        "serving": EntryPoint("dist/azure/serving.zip", "serving", "function_app.py"),
    },
}

BUNDLES: frozenset[str] = frozenset(
    e.bundle for per_cloud in ENTRY_POINTS.values() for e in per_cloud.values()
)

# Functions the Azure pipeline app must expose (function_app.py with HOOKLINE_ROLE=pipeline).
AZURE_FUNCTIONS: dict[str, str] = {
    "queue": "pipeline_queue",
    "event_grid": "pipeline_event_grid",
    "timer": "pipeline_timer",
}

# Where the entry files live in the repository, per cloud (either spelling is accepted).
FUNCTION_DIRS: dict[str, tuple[str, ...]] = {
    "aws": ("functions/aws_lambda", "functions/aws"),
    "gcp": ("functions/gcp_functions", "functions/gcp"),
    "azure": ("functions/azure_functions", "functions/azure"),
}
