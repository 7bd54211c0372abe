"""hookline: serverless MLOps on any cloud.

A file lands in a bucket; a function runs the model lifecycle on it --
ingest, train, validate, deploy, monitor -- each stage a pluggy hook.

Plugin authors need one import::

    from hookline import hookimpl
"""

from hookline._markers import hookimpl, hookspec
from hookline.events import ScheduleEvent, StorageEvent
from hookline.types import (
    AliasMove,
    CheckResult,
    Dataset,
    Deployment,
    ModelVersion,
    MonitorReport,
    RunContext,
    Source,
    TrainedModel,
    VersionMeta,
)

__all__ = [
    "AliasMove",
    "CheckResult",
    "Dataset",
    "Deployment",
    "ModelVersion",
    "MonitorReport",
    "RunContext",
    "ScheduleEvent",
    "Source",
    "StorageEvent",
    "TrainedModel",
    "VersionMeta",
    "__version__",
    "hookimpl",
    "hookspec",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("hookline")
        except PackageNotFoundError:  # running from a source tree
            from hookline._version import __version__

            return __version__
    raise AttributeError(f"module 'hookline' has no attribute {name!r}")
