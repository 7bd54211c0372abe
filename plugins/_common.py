"""Small helpers shared by the built-in plugins (no heavy imports here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hookline.config import Option, check_table
from hookline.types import RunContext

__all__ = ["schema_columns", "schema_target", "settings"]


def settings(ctx: RunContext, plugin: str, schema: Mapping[str, Option]) -> dict[str, Any]:
    """The plugin's ``[plugins.NAME]`` table for this run, validated, with defaults filled in.

    :param ctx: the run context.
    :param plugin: the plugin's entry-point name (``pandas``, ``sklearn``...).
    :param schema: the plugin module's ``CONFIG``.
    :returns: every key of ``schema`` with its configured or default value.
    :raises hookline.errors.ConfigError: a key is unknown or has the wrong type.
    """
    return check_table(ctx.plugin_config(plugin), schema, f"plugins.{plugin}", ctx.config.source)


def schema_columns(schema: Any) -> dict[str, dict[str, Any]]:
    """The column entries of a dataset schema (``{column: {"dtype", "nullable", ...}}``,
    the label's entry marked ``"target": true``); anything that is not a column is skipped."""
    if not isinstance(schema, Mapping):
        return {}
    return {str(k): dict(v) for k, v in schema.items() if isinstance(v, Mapping)}


def schema_target(schema: Any) -> str | None:
    """The column a dataset schema marks as the target, if any."""
    return next((k for k, v in schema_columns(schema).items() if v.get("target")), None)
