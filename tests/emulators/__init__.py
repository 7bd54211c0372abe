"""Real local stand-ins for the three clouds' object storage, for tests and for people.

From the command line (state kept in ``.cache/emulators/state.json`` unless ``--state``)::

    python -m tests.emulators up [s3 gcs azure]   # start, print `export ...` lines
    python -m tests.emulators status
    python -m tests.emulators down

From pytest: the session fixtures ``s3_server``, ``gcs_server`` and ``azurite_server`` in
:mod:`tests.emulators.fixtures` start each emulator lazily, once per worker.
"""

from ._process import EmulatorError, EmulatorProcess, free_port
from ._servers import (
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    NAMES,
    azurite_connection_string,
    client_env,
    emulator,
    ensure_azurite,
    external_url,
)

__all__ = [
    "AZURITE_ACCOUNT",
    "AZURITE_KEY",
    "NAMES",
    "EmulatorError",
    "EmulatorProcess",
    "azurite_connection_string",
    "client_env",
    "emulator",
    "ensure_azurite",
    "external_url",
    "free_port",
]
