"""hookline.testing: the kit for plugin authors.

* :func:`check_plugin` -- hookline's conformance check, like scikit-learn's
  ``check_estimator``: registers your plugin, validates every hook implementation against the
  specs, calls each hook on realistic inputs and checks what it returns and writes.
* :func:`parametrize_plugin_checks` -- the same checks as one pytest test each.
* Sample inputs: :func:`sample_frame`, :func:`sample_dataset`, :func:`sample_model`,
  :func:`make_context`, :func:`sample_record`, :func:`sample_events`.
* A pytest plugin (loaded automatically once hookline is installed) with the fixtures
  ``hookline_pm``, ``hookline_storage``, ``hookline_dataset``,
  ``hookline_classification_dataset``, ``hookline_regression_dataset``, ``hookline_events``
  and ``hookline_context``.

Importing this package imports neither pandas nor scikit-learn; the samples do, when built.
"""

from hookline.testing._checks import (
    PluginCheck,
    check_plugin,
    parametrize_plugin_checks,
    plugin_checks,
)
from hookline.testing._events import CLOUDS, SAMPLE_KEY, SampleEvent, sample_events
from hookline.testing._rules import RULES, PluginCheckError
from hookline.testing._samples import (
    TARGETS,
    TASKS,
    describe_frame,
    make_context,
    sample_checks,
    sample_dataset,
    sample_frame,
    sample_model,
    sample_record,
    sample_source,
)
from hookline.testing._scenarios import SCENARIOS, PluginConfig, Scenario

__all__ = [
    "CLOUDS",
    "RULES",
    "SAMPLE_KEY",
    "SCENARIOS",
    "TARGETS",
    "TASKS",
    "PluginCheck",
    "PluginCheckError",
    "PluginConfig",
    "SampleEvent",
    "Scenario",
    "check_plugin",
    "describe_frame",
    "make_context",
    "parametrize_plugin_checks",
    "plugin_checks",
    "sample_checks",
    "sample_dataset",
    "sample_events",
    "sample_frame",
    "sample_model",
    "sample_record",
    "sample_source",
]
