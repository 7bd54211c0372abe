"""Shared plumbing for commands: loading the project from ``--config``."""

from __future__ import annotations

import argparse
import os

from hookline.config import Config, load_config
from hookline.events import StorageEvent
from hookline.registry import Registry, open_registry
from hookline.runs import RunStore
from hookline.storage import ObjectInfo, Storage, open_storage, parse_uri


def config_from(args: argparse.Namespace) -> Config:
    if getattr(args, "storage", None):
        os.environ["HOOKLINE_STORAGE"] = args.storage
    return load_config(getattr(args, "config", None))


def storage_from(args: argparse.Namespace) -> tuple[Config, Storage]:
    config = config_from(args)
    return config, open_storage(config.storage)


def registry_from(args: argparse.Namespace) -> Registry:
    config, storage = storage_from(args)
    return open_registry(storage, config.plugin_config("registry"))


def runs_from(args: argparse.Namespace) -> RunStore:
    config, storage = storage_from(args)
    return RunStore(storage, claim_timeout=config.runs["claim_timeout_seconds"])


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
