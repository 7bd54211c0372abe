"""The rules a plugin is checked against, and the error that names a broken one."""

from __future__ import annotations

__all__ = ["RULES", "PluginCheckError"]

RULES: dict[str, str] = {
    # static: read from the plugin object, nothing is called
    "implements-hooks": "the plugin has at least one function marked with @hookimpl",
    "hook-names": "every @hookimpl is named after a hookline hook",
    "hook-arguments": "every argument of an implementation is one its spec names "
    "(no *args, no **kwargs)",
    "no-defaults": "no argument has a default value (pluggy would never pass it)",
    "registers": "hookline's plugin loader accepts the plugin",
    "config-schema": "CONFIG, when declared, maps keys to hookline.config.Option, and the "
    "defaults and the table under test validate against it",
    # dynamic: each implemented hook is called on realistic inputs
    "no-exception": "each hook runs on realistic inputs without raising",
    "provider-returns-artifact-or-none": "ingest returns a Dataset or None, train a "
    "TrainedModel or None (never False, 0 or [])",
    "validate-returns-checks": "validate returns CheckResults with the required fields, or None",
    "deploy-returns-deployment": "deploy returns a Deployment or None",
    "monitor-returns-report": "monitor returns a MonitorReport or None",
    "observer-returns-none": "before_*, after_* and on_*_error hooks return None",
    "serialisable": "what a hook returns (and ctx.notes) serialises into the run record as "
    "plain JSON",
    "writes-inside-storage-root": "a hook writes files only through ctx.storage, never in the "
    "working directory or next to the storage root",
    "no-leftover-temp-files": "temporary files are removed before the hook returns",
    "output-prefixes": "in storage, a hook writes only under runs/, registry/ and monitoring/ "
    "and never touches the uploaded object",
}
"""Every rule :func:`~hookline.testing.check_plugin` enforces, by id."""


class PluginCheckError(AssertionError):
    """A plugin broke one of the :data:`RULES`.

    :param rule: the rule's id, a key of :data:`RULES`.
    :param plugin: the plugin's name.
    :param hook: the hook concerned, when there is one.
    :param problem: what was found.
    :param fix: how to fix it.
    """

    def __init__(
        self, rule: str, *, plugin: str, problem: str, fix: str, hook: str | None = None
    ) -> None:
        assert rule in RULES, rule
        where = f"plugin {plugin!r}" + (f", hook {hook!r}" if hook else "")
        super().__init__(f"[{rule}] {where}: {problem}\n  rule: {RULES[rule]}\n  how to fix: {fix}")
        self.rule = rule
        self.plugin = plugin
        self.hook = hook
        self.problem = problem
        self.fix = fix
