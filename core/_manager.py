"""Building the plugin manager: entry-point discovery, validation at load, and errors that
name the plugin, its distribution and the hook.

There is no module-global manager: every :class:`~hookline.runner.Hookline` (and every
test) builds its own with :func:`make_plugin_manager`.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pluggy
from hookline import hookspecs
from hookline._entrypoints import EntryPoint, entry_points
from hookline._markers import PROJECT
from hookline.errors import HookFailed, NoProvider, PluginLoadError, PluginValidationError

__all__ = [
    "ENTRY_POINT_GROUP",
    "HookProblem",
    "PluginInfo",
    "PluginManager",
    "hook_problems",
    "implemented_hooks",
    "make_plugin_manager",
    "spec_arguments",
]

ENTRY_POINT_GROUP = "hookline"
ENV_PINNED = "HOOKLINE_PLUGINS"
ENV_DISABLED = "HOOKLINE_DISABLE_PLUGINS"

log = logging.getLogger("hookline.plugins")


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A registered plugin, as ``hookline plugins`` lists it."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    origin: str
    """Where it came from: the entry point's ``module:attr``, or ``registered in code``."""

    @property
    def label(self) -> str:
        if self.distribution:
            return f"{self.distribution} {self.version or ''}".strip()
        return self.origin


class PluginManager(pluggy.PluginManager):
    """A :class:`pluggy.PluginManager` that remembers where each plugin came from and
    calls stage hooks with hookline's semantics."""

    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.infos: dict[str, PluginInfo] = {}
        self.add_hookspecs(hookspecs)

    # -- registration -------------------------------------------------------------------

    def register_plugin(
        self,
        plugin: object,
        name: str,
        *,
        distribution: str | None = None,
        version: str | None = None,
        origin: str = "registered in code",
    ) -> PluginInfo:
        """Validate ``plugin`` against the hook specs and register it under ``name``.

        :raises PluginValidationError: a hook implementation has a name that is not a hook,
            an argument the spec lacks, or an argument with a default value.
        """
        if self.has_plugin(name):
            raise PluginLoadError(
                "a plugin with this name is already registered",
                plugin=name,
                distribution=distribution,
                hint="give it another entry-point name",
            )
        if inspect.isclass(plugin) and implemented_hooks(self, plugin):
            raise PluginValidationError(
                "a class was registered, not an instance",
                plugin=name,
                distribution=distribution,
                hint=f"have you forgotten the () when registering {plugin.__name__}?",
            )
        hooks = _validate(self, plugin, name, distribution)
        try:
            super().register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginValidationError(
                str(exc), plugin=name, distribution=distribution, hint=_SIGNATURE_HINT
            ) from exc
        for caller in self.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not (impl.wrapper or impl.hookwrapper):
                    # pluggy types `function` as Final; wrapping it is how errors get a name.
                    impl.function = _attributed(  # type: ignore[misc]
                        impl.function, name, caller.name, distribution
                    )
        info = PluginInfo(name, distribution, version, tuple(sorted(hooks)), origin)
        self.infos[name] = info
        return info

    # -- calling --------------------------------------------------------------------------

    def implementers(self, hook: str) -> list[str]:
        """Names of the plugins implementing ``hook``, in call order."""
        caller = getattr(self.hook, hook)
        return [impl.plugin_name for impl in reversed(caller.get_hookimpls())]

    def call_provider(self, hook: str, **kwargs: Any) -> Any:
        """Call a provider hook; raise :class:`NoProvider` when every plugin passes."""
        result = getattr(self.hook, hook)(**kwargs)
        if result is None:
            names = self.implementers(hook)
            if names:
                raise NoProvider(
                    f"no plugin answered hook {hook!r}: "
                    f"{', '.join(repr(n) for n in names)} all returned None",
                    hint="check the format/task settings in their [plugins.*] tables",
                )
            raise NoProvider(
                f"no plugin implements hook {hook!r}",
                hint=f"install a plugin that provides it, or check {ENV_PINNED} / {ENV_DISABLED}",
            )
        return result

    def call_collecting(self, hook: str, **kwargs: Any) -> list[Any]:
        return [r for r in getattr(self.hook, hook)(**kwargs) if r is not None]

    def call_observers(self, hook: str, **kwargs: Any) -> None:
        """Call an observer hook; an observer's own failure is logged, never raised."""
        try:
            getattr(self.hook, hook)(**kwargs)
        except HookFailed as exc:
            log.warning("%s", exc)


_SIGNATURE_HINT = (
    "implementations take the spec's arguments by name (any subset); "
    "see `hookline plugins --hooks` or docs/hooks.md"
)


@dataclass(frozen=True, slots=True)
class HookProblem:
    """One way a plugin's hook implementations break the specs (see :func:`hook_problems`).

    :param rule: ``hook-names``, ``hook-arguments`` or ``no-defaults`` (the conformance
        kit's rule ids).
    :param hook: the implementation's name.
    :param problem: what is wrong, in a sentence.
    :param fix: how to fix it, with the spec's exact signature.
    """

    rule: str
    hook: str
    problem: str
    fix: str


def spec_arguments(pm: pluggy.PluginManager) -> dict[str, tuple[str, ...]]:
    """Every hook's name and its arguments, in spec order."""
    return {
        name: tuple(caller.spec.argnames)
        for name, caller in vars(pm.hook).items()
        if not name.startswith("_") and getattr(caller, "spec", None) is not None
    }


def implemented_hooks(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    """Attribute names of ``plugin`` marked with ``@hookimpl`` (known hooks or not)."""
    return sorted(n for n in dir(plugin) if pm.parse_hookimpl_opts(plugin, n) is not None)


def _spec_signature(specs: Mapping[str, tuple[str, ...]], hook: str) -> str:
    return f"def {hook}({', '.join(specs[hook])})"


def _parameters(plugin: object, attr: str) -> list[inspect.Parameter]:
    try:
        params = list(inspect.signature(getattr(plugin, attr)).parameters.values())
    except (TypeError, ValueError):
        return []
    if inspect.isclass(plugin) and params and params[0].name == "self":
        params = params[1:]
    return params


def hook_problems(pm: pluggy.PluginManager, plugin: object) -> list[HookProblem]:
    """Everything wrong with ``plugin``'s hook implementations, before it is registered.

    The one owner of these rules: the loader refuses a plugin with the first problem
    (:class:`PluginValidationError`), and the conformance kit reports each under its rule.
    """
    import difflib  # only when a plugin is checked, never on a warm path

    specs = spec_arguments(pm)
    found: list[HookProblem] = []
    for attr in implemented_hooks(pm, plugin):
        if attr not in specs:
            guess = difflib.get_close_matches(attr, list(specs), n=1)
            found.append(
                HookProblem(
                    "hook-names",
                    attr,
                    f"{attr!r} is not a hookline hook"
                    + (f" (did you mean {guess[0]!r}?)" if guess else ""),
                    f"rename it: {_spec_signature(specs, guess[0])}"
                    if guess
                    else f"name it after one of: {', '.join(specs)}",
                )
            )
            continue
        spec = specs[attr]
        for param in _parameters(plugin, attr):
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                star = "*" if param.kind == param.VAR_POSITIONAL else "**"
                found.append(
                    HookProblem(
                        "hook-arguments",
                        attr,
                        f"takes {star}{param.name}; pluggy passes hook arguments by name "
                        "only, so it would receive nothing",
                        f"name the arguments you need (any subset): {_spec_signature(specs, attr)}",
                    )
                )
            elif param.name not in spec and param.name != "self":
                guess = difflib.get_close_matches(param.name, spec, n=1)
                found.append(
                    HookProblem(
                        "hook-arguments",
                        attr,
                        f"argument {param.name!r} is not in the spec ({', '.join(spec)})"
                        + (f"; did you mean {guess[0]!r}?" if guess else ""),
                        "use the spec's argument names (any subset, any order): "
                        f"{_spec_signature(specs, attr)}",
                    )
                )
            elif param.default is not param.empty:
                found.append(
                    HookProblem(
                        "no-defaults",
                        attr,
                        f"argument {param.name!r} has a default value ({param.default!r}); "
                        "pluggy never passes an argument that has a default, so "
                        f"{param.name!r} would always be {param.default!r}",
                        f"remove the default: {_spec_signature(specs, attr)}",
                    )
                )
    return found


def _validate(
    pm: pluggy.PluginManager, plugin: object, name: str, distribution: str | None
) -> list[str]:
    problems = hook_problems(pm, plugin)
    if problems:
        first = problems[0]
        raise PluginValidationError(
            f"hook {first.hook!r}: {first.problem}",
            plugin=name,
            distribution=distribution,
            hint=first.fix,
        )
    return implemented_hooks(pm, plugin)


def _attributed(
    func: Callable[..., Any], plugin: str, hook: str, distribution: str | None
) -> Callable[..., Any]:
    """Wrap a hook implementation so that an exception names the plugin and the hook."""

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HookFailed:
            raise
        except Exception as exc:
            raise HookFailed(
                plugin=plugin, hook=hook, original=exc, distribution=distribution
            ) from exc

    return call


def _names(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [n.strip() for n in value.split(",") if n.strip()]
    return list(value)


def _did_you_mean(names: list[str], known: list[str]) -> str:
    from hookline._suggest import close_matches  # only on the error path

    pairs = [(n, g[0]) for n in names if (g := close_matches(n, known))]
    if not pairs:
        return ""
    if len(names) == 1:
        return f" (did you mean {pairs[0][1]!r}?)"
    return f" (did you mean {', '.join(f'{g!r} for {n!r}' for n, g in pairs)}?)"


def make_plugin_manager(
    *,
    pinned: str | Iterable[str] | None = None,
    disabled: str | Iterable[str] | None = None,
    plugins: Mapping[str, object] | None = None,
    entry_points_group: str | None = ENTRY_POINT_GROUP,
) -> PluginManager:
    """Build a plugin manager with every installed hookline plugin.

    :param pinned: load only these entry-point names (default: ``$HOOKLINE_PLUGINS``,
        comma-separated; unset means all). Deployed functions pin their plugin set.
    :param disabled: never load these (default: ``$HOOKLINE_DISABLE_PLUGINS``).
    :param plugins: extra plugin objects to register by name, e.g. in tests.
    :param entry_points_group: the entry-point group to load; ``None`` loads none.
    :raises PluginLoadError: a plugin failed to import (named with its distribution), or a
        pinned name is not installed.
    """
    pm = PluginManager()
    pin = _names(pinned if pinned is not None else os.environ.get(ENV_PINNED) or None)
    block = set(_names(disabled if disabled is not None else os.environ.get(ENV_DISABLED)) or ())
    if entry_points_group:
        found: dict[str, EntryPoint] = {}
        for ep in entry_points(entry_points_group):
            found.setdefault(ep.name, ep)
        if pin is not None:
            missing = [n for n in pin if n not in found and n not in (plugins or {})]
            if missing:
                known = sorted({*found, *(plugins or {})})
                raise PluginLoadError(
                    f"pinned in {ENV_PINNED} but not installed{_did_you_mean(missing, known)}",
                    plugin=", ".join(missing),
                    hint=f"installed plugins: {', '.join(known) or 'none'}",
                )
        for name, ep in sorted(found.items()):
            if (pin is not None and name not in pin) or name in block:
                continue
            _load_entry_point(pm, name, ep)
    for name, obj in (plugins or {}).items():
        if name not in block:
            pm.register_plugin(obj, name)
    return pm


def _load_entry_point(pm: PluginManager, name: str, ep: EntryPoint) -> None:
    dist_name, version = ep.dist_name, ep.dist_version
    label = f"{dist_name} {version}" if dist_name else None
    try:
        obj = ep.load()
    except Exception as exc:
        raise PluginLoadError(
            f"failed to import {ep.value}: {type(exc).__name__}: {exc}",
            plugin=name,
            distribution=label,
            hint=f"disable it with {ENV_DISABLED}={name}, or fix/reinstall "
            f"{dist_name or 'the package'}",
        ) from exc
    pm.register_plugin(obj, name, distribution=dist_name, version=version, origin=ep.value)
