"""One function instance that dies at a chosen point of a run (see test_crash.py).

    python -m reliability._crash_child CONFIG EVENT_JSON PATTERN before|after

Exits with :data:`~reliability._faults.CRASH_EXIT` when the crash point is reached, 0 when
the run ends without reaching it (the test then fails: the point was never crossed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hookline.events import event_from_dict
from hookline.storage import open_storage

from ._faults import CrashingStorage
from ._stack import Project


def main(argv: list[str]) -> int:
    config, event_json, pattern, when = argv
    folder = Path(config).parent
    project = Project(folder, "")
    storage = CrashingStorage(open_storage(project.config().storage), pattern, when)
    app = project.app(storage=storage)
    results = app.handle(event_from_dict(json.loads(event_json)))
    print(json.dumps([r.to_dict() for r in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
