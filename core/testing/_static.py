"""The rules that read a plugin without calling it: names, arguments, registration, CONFIG."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hookline._manager import (
    PluginManager,
    hook_problems,
    implemented_hooks,
    make_plugin_manager,
    spec_arguments,
)
from hookline.errors import ConfigError, PluginLoadError
from hookline.testing._rules import PluginCheckError

__all__ = ["SPECS", "fresh_manager", "implemented", "static_checks"]

_SPEC_PM = PluginManager()
SPECS: dict[str, tuple[str, ...]] = spec_arguments(_SPEC_PM)
"""Every hook's name and its arguments, in spec order."""


def signature(hook: str) -> str:
    return f"def {hook}({', '.join(SPECS[hook])})"


def implemented(plugin: object) -> list[str]:
    """Attribute names of ``plugin`` marked with ``@hookimpl`` (known hooks or not)."""
    return implemented_hooks(_SPEC_PM, plugin)


def check_implements_hooks(plugin: object, name: str) -> None:
    if implemented(plugin):
        return
    unmarked = [n for n in SPECS if callable(getattr(plugin, n, None))]
    if unmarked:
        raise PluginCheckError(
            "implements-hooks",
            plugin=name,
            problem=f"{', '.join(unmarked)} {'is' if len(unmarked) == 1 else 'are'} defined "
            "but not marked as a hook implementation",
            fix="decorate it: `from hookline import hookimpl` then `@hookimpl` above the def",
        )
    raise PluginCheckError(
        "implements-hooks",
        plugin=name,
        problem="no function is marked with @hookimpl",
        fix="decorate each hook function with `@hookimpl` (from hookline import hookimpl); "
        f"the hooks are: {', '.join(SPECS)}",
    )


def _raise_first(plugin: object, name: str, rule: str) -> None:
    """Report the loader's first problem under ``rule``: the kit and the loader share
    one set of rules (:func:`hookline._manager.hook_problems`)."""
    for problem in hook_problems(_SPEC_PM, plugin):
        if problem.rule == rule:
            raise PluginCheckError(
                rule, plugin=name, hook=problem.hook, problem=problem.problem, fix=problem.fix
            )


def check_hook_names(plugin: object, name: str) -> None:
    _raise_first(plugin, name, "hook-names")


def check_hook_arguments(plugin: object, name: str) -> None:
    _raise_first(plugin, name, "hook-arguments")


def check_no_defaults(plugin: object, name: str) -> None:
    _raise_first(plugin, name, "no-defaults")


def fresh_manager(plugin: object, name: str) -> PluginManager:
    """A plugin manager with no entry points and only ``plugin`` registered."""
    pm = make_plugin_manager(entry_points_group=None, pinned=(), disabled=())
    try:
        pm.register_plugin(plugin, name)
    except PluginLoadError as exc:
        raise PluginCheckError(
            "registers",
            plugin=name,
            problem=f"the loader refused it: {exc.message.removeprefix(f'plugin {name!r}: ')}",
            fix=exc.hint
            or "make the plugin an object (module or instance) whose "
            "@hookimpl functions match docs/hooks.md",
        ) from exc
    except Exception as exc:
        raise PluginCheckError(
            "registers",
            plugin=name,
            problem=f"registering raised {type(exc).__name__}: {exc}",
            fix="register a module or an instance whose @hookimpl functions match the hook specs",
        ) from exc
    return pm


def check_registers(plugin: object, name: str) -> None:
    fresh_manager(plugin, name)


def check_config_schema(plugin: object, name: str, config: Mapping[str, Any] | None = None) -> None:
    from hookline.config import Option, check_table

    schema = getattr(plugin, "CONFIG", None)
    if schema is None:
        return
    if not isinstance(schema, Mapping) or not all(
        isinstance(k, str) and isinstance(v, Option) for k, v in schema.items()
    ):
        raise PluginCheckError(
            "config-schema",
            plugin=name,
            problem=f"CONFIG is a {type(schema).__name__} that does not map names to Option",
            fix='declare CONFIG = {"url": Option(str, None, "where to post"), ...} with '
            "hookline.config.Option",
        )
    path = f"plugins.{name}"
    for key, opt in schema.items():
        if opt.default is not None and not opt.required:
            try:
                check_table({key: opt.default}, {key: opt}, path)
            except ConfigError as exc:
                raise PluginCheckError(
                    "config-schema",
                    plugin=name,
                    problem=f"the default of {key!r} does not validate: {exc.message}",
                    fix=f"make the default of {key!r} {opt.describe()}",
                ) from exc
    try:
        check_table(dict(config or {}), schema, path)
    except ConfigError as exc:
        raise PluginCheckError(
            "config-schema",
            plugin=name,
            problem=f"the table under test does not validate: {exc.message}",
            fix="pass check_plugin(..., config={...}) with every required key, of the "
            "declared type",
        ) from exc


STATIC = {
    "implements-hooks": check_implements_hooks,
    "hook-names": check_hook_names,
    "hook-arguments": check_hook_arguments,
    "no-defaults": check_no_defaults,
    "registers": check_registers,
}


def static_checks() -> dict[str, Any]:
    return dict(STATIC)
