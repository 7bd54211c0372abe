"""The files ``hookline new-plugin`` writes, as ``string.Template`` texts.

Placeholders: ``$name`` (plugin / entry-point name), ``$dist`` (distribution name),
``$module`` (import name), ``$hook``, ``$signature`` (the hook's exact ``def`` line, typed),
``$hookline_version``. Each hook has a body that does something real and passes the
conformance kit, plus a behaviour test.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HOOK_TEMPLATES", "MODULE", "PYPROJECT", "README", "TEST_HEADER", "HookTemplate"]


@dataclass(frozen=True)
class HookTemplate:
    """What the scaffold writes for one hook.

    :param summary: one line, for the README and the module docstring.
    :param config: the entries of ``CONFIG`` (Python source, one per line).
    :param imports: extra standard-library import lines for the module.
    :param body: the implementation's body (indented by 4).
    :param test: a behaviour test (module-level source).
    :param example: a ``[plugins.NAME]`` table for the README.
    """

    summary: str
    config: str
    imports: str
    body: str
    test: str
    example: str


PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "A hookline plugin: $summary"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["hookline>=$hookline_version"]

[project.optional-dependencies]
test = ["pytest>=8"]

# hookline finds the plugin through this entry point. The name on the left is the plugin's
# name: its [plugins.$name] table in hookline.toml, and how HOOKLINE_PLUGINS pins it.
[project.entry-points.hookline]
$name = "$module"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

README = """\
# $dist

A [hookline](https://hookline.dev) plugin: $summary

It implements the `$hook` hook. Installing it is all it takes: hookline discovers it through
the `hookline` entry point named `$name`.

```console
$$ pip install $dist
$$ hookline plugins          # lists '$name' with the hooks it implements
```

## Configuration

Settings live in the `[plugins.$name]` table of `hookline.toml` (every key is optional):

```toml
$example
```

## Development

```console
$$ pip install -e '.[test]'
$$ pytest
```

The tests run hookline's conformance kit (`hookline.testing`) over the plugin: one test per
rule (hook names, arguments, return values, no writes outside the storage root, results
that serialise into the run record), then the plugin's own behaviour tests.
See https://hookline.dev/testing-plugins/.
"""

MODULE = '''\
"""$dist: a hookline plugin.

$summary

Registered under the ``hookline`` entry point as ``$name``; its settings are the
``[plugins.$name]`` table of hookline.toml (see ``CONFIG``).
"""

from __future__ import annotations

$imports

from hookline import hookimpl
from hookline.config import Option, check_table
from hookline.types import $types

NAME = "$name"

CONFIG = {
$config
}
"""The keys of the plugin's table in hookline.toml; hookline validates it on load."""


def settings(ctx: RunContext) -> dict[str, Any]:
    """This run's settings: the plugin's table, validated, with the defaults filled in."""
    return check_table(ctx.plugin_config(NAME), CONFIG, f"plugins.{NAME}")


@hookimpl
$signature
$body
'''

TEST_HEADER = '''\
"""Tests: hookline's conformance kit first, then the plugin's own behaviour.

The fixtures (hookline_context, hookline_classification_dataset, ...) come from hookline's
pytest plugin, active wherever hookline is installed.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
from hookline.testing import parametrize_plugin_checks

import $module as plugin


CHECKS = parametrize_plugin_checks(plugin, name="$name")


@pytest.mark.parametrize("check", CHECKS)
def test_conformance(check):
    check()


def test_the_entry_point_names_the_plugin():
    found = {ep.name: ep.value for ep in entry_points(group="hookline")}
    assert found.get("$name") == "$module", (
        "install the package first: pip install -e ."
    )

'''

_OBSERVER_CONFIG = (
    '    "level": Option(\n'
    '        str, "info", "log level of the line written", choices=("debug", "info", "warning")\n'
    "    ),"
)
_OBSERVER_IMPORTS = "import json\nimport logging\n"
_OBSERVER_BODY = '''\
    """Write one structured log line (replace it with your notifier or tracker)."""
    fields = $fields
    level = logging.getLevelName(settings(ctx)["level"].upper())
    ctx.log.log(level, "%s %s", NAME, json.dumps(fields, default=str))
'''
_OBSERVER_TEST = """\
def test_logs_one_line(hookline_context, caplog):
    ctx = hookline_context(plugins={"$name": {"level": "warning"}})
    caplog.set_level("INFO")
$call
    assert any(r.getMessage().startswith("$name ") and r.levelname == "WARNING"
               for r in caplog.records)
"""
_OBSERVER_FIELDS = {
    "before_pipeline_run": (
        {"event": '"run started"', "run_id": "ctx.run_id"},
        "    plugin.before_pipeline_run(ctx=ctx)",
    ),
    "before_stage_run": (
        {"event": '"stage started"', "run_id": "ctx.run_id", "stage": "stage"},
        '    plugin.before_stage_run(ctx=ctx, stage="train")',
    ),
    "after_stage_run": (
        {
            "event": '"stage done"',
            "run_id": "ctx.run_id",
            "stage": "stage",
            "seconds": "round(seconds, 3)",
        },
        '    plugin.after_stage_run(ctx=ctx, stage="train", result=None, seconds=1.5)',
    ),
    "on_stage_error": (
        {
            "event": '"stage failed"',
            "run_id": "ctx.run_id",
            "stage": "stage",
            "error": "str(error)",
        },
        '    plugin.on_stage_error(ctx=ctx, stage="train", error=ValueError("boom"))',
    ),
    "after_pipeline_run": (
        {
            "event": '"run done"',
            "run_id": "ctx.run_id",
            "status": 'record.get("status")',
            "metrics": 'record.get("metrics", {})',
        },
        '    plugin.after_pipeline_run(ctx=ctx, record={"status": "succeeded", "metrics": {}})',
    ),
    "on_pipeline_error": (
        {"event": '"run failed"', "run_id": "ctx.run_id", "error": "str(error)"},
        '    plugin.on_pipeline_error(ctx=ctx, error=ValueError("boom"), record={})',
    ),
}


def _dict_source(fields: dict[str, str]) -> str:
    items = "".join(f'        "{key}": {value},\n' for key, value in fields.items())
    return "{\n" + items + "    }"


def _observer(hook: str) -> HookTemplate:
    fields, call = _OBSERVER_FIELDS[hook]
    return HookTemplate(
        summary=f"logs one structured line per {hook.replace('_', ' ')} event.",
        config=_OBSERVER_CONFIG,
        imports=_OBSERVER_IMPORTS,
        body=_OBSERVER_BODY.replace("$fields", _dict_source(fields)),
        test=_OBSERVER_TEST.replace("$call", call),
        example='[plugins.$name]\nlevel = "info"',
    )


_REGISTRY_EVENT_BODY = '''\
    """Write one structured log line per registry change (replace it with your notifier).

    ``ctx`` is ``None`` when a person made the change (CLI, dashboard): read nothing
    from it then.
    """
    fields = $fields
    logging.getLogger(f"hookline.plugins.{NAME}").info("%s %s", NAME, json.dumps(fields))
'''
_REGISTRY_EVENT_TEST = """\
def test_logs_one_line(caplog):
    caplog.set_level("INFO")
$call
    assert any(r.getMessage().startswith("$name ") for r in caplog.records)
"""
_REGISTRY_EVENTS = {
    "after_version_registered": (
        {
            "event": '"version registered"',
            "model": "version.model",
            "version": "version.version",
            "run_id": "ctx.run_id if ctx is not None else None",
        },
        "    from hookline.types import ModelVersion\n\n"
        '    plugin.after_version_registered(ctx=None, version=ModelVersion("m", 3, {}))',
    ),
    "after_alias_moved": (
        {
            "event": '"alias moved"',
            "model": "move.model",
            "alias": "move.alias",
            "version": "move.version",
            "previous": "move.previous",
            "action": "move.action",
            "by": "move.by",
        },
        "    from hookline.types import AliasMove\n\n"
        "    plugin.after_alias_moved(ctx=None, move=AliasMove(\n"
        '        model="m", alias="production", version=1, previous=2, action="rollback",\n'
        '        by="ops", at="2026-12-01T00:00:00Z"))',
    ),
    "after_version_updated": (
        {
            "event": '"version updated"',
            "model": "meta.model",
            "version": "meta.version",
            "changed": "list(meta.changed)",
            "by": "meta.by",
        },
        "    from hookline.types import ModelVersion, VersionMeta\n\n"
        '    plugin.after_version_updated(ctx=None, version=ModelVersion("m", 3, {}),\n'
        '        meta=VersionMeta(model="m", version=3, tags={"reviewed": "yes"}, seq=1,\n'
        '                         by="ops", changed=("reviewed",)))',
    ),
}


def _registry_event(hook: str) -> HookTemplate:
    fields, call = _REGISTRY_EVENTS[hook]
    return HookTemplate(
        summary=f"logs one structured line per {hook.replace('_', ' ')} event.",
        config="",
        imports=_OBSERVER_IMPORTS,
        body=_REGISTRY_EVENT_BODY.replace("$fields", _dict_source(fields)),
        test=_REGISTRY_EVENT_TEST.replace("$call", call),
        example="[plugins.$name]",
    )


_VALIDATE = HookTemplate(
    summary="rejects uploads with too few rows before any model is promoted.",
    config='    "min_rows": Option(int, 100, "fewer rows than this fails the check"),\n'
    '    "blocking": Option(bool, True, "a failure rejects the run (false: a warning)"),',
    imports="",
    body='''\
    """Check that the upload has at least ``min_rows`` rows."""
    cfg = settings(ctx)
    rows = len(dataset.frame)
    passed = rows >= cfg["min_rows"]
    message = "" if passed else (
        f"{rows} rows, fewer than the {cfg['min_rows']} required: upload more data "
        f"or lower [plugins.{NAME}] min_rows")
    return [CheckResult(name=f"{NAME}.min_rows", passed=passed, observed=rows,
                        threshold=cfg["min_rows"], blocking=cfg["blocking"], kind="data",
                        message=message)]
''',
    test="""\
def test_small_uploads_fail_the_check(hookline_context, hookline_classification_dataset):
    ctx = hookline_context(plugins={"$name": {"min_rows": 1000}})
    (check,) = plugin.validate(ctx=ctx, dataset=hookline_classification_dataset, model=None)
    assert not check.passed and check.blocking
    assert "fewer than the 1000 required" in check.message
    ctx = hookline_context(plugins={"$name": {"min_rows": 10}})
    (check,) = plugin.validate(ctx=ctx, dataset=hookline_classification_dataset, model=None)
    assert check.passed
""",
    example="[plugins.$name]\nmin_rows = 100\nblocking = true",
)

_INGEST = HookTemplate(
    summary="reads tab-separated uploads (.tsv, .tab) into a dataset.",
    config='    "suffixes": Option(list, [".tsv", ".tab"], "file suffixes this plugin reads"),\n'
    '    "target": Option(str, None, "the label column (none: unlabelled data)"),',
    imports="",
    body='''\
    """Read a tab-separated upload; pass (return None) on anything else."""
    cfg = settings(ctx)
    if source is None or source.suffix not in cfg["suffixes"]:
        return None  # not ours: another plugin (the built-in pandas reader) takes it
    import pandas as pd

    frame = pd.read_csv(source.path, sep="\\t")
    target = cfg["target"] if cfg["target"] in frame.columns else None
    schema: dict[str, Any] = {}
    for column in frame.columns:
        kind = frame[column].dtype.kind
        dtype = {"b": "boolean", "i": "integer", "u": "integer", "f": "number"}.get(kind)
        dtype = dtype or "string"
        schema[str(column)] = {"dtype": dtype, "nullable": bool(frame[column].isna().any())}
    if target is not None:
        schema[target]["target"] = True
    nulls = {str(c): int(n) for c, n in frame.isna().sum().items()}
    profile = {"rows": len(frame), "column_count": frame.shape[1], "nulls": nulls}
    return Dataset(frame=frame, schema=schema, profile=profile, target=target, source=source)
''',
    test="""\
def test_reads_tsv_and_passes_on_csv(hookline_context, hookline_source, tmp_path):
    import hashlib

    from hookline import Source
    from hookline.testing import sample_frame

    ctx = hookline_context(plugins={"$name": {"target": "churned"}})
    assert plugin.ingest(ctx=ctx, source=hookline_source) is None  # a .csv: not ours
    path = tmp_path / "batch.tsv"
    sample_frame("classification").to_csv(path, sep="\\t", index=False)
    data = path.read_bytes()
    source = Source(uri=path.as_uri(), path=str(path), size=len(data),
                    sha256=hashlib.sha256(data).hexdigest())
    dataset = plugin.ingest(ctx=ctx, source=source)
    assert dataset.target == "churned" and dataset.profile["rows"] == 240
    assert dataset.schema["age"]["dtype"] == "number"
""",
    example='[plugins.$name]\nsuffixes = [".tsv", ".tab"]\ntarget = "label"',
)

_TRAIN = HookTemplate(
    summary="trains histogram gradient boosting models (missing values handled natively).",
    config='    "max_iter": Option(int, 100, "boosting iterations"),\n'
    '    "seed": Option(int, 0, "random seed of the split and the model"),',
    imports="",
    body='''\
    """Fit a histogram gradient boosting model and measure it on a 25% hold-out."""
    if dataset.target is None:
        return None  # unlabelled data: nothing to learn
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    cfg = settings(ctx)
    frame = dataset.frame[dataset.frame[dataset.target].notna()]
    x, y = frame.drop(columns=[dataset.target]), frame[dataset.target]
    text = [c for c in x.columns if x[c].dtype.kind not in "biuf"]
    x = x.astype({c: object for c in text})
    task = "regression" if y.dtype.kind == "f" else "classification"
    kind = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    head = kind(max_iter=cfg["max_iter"], random_state=cfg["seed"])
    encode = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                            encoded_missing_value=-1)
    estimator = make_pipeline(
        make_column_transformer((encode, text), remainder="passthrough"), head)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25,
                                                        random_state=cfg["seed"])
    estimator.fit(x_train, y_train)
    predicted = estimator.predict(x_test)
    metrics = ({"r2": float(r2_score(y_test, predicted))} if task == "regression"
               else {"accuracy": float(accuracy_score(y_test, predicted))})
    features = {str(c): {"dtype": "string" if c in text else "number"} for c in x.columns}
    return TrainedModel(estimator=estimator, task=task, features=features,
                        target=dataset.target, metrics=metrics,
                        params={"max_iter": cfg["max_iter"], "seed": cfg["seed"]},
                        reference_profile={}, holdout=(x_test, y_test))
''',
    test="""\
def test_trains_both_task_types(hookline_context, hookline_dataset):
    model = plugin.train(ctx=hookline_context(), dataset=hookline_dataset)
    expected = "accuracy" if model.task == "classification" else "r2"
    assert set(model.metrics) == {expected}
    assert model.target == hookline_dataset.target
""",
    example="[plugins.$name]\nmax_iter = 100\nseed = 0",
)

_DEPLOY = HookTemplate(
    summary="writes a Markdown model card for every model that passed its checks.",
    config='    "file": Option(str, "model-card.md", "name of the card under runs/<run_id>/"),',
    imports="",
    body='''\
    """Write a model card (metrics and checks) next to the run record."""
    cfg = settings(ctx)
    lines = [f"# {ctx.model_name}", "", f"Run `{ctx.run_id}`, task {model.task}.", "",
             "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v:.4g} |" for k, v in model.metrics.items()]
    lines += ["", "Checks: " + ", ".join(f"{c.name} {'passed' if c.passed else 'FAILED'}"
                                         for c in checks)]
    uri = ctx.write_output(cfg["file"], "\\n".join(lines).encode())
    return Deployment(target=NAME, model=ctx.model_name, version=None, alias=None,
                      status="registered", uri=uri)
''',
    test="""\
def test_writes_a_model_card(hookline_context, hookline_classification_dataset):
    from hookline.testing import sample_checks, sample_model

    ctx = hookline_context()
    model = sample_model(hookline_classification_dataset)
    deployment = plugin.deploy(ctx=ctx, model=model, checks=sample_checks(model))
    card = ctx.storage.read(ctx.run_prefix + "model-card.md").decode()
    assert deployment.uri.endswith("model-card.md")
    assert "| accuracy |" in card and "min_rows passed" in card
""",
    example='[plugins.$name]\nfile = "model-card.md"',
)

_MONITOR = HookTemplate(
    summary="watches the share of missing values per column in every scored batch.",
    config='    "max_null_fraction": Option(float, 0.2, "a column above this is flagged"),',
    imports="",
    body='''\
    """Flag columns whose share of missing values exceeds ``max_null_fraction``."""
    cfg = settings(ctx)
    frame = dataset.frame
    if len(frame) == 0:
        return None
    production = ctx.registry.resolve(ctx.model_name, "production")
    features = {}
    for column, nulls in frame.isna().sum().items():
        share = float(nulls) / len(frame)
        features[str(column)] = {"null_fraction": round(share, 4),
                                 "drifted": share > cfg["max_null_fraction"]}
    return MonitorReport(name=NAME, model=ctx.model_name,
                         version=production.version if production else None,
                         drifted=any(f["drifted"] for f in features.values()),
                         features=features)
''',
    test="""\
def test_flags_columns_with_many_missing_values(hookline_context,
                                                hookline_classification_dataset):
    settings = {"$name": {"max_null_fraction": 0.01}}
    ctx = hookline_context(pipeline="monitor", plugins=settings)
    report = plugin.monitor(ctx=ctx, dataset=hookline_classification_dataset)
    assert report.drifted and report.features["age"]["drifted"]
    assert not report.features["region"]["drifted"]
""",
    example="[plugins.$name]\nmax_null_fraction = 0.2",
)

HOOK_TEMPLATES: dict[str, HookTemplate] = {
    "ingest": _INGEST,
    "train": _TRAIN,
    "validate": _VALIDATE,
    "deploy": _DEPLOY,
    "monitor": _MONITOR,
    **{hook: _observer(hook) for hook in _OBSERVER_FIELDS},
    **{hook: _registry_event(hook) for hook in _REGISTRY_EVENTS},
}
"""Every hook's scaffold; a test checks that each hook spec has one."""
