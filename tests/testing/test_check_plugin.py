"""check_plugin: a good plugin passes; each broken rule is caught with a message that names
the rule, the plugin, the hook and the fix."""

from __future__ import annotations

import os
import tempfile
import types

import pytest
from hookline import CheckResult, Deployment, hookimpl
from hookline.config import Option
from hookline.testing import (
    RULES,
    SCENARIOS,
    PluginCheckError,
    check_plugin,
    parametrize_plugin_checks,
    plugin_checks,
)
from hookline.testing._static import SPECS


def failure(plugin, **kwargs) -> PluginCheckError:
    with pytest.raises(PluginCheckError) as info:
        check_plugin(plugin, **kwargs)
    return info.value


def test_good_plugin_passes_every_check(good_plugin):
    ran = check_plugin(good_plugin, name="good")
    expected_dynamic = {f"{h}[{s.name}]" for h, group in SCENARIOS.items() for s in group}
    assert expected_dynamic <= set(ran)
    assert {"hook-names", "hook-arguments", "no-defaults", "registers"} <= set(ran)
    # the hooks really were called on realistic inputs
    assert "before_stage_run:train" in good_plugin.calls


def test_failures_are_assertion_errors_naming_rule_plugin_and_hook():
    class Plugin:
        @hookimpl
        def trian(self, ctx, dataset):
            return None

    err = failure(Plugin(), name="acme")
    assert isinstance(err, AssertionError)
    assert (err.rule, err.plugin, err.hook) == ("hook-names", "acme", "trian")
    text = str(err)
    assert text.startswith("[hook-names] plugin 'acme', hook 'trian'")
    assert "did you mean 'train'?" in text
    assert "how to fix: rename it: def train(ctx, dataset)" in text


def test_argument_not_in_spec():
    class Plugin:
        @hookimpl
        def validate(self, ctx, dataset, modle):
            return None

    err = failure(Plugin(), name="acme")
    assert (err.rule, err.hook) == ("hook-arguments", "validate")
    assert (
        "argument 'modle' is not in the spec (ctx, dataset, model); did you mean 'model'?"
        in str(err)
    )
    assert "def validate(ctx, dataset, model)" in err.fix


@pytest.mark.parametrize("signature", ["ctx, *args", "ctx, **kwargs"])
def test_star_arguments(signature):
    ns: dict = {}
    exec(f"def deploy({signature}):\n    return None", ns)
    plugin = types.SimpleNamespace(deploy=hookimpl(ns["deploy"]))
    err = failure(plugin, name="acme")
    assert (err.rule, err.hook) == ("hook-arguments", "deploy")
    assert "by name only" in err.problem


def test_argument_with_default_value():
    class Plugin:
        @hookimpl
        def train(self, ctx, dataset=None):
            return None

    err = failure(Plugin(), name="acme")
    assert (err.rule, err.hook) == ("no-defaults", "train")
    assert "argument 'dataset' has a default value (None)" in err.problem
    assert "would always be None" in err.problem
    assert err.fix == "remove the default: def train(ctx, dataset)"


@pytest.mark.parametrize("value", [False, 0, [], ""])
def test_provider_returning_falsy_instead_of_none(value):
    class Plugin:
        @hookimpl
        def ingest(self, ctx, source):
            return value

    err = failure(Plugin(), name="acme")
    assert (err.rule, err.hook) == ("provider-returns-artifact-or-none", "ingest")
    assert f"ingest returned {value!r} instead of None" in err.problem
    assert "firstresult" in err.problem
    assert err.fix.startswith("return None")


def test_provider_returning_wrong_type():
    class Plugin:
        @hookimpl
        def train(self, ctx, dataset):
            return {"estimator": "x"}

    err = failure(Plugin(), name="acme")
    assert err.rule == "provider-returns-artifact-or-none"
    assert "expected hookline.TrainedModel or None" in err.problem


def test_write_in_working_directory():
    class Plugin:
        @hookimpl
        def after_pipeline_run(self, ctx, record):
            with open("last-run.json", "w") as fh:
                fh.write("{}")

    err = failure(Plugin(), name="acme")
    assert (err.rule, err.hook) == ("writes-inside-storage-root", "after_pipeline_run")
    assert "created last-run.json in the working directory" in err.problem
    assert "ctx.write_output" in err.fix


def test_write_next_to_storage_root_escaping_it():
    class Plugin:
        @hookimpl
        def deploy(self, ctx, model, checks):
            escape = os.path.join(str(ctx.storage.root), "..", "model.bin")
            with open(escape, "wb") as fh:
                fh.write(b"weights")
            return None

    err = failure(Plugin(), name="acme")
    assert (err.rule, err.hook) == ("writes-inside-storage-root", "deploy")
    assert "created model.bin next to the storage root" in err.problem


def test_modifying_the_uploaded_file_copy():
    class Plugin:
        @hookimpl
        def ingest(self, ctx, source):
            if source is not None:
                with open(source.path, "a") as fh:
                    fh.write("extra,row\n")
            return None

    err = failure(Plugin(), name="acme")
    assert err.rule == "writes-inside-storage-root"
    assert "Source.path" in err.problem


def test_writes_through_storage_are_allowed_but_only_under_output_prefixes():
    class Plugin:
        @hookimpl
        def after_pipeline_run(self, ctx, record):
            ctx.storage.write("landing/train/retrain.csv", b"a,b\n")

    err = failure(Plugin(), name="acme")
    assert err.rule == "output-prefixes"
    assert "'landing/train/retrain.csv'" in err.problem
    assert "trigger new runs" in err.problem


def test_deleting_the_uploaded_object():
    class Plugin:
        @hookimpl
        def after_stage_run(self, ctx, stage, result):
            ctx.storage.delete(ctx.storage_event.key)

    err = failure(Plugin(), name="acme")
    assert err.rule == "output-prefixes"
    assert "deleted the uploaded object" in err.problem


def test_leftover_temporary_files():
    class Plugin:
        @hookimpl
        def before_pipeline_run(self, ctx):
            fd, _ = tempfile.mkstemp(suffix=".scratch")
            os.close(fd)

    err = failure(Plugin(), name="acme")
    assert err.rule == "no-leftover-temp-files"
    assert ".scratch" in err.problem


def test_temporary_files_cleaned_up_are_fine():
    class Plugin:
        @hookimpl
        def before_pipeline_run(self, ctx):
            with tempfile.TemporaryDirectory() as tmp, open(os.path.join(tmp, "x"), "w") as fh:
                fh.write("scratch")

    check_plugin(Plugin(), name="acme")


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        ("ok", "validate returned a str"),
        ([{"name": "x"}], "item 0 is a dict, not a hookline.CheckResult"),
        ([CheckResult(name="", passed=True, observed=1, threshold=1)], "non-empty string"),
        ([CheckResult(name="x", passed=1, observed=1, threshold=1)], "passed is a builtins.int"),
        (
            [CheckResult(name="x", passed=True, observed=1, threshold=1, kind="both")],
            "kind is 'both'",
        ),
        (
            [CheckResult(name="x", passed=False, observed=1, threshold=2)],
            "failed without a message",
        ),
    ],
)
def test_validate_contract(returned, expected):
    class Plugin:
        @hookimpl
        def validate(self, ctx, dataset):
            return returned

    err = failure(Plugin(), name="acme")
    assert err.rule == "validate-returns-checks"
    assert expected in err.problem


def test_validate_numpy_bool_is_named():
    class Plugin:
        @hookimpl
        def validate(self, ctx, dataset):
            # a pandas comparison gives numpy.bool_, not bool
            passed = dataset.frame["tenure_months"].max() > 0
            return [CheckResult(name="rows", passed=passed, observed=1, threshold=1)]

    err = failure(Plugin(), name="acme")
    assert err.rule == "validate-returns-checks"
    assert "not a bool" in err.problem and "bool(...)" in err.fix


def test_deploy_and_monitor_contracts():
    class Deploy:
        @hookimpl
        def deploy(self, ctx, model):
            return {"version": 1}

    class Status:
        @hookimpl
        def deploy(self, ctx, model):
            return Deployment(target="x", model="m", version=1, alias=None, status="done")

    class Monitor:
        @hookimpl
        def monitor(self, ctx, dataset):
            return False

    assert failure(Deploy()).rule == "deploy-returns-deployment"
    assert "Deployment.status is 'done'" in failure(Status()).problem
    err = failure(Monitor())
    assert err.rule == "monitor-returns-report"
    assert "return None when there was nothing to watch" in err.problem


def test_observer_returning_a_value():
    class Plugin:
        @hookimpl
        def after_stage_run(self, ctx, stage):
            return True

    err = failure(Plugin(), name="acme")
    assert (err.rule, err.hook) == ("observer-returns-none", "after_stage_run")
    assert "ctx.notes" in err.fix


def test_results_must_serialise_into_the_run_record():
    class NaN:
        @hookimpl
        def train(self, ctx, dataset):
            from hookline.testing import sample_model

            model = sample_model(dataset)
            return type(model)(
                **{
                    **{f: getattr(model, f) for f in model.__slots__},
                    "metrics": {"f1": float("nan")},
                }
            )

    class Notes:
        @hookimpl
        def before_pipeline_run(self, ctx):
            ctx.notes["started"] = object()

    err = failure(NaN(), name="acme")
    assert err.rule == "serialisable"
    assert "TrainedModel.metrics['f1'] is nan" in err.problem
    err = failure(Notes(), name="acme")
    assert err.rule == "serialisable"
    assert "ctx.notes['started'] is a builtins.object" in err.problem


def test_hook_raising_is_reported_with_its_exception():
    class Plugin:
        @hookimpl
        def monitor(self, ctx, dataset):
            return dataset.frame["no_such_column"]

    err = failure(Plugin(), name="acme")
    assert (err.rule, err.hook) == ("no-exception", "monitor")
    assert "raised KeyError: 'no_such_column'" in err.problem
    assert "(called on a labelled batch, a production model registered)" in err.problem


def test_class_registered_instead_of_instance(good_plugin):
    err = failure(type(good_plugin), name="acme")
    assert err.rule == "registers"
    assert "have you forgotten the () when registering GoodPlugin?" in err.fix


def test_no_hook_implementation():
    class Unmarked:
        def train(self, ctx, dataset):
            return None

    err = failure(Unmarked(), name="acme")
    assert err.rule == "implements-hooks"
    assert "train is defined but not marked" in err.problem
    assert failure(types.SimpleNamespace()).rule == "implements-hooks"


def test_module_plugins_and_default_name():
    module = types.ModuleType("hookline_acme")
    module.after_pipeline_run = hookimpl(lambda ctx, record: None)
    assert "after_pipeline_run[succeeded]" in check_plugin(module)
    module.ingest = hookimpl(lambda ctx, source: False)
    assert failure(module).plugin == "hookline_acme"


def test_config_schema_is_validated_and_reaches_the_plugin():
    seen = []

    class Plugin:
        CONFIG = {
            "min_rows": Option(int, 10, "rows required"),
            "url_env": Option(str, required=True, help="env var with the URL"),
        }

        @hookimpl
        def validate(self, ctx, dataset):
            seen.append(ctx.plugin_config("acme"))
            return []

    err = failure(Plugin(), name="acme")
    assert err.rule == "config-schema"
    assert "[plugins.acme.url_env] missing required key" in err.problem
    check_plugin(Plugin(), name="acme", config={"url_env": "ACME_URL", "min_rows": 5})
    assert seen[0] == {"url_env": "ACME_URL", "min_rows": 5}
    err = failure(Plugin(), name="acme", config={"url_env": "X", "min_rowz": 5})
    assert "unknown key 'min_rowz' (did you mean 'min_rows'?)" in err.problem

    class BadDefault:
        CONFIG = {"retries": Option(int, "three")}

        @hookimpl
        def before_pipeline_run(self, ctx):
            pass

    err = failure(BadDefault(), name="acme")
    assert err.rule == "config-schema" and "default of 'retries'" in err.problem


def test_parametrize_yields_one_param_per_check(good_plugin):
    params = list(parametrize_plugin_checks(good_plugin, name="good"))
    ids = [p.id for p in params]
    assert ids == [c.id for c in plugin_checks(good_plugin, name="good")]
    assert ids[:5] == [
        "implements-hooks",
        "hook-names",
        "hook-arguments",
        "no-defaults",
        "registers",
    ]
    assert "ingest[scheduled]" in ids and "validate[no-model]" in ids
    params[ids.index("registers")].values[0]()  # each one is callable on its own


def test_every_hook_has_scenarios_and_every_rule_a_description():
    assert set(SCENARIOS) == set(SPECS), "add scenarios for new hooks in _scenarios.py"
    assert all(RULES.values())
