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

# --- fuzz figures (tests/serving/_fuzz_summary.py): routes or commands, examples and 5xx
# answers of the serving, dashboard and command-line fuzz suites, printed at the end.
pytest_plugins.append(f"{__package__ + '.' if __package__ else ''}serving._fuzz_summary")
# --- end fuzz figures

# --- hypothesis profiles: `ci` (CI=true) derandomizes every property test, so a run in CI
# replays the same examples; `fuzz` (make fuzz) explores new ones. Example counts are fixed
# per test and scaled by $HOOKLINE_FUZZ_SCALE (see tests/serving/_fuzzing.py).
import os as _os  # noqa: E402

from hypothesis import settings as _settings  # noqa: E402

_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
_settings.register_profile("fuzz", derandomize=False, database=None, print_blob=True)
_settings.load_profile(
    _os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _os.environ.get("CI") else "default")
)
# --- end hypothesis profiles
