"""A JSON Schema for ``hookline.toml``, generated from the same :class:`Option` declarations
that validate the file when it loads (:func:`hookline.config.json_schema` is the public face).

Editors that read JSON Schemas for TOML (Taplo / Even Better TOML, Tombi, JetBrains) then
complete keys, show each key's meaning and default, and flag a misspelt key as you type.
The schema is draft-07, the dialect those editors support best, and says
``additionalProperties`` on every table (Tombi treats a table without it as closed). It
cannot say everything the loader checks (stage order, trigger prefixes that overlap
hookline's outputs): loading stays the authority, the schema is the early warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["SCHEMA_ID", "build"]

SCHEMA_ID = "https://hookline.dev/hookline.schema.json"
_JSON_TYPES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
}
_NAME = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_PIPELINE_NAME = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


def _option(opt: Any) -> dict[str, Any]:
    types = opt.types if isinstance(opt.types, tuple) else (opt.types,)
    names = [_JSON_TYPES.get(t, "string") for t in types]
    out: dict[str, Any] = {"type": names[0] if len(names) == 1 else names}
    if "object" in names:
        out["additionalProperties"] = True  # a free-form table (Tombi's strict mode asks)
    if opt.help:
        out["description"] = opt.help
    if opt.choices is not None:
        out["enum"] = list(opt.choices)
    if opt.default is not None and opt.default != {} and not opt.required:
        out["default"] = opt.default
    return out


def _table(schema: Mapping[str, Any], *, title: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "title": title,
        "properties": {key: _option(opt) for key, opt in schema.items()},
        "additionalProperties": False,
    }
    required = [key for key, opt in schema.items() if opt.required]
    if required:
        out["required"] = required
    return out


def build(plugins: Mapping[str, Mapping[str, Any] | None] | None = None) -> dict[str, Any]:
    """The schema: every section (the core's and the adapters'), pipelines, and one table
    per plugin in ``plugins`` (name to its ``CONFIG``, or ``None`` for a plugin without
    one). Tables of plugins not named are allowed as any table (a third-party plugin's)."""
    from hookline import config
    from hookline.hookspecs import STAGES

    plugin_defs: dict[str, Any] = {}
    for name, schema in sorted((plugins or {}).items()):
        if isinstance(schema, Mapping):
            plugin_defs[name] = _table(schema, title=f"[plugins.{name}]")
        else:
            plugin_defs[name] = {
                "type": "object",
                "title": f"[plugins.{name}]",
                "description": f"plugin {name!r} declares no schema: its keys are not checked",
                "additionalProperties": True,
            }
    plugin_tables = {
        "type": "object",
        "description": "one table per plugin, named after its entry point (`hookline plugins`)",
        "properties": {name: {"$ref": f"#/definitions/plugin-{name}"} for name in plugin_defs},
        "additionalProperties": {"type": "object", "additionalProperties": True},
    }
    trigger = _table(config.TRIGGER, title="trigger")
    trigger["properties"]["suffix"]["items"] = {"type": "string", "minLength": 1}
    pipeline = _table(config.PIPELINE, title="[pipelines.NAME]")
    props = pipeline["properties"]
    props["model"]["pattern"] = _NAME
    props["alias"]["pattern"] = _NAME
    props["stages"].update({"items": {"enum": list(STAGES)}, "minItems": 1, "uniqueItems": True})
    props["stages"]["description"] += "; starts with 'ingest'"
    props["trigger"] = {**props["trigger"], "$ref": "#/definitions/trigger"}
    del props["trigger"]["type"]
    props["plugins"] = {
        "description": props["plugins"].get("description", ""),
        "$ref": "#/definitions/plugins",
    }
    sections: dict[str, Any] = {}
    for name, schema in config.section_schemas().items():
        if schema is not None:
            sections[name] = _table(schema, title=f"[{name}]")
    sections["pipelines"] = {
        "type": "object",
        "title": "[pipelines]",
        "description": "the named pipelines: at least one",
        "minProperties": 1,
        "patternProperties": {_PIPELINE_NAME: {"$ref": "#/definitions/pipeline"}},
        "additionalProperties": False,
    }
    sections["plugins"] = {"$ref": "#/definitions/plugins"}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "hookline.toml",
        "description": "The configuration of a hookline project: "
        "https://hookline.dev/configuration/",
        "type": "object",
        "properties": sections,
        "required": ["pipelines"],
        "additionalProperties": False,
        "definitions": {
            "pipeline": pipeline,
            "trigger": trigger,
            "plugins": plugin_tables,
            **{f"plugin-{name}": d for name, d in plugin_defs.items()},
        },
    }
