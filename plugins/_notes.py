"""Notes an integration plugin leaves in the run record, also after the record is written.

Observers of the run's end (``after_pipeline_run``, ``on_pipeline_error``) are called once
``runs/<run_id>/record.json`` is final, so what they put in ``ctx.notes`` would never reach
it. :func:`set_note` therefore also merges the note into the stored record, by
compare-and-swap on its etag, when the record already exists: what an integration could
not deliver is visible in ``hookline runs show RUN_ID`` and on the dashboard.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from hookline.errors import NotFound, PreconditionFailed
from hookline.types import RunContext

__all__ = ["set_note"]

log = logging.getLogger("hookline.plugins")

_ATTEMPTS = 5


def set_note(ctx: RunContext, name: str, note: Mapping[str, Any], *, final: bool) -> None:
    """Put ``note`` under ``notes[name]`` of the run record.

    :param ctx: the run context (``ctx.notes`` is updated in every case).
    :param name: the plugin's name.
    :param note: plain JSON values.
    :param final: the record is already written (end-of-run observers): merge the note
        into the stored record too. Never raises; a record that cannot be updated is
        logged.
    """
    ctx.notes[name] = dict(note)
    if not final:
        return
    key = f"{ctx.run_prefix}record.json"
    for _ in range(_ATTEMPTS):
        try:
            raw, info = ctx.storage.read_with_info(key)
        except NotFound:
            return  # no final record (a transient failure, or a test context)
        except Exception as exc:
            log.warning("run %s: could not read the record to add notes: %s", ctx.run_id, exc)
            return
        record = json.loads(raw)
        notes = dict(record.get("notes") or {})
        if notes.get(name) == ctx.notes[name]:
            return
        notes[name] = ctx.notes[name]
        record["notes"] = notes
        data = json.dumps(record, indent=2, sort_keys=True, default=str).encode()
        try:
            ctx.storage.replace(key, data, info.etag or "")
            return
        except PreconditionFailed:
            continue  # written meanwhile (another observer's note): read it again
        except Exception as exc:
            log.warning("run %s: could not add notes to the record: %s", ctx.run_id, exc)
            return
    log.warning("run %s: the record kept changing; notes[%r] not added", ctx.run_id, name)
