"""Shared plumbing for commands: opening the project from ``--config`` / ``--storage``."""

from __future__ import annotations

import argparse

from hookline.events import StorageEvent
from hookline.project import Project
from hookline.storage import ObjectInfo, Storage, parse_uri


def project_from(args: argparse.Namespace, *, require_config: bool = True) -> Project:
    """The project the command works on: ``--config`` (else the usual search), with
    ``--storage`` winning over the file's root. Commands that only read runs and models
    pass ``require_config=False``, so ``--storage URI`` works where no file exists."""
    return Project.open(
        getattr(args, "config", None),
        storage=getattr(args, "storage", None) or None,
        require_config=require_config,
    )


def event_for(storage: Storage, info: ObjectInfo) -> StorageEvent:
    """The storage event an upload of ``info`` produces, as a cloud trigger would."""
    uri = storage.url(info.key)
    parsed = parse_uri(uri)
    key = info.key if parsed.scheme == "file" else parsed.path
    return StorageEvent(
        uri=uri,
        bucket=parsed.bucket,
        key=key,
        size=info.size,
        etag=info.etag,
        version=info.version or info.etag,
        source="local",
    )
