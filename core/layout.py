"""The storage layout: every key hookline writes under a storage root, built here.

Nothing else in hookline spells a key; the registry, the run store, the retrain requests,
the built-in plugins, the dashboard and serving all ask this module. The drawing below is
the whole layout (``docs/architecture.md`` shows it, and a test checks the two agree)::

    <storage root>/
    ├── landing/...                          uploads (yours; the only prefixes triggers watch)
    ├── runs/
    │   ├── <run_id>/
    │   │   ├── claim.json                   create-only: the first delivery claims the run
    │   │   ├── record.json                  the run record, written when the run ends
    │   │   ├── completed                    its observers ran (a redelivery re-runs them if not)
    │   │   ├── dispatch.json                create-only: the run was handed to a job (offload)
    │   │   ├── report.html                  the run's report (reports plugin)
    │   │   └── <output>                     anything a plugin writes with ctx.write_output
    │   ├── index/
    │   │   └── <inverted-ms>-<run_id>.json  one summary per run, newest first by key
    │   └── jobs/
    │       └── <job-name>.json              one per job in flight: what the reconciler visits
    ├── registry/
    │   └── <model>/
    │       ├── versions/
    │       │   └── <000007>/
    │       │       ├── _claim.json          create-only: allocates version 7
    │       │       ├── <artifact>           model.skops, schema.json, ... (sha256 each)
    │       │       ├── manifest.json        written last: the version exists once it does
    │       │       ├── signature.json       with a signing key: HMAC of manifest + digests
    │       │       └── meta.json            tags and description: moved by compare-and-swap
    │       ├── aliases/
    │       │   └── <alias>.json             {version, seq, history}: moved by compare-and-swap
    │       ├── by-run/
    │       │   └── <run-digest>.json        the version a run allocated (idempotent retries)
    │       ├── by-data/
    │       │   └── <data-digest>.json       the version trained on exactly this data
    │       └── index.html                   the model's page (reports plugin)
    └── monitoring/
        └── <model>/
            ├── reports/
            │   └── <run_id>.json            one monitoring report per scoring run
            └── retrain/
                └── <request-id>.json        retrain requests: open, then done

Only ``runs/``, ``registry/`` and ``monitoring/`` are written (:data:`OUTPUT_PREFIXES`):
events for objects under them are ignored, so a trigger on the whole bucket cannot loop.
Names that become part of a key are checked here (:func:`check_name`), so no model,
alias or run id can reach outside its own prefix.
"""

from __future__ import annotations

import hashlib
import re

from hookline.errors import NotFound, UsageError

__all__ = [
    "INDEX",
    "JOBS",
    "MONITORING",
    "OUTPUT_PREFIXES",
    "REGISTRY",
    "RUNS",
    "alias_key",
    "aliases_prefix",
    "by_data_key",
    "by_run_key",
    "check_name",
    "check_run_id",
    "index_key",
    "index_run_id",
    "job_key",
    "job_name_of",
    "manifest_key",
    "model_index_key",
    "model_of",
    "model_prefix",
    "monitoring_prefix",
    "monitoring_report_key",
    "retrain_key",
    "retrain_prefix",
    "run_claim_key",
    "run_completed_key",
    "run_dispatch_key",
    "run_output_key",
    "run_prefix",
    "run_record_key",
    "version_claim_key",
    "version_key",
    "version_meta_key",
    "version_number",
    "version_prefix",
    "versions_prefix",
]

RUNS = "runs/"
INDEX = "runs/index/"
JOBS = "runs/jobs/"
REGISTRY = "registry/"
MONITORING = "monitoring/"
OUTPUT_PREFIXES = (RUNS, REGISTRY, MONITORING)
"""The only prefixes the pipeline writes under, relative to the storage root."""

MANIFEST = "manifest.json"
VERSION_CLAIM = "_claim.json"
VERSION_META = "meta.json"
"""A version's mutable notes (tags, description): outside the immutable, signed manifest."""
INVERT = 10**13
"""Index keys hold ``INVERT - start time in ms``, so listing order is newest first."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_RESERVED_RUN_IDS = ("index", "jobs")
"""Folders of ``runs/`` that are not runs."""


def check_name(kind: str, value: object) -> str:
    """A model or alias name that is safe as one key segment.

    :raises UsageError: anything but letters, digits, ``.``, ``_`` and ``-`` (128 at most,
        not starting with a punctuation mark).
    """
    if not isinstance(value, str) or not _NAME.match(value):
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise UsageError(
            f"invalid {kind} name {shown}",
            hint="use letters, digits, '.', '_' and '-' (max 128 characters)",
        )
    return value


def check_run_id(run_id: object) -> str:
    """A run id that is safe as one key segment.

    :raises NotFound: it cannot name a run (traversal, NUL, slashes, too long): no such run
        can exist, so nothing is read.
    """
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id) or run_id in _RESERVED_RUN_IDS:
        shown = repr(run_id) if len(repr(run_id)) <= 80 else repr(run_id)[:77] + "..."
        raise NotFound(f"no run {shown}", hint="list runs with `hookline runs`")
    return run_id


# --- runs ------------------------------------------------------------------------------------


def run_prefix(run_id: str) -> str:
    return f"{RUNS}{check_run_id(run_id)}/"


def run_claim_key(run_id: str) -> str:
    return run_prefix(run_id) + "claim.json"


def run_record_key(run_id: str) -> str:
    return run_prefix(run_id) + "record.json"


def run_completed_key(run_id: str) -> str:
    return run_prefix(run_id) + "completed"


def run_dispatch_key(run_id: str) -> str:
    """The run's dispatch record: written create-only when the run is handed to a job."""
    return run_prefix(run_id) + "dispatch.json"


def run_output_key(run_id: str, name: str) -> str:
    """A plugin's output of one run (``report.html``, ``predictions.csv``...)."""
    if not name or name.startswith("/") or ".." in name.split("/"):
        raise UsageError(f"invalid output name {name!r}", hint="use a relative file name")
    return run_prefix(run_id) + name


def index_key(started_epoch_ms: int, run_id: str) -> str:
    return f"{INDEX}{INVERT - started_epoch_ms:013d}-{check_run_id(run_id)}.json"


def index_run_id(key: str) -> str:
    """The run id an index key names."""
    return key[len(INDEX) + 14 :].removesuffix(".json")


def job_key(job_name: str) -> str:
    """The marker of one job in flight (the reconciler lists :data:`JOBS`)."""
    return f"{JOBS}{check_run_id(job_name)}.json"


def job_name_of(key: str) -> str:
    """The job name a job marker's key names."""
    return key[len(JOBS) :].removesuffix(".json")


# --- registry --------------------------------------------------------------------------------


def model_prefix(model: str) -> str:
    return f"{REGISTRY}{check_name('model', model)}/"


def versions_prefix(model: str) -> str:
    return model_prefix(model) + "versions/"


def version_prefix(model: str, version: int) -> str:
    return f"{versions_prefix(model)}{int(version):06d}/"


def version_key(model: str, version: int, name: str) -> str:
    """One file of a version: an artifact, the manifest or the version's claim."""
    if not name or "/" in name or name in (".", ".."):
        raise UsageError(f"invalid artifact name {name!r}", hint="use a plain file name")
    return version_prefix(model, version) + name


def version_claim_key(model: str, version: int) -> str:
    return version_key(model, version, VERSION_CLAIM)


def manifest_key(model: str, version: int) -> str:
    return version_key(model, version, MANIFEST)


def version_meta_key(model: str, version: int) -> str:
    """The version's tags and description (:data:`VERSION_META`), the one mutable file of
    a version."""
    return version_key(model, version, VERSION_META)


def version_number(model: str, key: str) -> tuple[int, str] | None:
    """``(version, file name)`` for a key under the model's versions, else ``None``."""
    prefix = versions_prefix(model)
    if not key.startswith(prefix):
        return None
    number, _, name = key[len(prefix) :].partition("/")
    return (int(number), name) if number.isdigit() else None


def aliases_prefix(model: str) -> str:
    return model_prefix(model) + "aliases/"


def alias_key(model: str, alias: str) -> str:
    return f"{aliases_prefix(model)}{check_name('alias', alias)}.json"


def by_run_key(model: str, run_id: str) -> str:
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:32]
    return f"{model_prefix(model)}by-run/{digest}.json"


def by_data_key(model: str, digest: str) -> str:
    """The marker naming the version trained on exactly the data ``digest`` names
    (:func:`hookline.window.data_digest`)."""
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise UsageError(f"invalid data digest {digest!r}", hint="a sha256 in hex")
    return f"{model_prefix(model)}by-data/{digest}.json"


def model_index_key(model: str) -> str:
    return model_prefix(model) + "index.html"


def model_of(key: str) -> tuple[str, str] | None:
    """``(model, what)`` for a key under ``registry/``: ``what`` is ``versions``,
    ``aliases``, ``by-run``, ``by-data`` or the file name; ``None`` for other keys."""
    if not key.startswith(REGISTRY):
        return None
    parts = key[len(REGISTRY) :].split("/")
    if len(parts) < 2 or not parts[0]:
        return None
    return parts[0], parts[1]


# --- monitoring ------------------------------------------------------------------------------


def monitoring_prefix(model: str) -> str:
    return f"{MONITORING}{check_name('model', model)}/"


def monitoring_report_key(model: str, run_id: str) -> str:
    return f"{monitoring_prefix(model)}reports/{check_run_id(run_id)}.json"


def retrain_prefix(model: str) -> str:
    return monitoring_prefix(model) + "retrain/"


def retrain_key(model: str, request_id: str) -> str:
    return f"{retrain_prefix(model)}{check_run_id(request_id)}.json"
