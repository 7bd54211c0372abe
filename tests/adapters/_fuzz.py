"""Hypothesis settings for the event-parser fuzzing, following the suite's fuzz convention
(tests/conftest.py, tests/serving/_fuzzing.py): a fixed number of examples (200 per test,
scaled by ``$HOOKLINE_FUZZ_SCALE``), derandomized on every run of the suite; ``make fuzz``
(``HYPOTHESIS_PROFILE=fuzz``, scale 20) explores new ones each run.

The settings are an object the tests are decorated with, not a global profile, so other
suites keep their own settings."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = max(1, int(os.environ.get("HOOKLINE_FUZZ_SCALE", "1")))

FUZZ = settings(
    max_examples=200 * SCALE,
    derandomize=os.environ.get("HYPOTHESIS_PROFILE") != "fuzz",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)
"""Decorate a ``@given`` test with this: the settings of this run."""
