"""Shared fixtures. Emulator fixtures live in tests/emulators/fixtures.py."""

from __future__ import annotations

# --- storage emulators (tests/emulators/fixtures.py): s3_server, gcs_server, azurite_server,
# s3_bucket, gcs_bucket, azure_container, storage_root. The module name depends on whether
# tests/ is a package (tests.emulators) or only on sys.path (emulators).
pytest_plugins = [f"{__package__ + '.' if __package__ else ''}emulators.fixtures"]
# --- end storage emulators

# --- reliability figures (tests/reliability/_summary.py): counted across xdist workers and
# printed at the end of the session (make soak).
pytest_plugins.append(f"{__package__ + '.' if __package__ else ''}reliability._summary")
# --- end reliability figures
