"""Small helpers shared by the built-in plugins (no heavy imports here)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hookline.config import Option, check_table
from hookline.types import RunContext

__all__ = ["clean", "settings"]


def settings(ctx: RunContext, plugin: str, schema: Mapping[str, Option]) -> dict[str, Any]:
    """The plugin's ``[plugins.NAME]`` table for this run, validated, with defaults filled in.

    :param ctx: the run context.
    :param plugin: the plugin's entry-point name (``pandas``, ``sklearn``...).
    :param schema: the plugin module's ``CONFIG``.
    :returns: every key of ``schema`` with its configured or default value.
    :raises hookline.errors.ConfigError: a key is unknown or has the wrong type.
    """
    return check_table(ctx.plugin_config(plugin), schema, f"plugins.{plugin}", ctx.config.source)


def clean(value: Any) -> Any:
    """A JSON-safe copy of ``value``: numpy scalars and arrays become Python values, NaN and
    infinities become ``None`` (JSON has neither), tuples and sets become lists."""
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [clean(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "tolist"):  # numpy scalar or array
        return clean(value.tolist())
    if hasattr(value, "item"):
        return clean(value.item())
    return str(value)
