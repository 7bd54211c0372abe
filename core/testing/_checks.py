"""``check_plugin``: hookline's conformance kit, in the spirit of scikit-learn's
``check_estimator``.

Static checks read the plugin; dynamic checks register it alone on a fresh plugin manager
and call each hook it implements on realistic inputs inside a sandbox, then hold what came
back -- and what the call wrote -- against the hook's contract.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hookline.config import OUTPUT_PREFIXES
from hookline.errors import ConfigError, HookFailed
from hookline.hookspecs import PROVIDER_HOOKS, STAGES
from hookline.testing._contracts import check_result, json_problem
from hookline.testing._rules import RULES, PluginCheckError
from hookline.testing._sandbox import Changes, Sandbox
from hookline.testing._scenarios import SCENARIOS, PluginConfig, Scenario, build_calls, table_for
from hookline.testing._static import (
    check_config_schema,
    fresh_manager,
    implemented,
    static_checks,
)

__all__ = ["PluginCheck", "check_plugin", "parametrize_plugin_checks", "plugin_checks"]

_WRITE_FIX = (
    "write through ctx.storage (e.g. ctx.write_output('report.json', data)), so the "
    "bytes land under the storage root on every cloud; use "
    "`with tempfile.TemporaryDirectory() as tmp:` for scratch files"
)


@dataclass(frozen=True)
class PluginCheck:
    """One conformance check, callable with no arguments; raises
    :class:`~hookline.testing.PluginCheckError` when the plugin breaks a rule.

    :param id: ``RULE`` for static checks, ``HOOK[SCENARIO]`` for calls of a hook.
    :param description: what it checks, in one line.
    """

    id: str
    description: str
    func: Callable[[], None] = dataclasses.field(repr=False, compare=False)

    def __call__(self) -> None:
        self.func()


def _name_of(plugin: object, name: str | None) -> str:
    if name:
        return name
    return str(getattr(plugin, "__name__", None) or type(plugin).__name__)


def plugin_checks(
    plugin: object, *, name: str | None = None, config: PluginConfig = None
) -> list[PluginCheck]:
    """Every check that applies to ``plugin``, in the order :func:`check_plugin` runs them.

    :param plugin: the plugin object: a module, or an instance of a class, with ``@hookimpl``
        functions (what your entry point names).
    :param name: the plugin's name, i.e. its entry-point name; ``ctx.plugin_config(name)``
        returns ``config`` during the calls. Default: the module or class name.
    :param config: the ``[plugins.NAME]`` table to run the hooks with, or a function of
        the :class:`~hookline.testing.Scenario` returning it (when it depends on the sample
        table, e.g. ``lambda s: {"target": TARGETS[s.task]}``).
    """
    label = _name_of(plugin, name)
    scenarios = [s for hook in implemented(plugin) for s in SCENARIOS.get(hook, ())]
    tables = [table_for(config, s) for s in scenarios] if callable(config) else [config]
    checks = [
        PluginCheck(rule, RULES[rule], _bind(func, plugin, label))
        for rule, func in static_checks().items()
    ]
    checks.append(
        PluginCheck(
            "config-schema",
            RULES["config-schema"],
            lambda: _check_tables(plugin, label, tables),
        )
    )
    for hook in implemented(plugin):
        for scenario in SCENARIOS.get(hook, ()):
            checks.append(
                PluginCheck(
                    f"{hook}[{scenario.name}]",
                    f"call {hook} {scenario.description}",
                    _bind_call(plugin, label, config, hook, scenario),
                )
            )
    return checks


def _check_tables(plugin: object, label: str, tables: list[Any]) -> None:
    seen: list[Any] = []
    for table in tables:
        if table not in seen:
            seen.append(table)
            check_config_schema(plugin, label, table)


def _bind(func: Callable[[object, str], None], plugin: object, label: str) -> Callable[[], None]:
    return lambda: func(plugin, label)


def _bind_call(
    plugin: object, label: str, config: PluginConfig, hook: str, scenario: Scenario
) -> Callable[[], None]:
    return lambda: run_scenario(plugin, label, config, hook, scenario)


def check_plugin(
    plugin: object, *, name: str | None = None, config: PluginConfig = None
) -> list[str]:
    """Check ``plugin`` against every rule in :data:`~hookline.testing.RULES`.

    Registers it on a fresh plugin manager (so the loader's validation runs), validates
    every hook implementation against the specs, calls each implemented hook on realistic
    inputs (sample tables of each task type, a fitted model, a run context over a temporary
    storage root) and checks what each returns and writes.

    :param plugin: the plugin object (module or instance).
    :param name: its entry-point name (default: the module or class name).
    :param config: the ``[plugins.NAME]`` table to run with (a mapping, or a function of
        the scenario returning one).
    :returns: the ids of the checks that ran, all passed.
    :raises PluginCheckError: (an ``AssertionError``) at the first broken rule, naming the
        rule, the plugin, the hook and how to fix it.
    """
    ran = []
    for check in plugin_checks(plugin, name=name, config=config):
        check()
        ran.append(check.id)
    return ran


def parametrize_plugin_checks(
    plugin: object, *, name: str | None = None, config: PluginConfig = None
) -> list[Any]:
    """One ``pytest.param`` per check, so each rule shows up as its own test.

    Use it as ``@pytest.mark.parametrize("check", parametrize_plugin_checks(plugin))`` on a
    test whose body is ``check()``. Takes the arguments of :func:`check_plugin`; the test
    ids are the check ids (``hook-names``, ``ingest[scheduled]``...).
    """
    import pytest

    return [
        pytest.param(check, id=check.id)
        for check in plugin_checks(plugin, name=name, config=config)
    ]


# --- calling a hook --------------------------------------------------------------------


def run_scenario(
    plugin: object, name: str, config: PluginConfig, hook: str, scenario: Scenario
) -> None:
    """Register ``plugin`` alone, call ``hook`` as ``scenario`` describes, check the result."""
    pm = fresh_manager(plugin, name)
    sandbox = Sandbox()
    try:
        try:
            calls = build_calls(hook, scenario, sandbox, name, table_for(config, scenario))
        except ConfigError as exc:
            raise PluginCheckError(
                "config-schema",
                plugin=name,
                hook=hook,
                problem=f"the table under test does not validate: {exc.message}",
                fix="pass check_plugin(..., config={...}) matching your CONFIG",
            ) from exc
        for kwargs in calls:
            _call_once(pm, name, hook, scenario, kwargs, sandbox)
    finally:
        sandbox.cleanup()


def _storage_state(storage: Any) -> dict[str, str]:
    return {info.key: info.etag for info in storage.list("")}


def _call_once(
    pm: Any, name: str, hook: str, scenario: Scenario, kwargs: dict[str, Any], sandbox: Sandbox
) -> None:
    from hookline.storage import LocalStorage

    ctx = kwargs["ctx"]  # None for registry events a person caused
    storage = ctx.storage if ctx is not None else LocalStorage(sandbox.storage_dir)
    before = _storage_state(storage)
    with sandbox.watch() as watched:
        try:
            raw = getattr(pm.hook, hook)(**kwargs)
        except HookFailed as exc:
            _raise_exception(name, hook, scenario, exc.original)
        except Exception as exc:
            _raise_exception(name, hook, scenario, exc)
    result = raw if hook in PROVIDER_HOOKS else _single(raw)
    problem = check_result(hook, result)
    if problem is not None:
        rule, text, fix = problem
        raise PluginCheckError(
            rule, plugin=name, hook=hook, problem=f"{text} (called {scenario.description})", fix=fix
        )
    found = json_problem(ctx.notes, "ctx.notes") if ctx is not None else None
    if found:
        raise PluginCheckError(
            "serialisable",
            plugin=name,
            hook=hook,
            problem=f"ctx.notes cannot go into the run record: {found}",
            fix="store plain JSON values in ctx.notes",
        )
    _check_files(name, hook, watched[0])
    _check_storage(name, hook, before, _storage_state(storage), ctx)


def _single(results: Any) -> Any:
    """Collecting hooks return a list of the non-None results; ours is the only plugin."""
    if not results:
        return None
    return results[0]


def _raise_exception(name: str, hook: str, scenario: Scenario, exc: BaseException) -> None:
    tb = "".join(traceback.format_exception(exc, limit=-4)).rstrip()
    fix = "handle every input the spec allows (see docs/hooks.md); " + (
        "return None when the input is not yours"
        if hook in PROVIDER_HOOKS
        else "observers must not raise"
        if hook not in STAGES
        else "return None when there is nothing to do"
    )
    raise PluginCheckError(
        "no-exception",
        plugin=name,
        hook=hook,
        problem=f"raised {type(exc).__name__}: {exc} (called {scenario.description})\n{tb}",
        fix=fix,
    ) from exc


def _describe_path(path: str) -> str:
    top, _, rest = path.partition("/")
    if top == "cwd":
        return f"{rest} in the working directory"
    if top == "work":
        return f"{rest} next to the uploaded file's local copy (Source.path)"
    return f"{path} next to the storage root"


def _check_files(name: str, hook: str, changes: Changes) -> None:
    if changes.outside:
        shown = [f"created {_describe_path(p)}" for p in changes.created]
        shown += [f"modified {_describe_path(p)}" for p in changes.modified]
        shown += [f"deleted {_describe_path(p)}" for p in changes.deleted]
        raise PluginCheckError(
            "writes-inside-storage-root",
            plugin=name,
            hook=hook,
            problem="wrote outside the storage root: "
            + "; ".join(shown[:5])
            + (f" (and {len(shown) - 5} more)" if len(shown) > 5 else ""),
            fix=_WRITE_FIX,
        )
    if changes.leftover_tmp:
        raise PluginCheckError(
            "no-leftover-temp-files",
            plugin=name,
            hook=hook,
            problem="left temporary files behind: " + ", ".join(changes.leftover_tmp[:5]),
            fix="use `with tempfile.TemporaryDirectory() as tmp:` (or delete what you "
            "create): on a warm serverless function /tmp is shared by every invocation "
            "and fills up",
        )


def _check_storage(
    name: str, hook: str, before: Mapping[str, str], after: Mapping[str, str], ctx: Any
) -> None:
    changed = sorted(k for k in after if before.get(k) != after[k])
    deleted = sorted(k for k in before if k not in after)
    event = ctx.storage_event if ctx is not None else None
    trigger = event.key if event is not None else None
    for key in deleted + changed:
        if key == trigger:
            raise PluginCheckError(
                "output-prefixes",
                plugin=name,
                hook=hook,
                problem=f"{'deleted' if key in deleted else 'overwrote'} the uploaded object "
                f"{key!r}; it is the lineage anchor of every model trained on it",
                fix="leave the uploaded object as it is; write results with "
                "ctx.write_output(name, data)",
            )
        if not key.startswith(OUTPUT_PREFIXES):
            raise PluginCheckError(
                "output-prefixes",
                plugin=name,
                hook=hook,
                problem=f"{'deleted' if key in deleted else 'wrote'} {key!r} in storage, "
                f"outside hookline's output prefixes {', '.join(OUTPUT_PREFIXES)}; "
                "a write under a landing prefix would trigger new runs",
                fix="write run outputs with ctx.write_output(name, data) (runs/<run_id>/), "
                "models through ctx.registry, reports under monitoring/",
            )
