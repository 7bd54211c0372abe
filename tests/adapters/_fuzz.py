"""Hypothesis settings for the event-parser fuzzing: a fixed number of examples,
derandomized, for every run of the suite (CI included); a much longer random run with
``make fuzz`` (``HOOKLINE_FUZZ=long``; ``HOOKLINE_FUZZ_EXAMPLES``, default 3,000 per test).

The profiles are settings objects the tests are decorated with, not loaded globally, so
other suites keep their own settings."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
    "database": None,
}
settings.register_profile("hookline-events-ci", max_examples=200, derandomize=True, **_COMMON)
settings.register_profile(
    "hookline-events-long",
    max_examples=int(os.environ.get("HOOKLINE_FUZZ_EXAMPLES", "3000")),
    **_COMMON,
)

PROFILE = (
    "hookline-events-long" if os.environ.get("HOOKLINE_FUZZ") == "long" else ("hookline-events-ci")
)
FUZZ = settings.get_profile(PROFILE)
"""Decorate a ``@given`` test with this: the profile of this run."""
