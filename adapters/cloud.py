"""What a cloud package builds on: the descriptor, event parsing, the function runtime,
storage helpers and structured logs.

hookline's own clouds (``hookline.adapters.aws``, ``...gcp``, ``...azure``) use exactly
this module, so a fourth cloud is a package laid out like them (``events``, ``pipeline``,
``serving``, ``storage``, ``secrets``), a :class:`Cloud` descriptor ``CLOUD`` in its
``__init__``, and one entry point in the group ``hookline.clouds`` (see "Adding a cloud" in
docs/architecture.md). Nothing here imports a cloud SDK.
"""

from hookline.adapters._cloud import (
    Cloud,
    Item,
    Packaging,
    Role,
    clouds,
    get_cloud,
    infer_cloud,
)
from hookline.adapters._events import (
    SCHEDULE_SOURCE,
    EventError,
    check_depth,
    checked_bucket,
    checked_key,
    decode_json,
    get_int,
    get_map,
    get_str,
    schedule_event,
    storage_event,
)
from hookline.adapters._function import (
    Delivery,
    PipelineRuntime,
    counts_line,
    failure_fields,
    handle_events,
)
from hookline.adapters._logs import JsonFormatter, configure_logging, run_fields
from hookline.adapters._samples import digest, fake_uuid, now_iso, split_uri
from hookline.adapters._storage import (
    CloudRoot,
    MappedReader,
    Rewindable,
    buffered,
    object_uri,
    quote_etag,
)

__all__ = [
    "SCHEDULE_SOURCE",
    "Cloud",
    "CloudRoot",
    "Delivery",
    "EventError",
    "Item",
    "JsonFormatter",
    "MappedReader",
    "Packaging",
    "PipelineRuntime",
    "Rewindable",
    "Role",
    "buffered",
    "check_depth",
    "checked_bucket",
    "checked_key",
    "clouds",
    "configure_logging",
    "counts_line",
    "decode_json",
    "digest",
    "failure_fields",
    "fake_uuid",
    "get_cloud",
    "get_int",
    "get_map",
    "get_str",
    "handle_events",
    "infer_cloud",
    "now_iso",
    "object_uri",
    "quote_etag",
    "run_fields",
    "schedule_event",
    "split_uri",
    "storage_event",
]
