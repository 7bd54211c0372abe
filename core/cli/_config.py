"""``hookline config``: check ``hookline.toml``, and print its JSON Schema for editors."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from hookline.cli._output import add_config_flag


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="check hookline.toml, or print its JSON Schema")
    csub = p.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)
    check = csub.add_parser(
        "check",
        help="load and validate hookline.toml with the installed plugins' tables; "
        "exit 2 naming the first problem",
    )
    add_config_flag(check)
    check.set_defaults(func=cmd_check)
    schema = csub.add_parser(
        "schema",
        help="print a JSON Schema of hookline.toml for editors (Taplo, Tombi), with a "
        "table for each installed plugin",
    )
    schema.add_argument(
        "--builtin",
        action="store_true",
        help="only the built-in plugins' tables (what docs/hookline.schema.json holds)",
    )
    schema.set_defaults(func=cmd_schema)


def plugin_schemas(*, builtin_only: bool = False) -> dict[str, Mapping[str, Any] | None]:
    """Each installed plugin's ``CONFIG`` by name (``None``: it declares none); loading a
    plugin that fails is an error naming it, as when a run loads it."""
    from hookline._manager import make_plugin_manager

    pm = make_plugin_manager(pinned=None, disabled=())
    found: dict[str, Mapping[str, Any] | None] = {}
    for name, info in pm.infos.items():
        if builtin_only and not info.origin.startswith("hookline.plugins."):
            continue
        schema = getattr(pm.get_plugin(name), "CONFIG", None)
        found[name] = schema if isinstance(schema, Mapping) else None
    return found


def cmd_schema(args: argparse.Namespace) -> int:
    from hookline.config import json_schema

    json.dump(json_schema(plugin_schemas(builtin_only=args.builtin)), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from hookline.cli._app import project_from

    project = project_from(args)
    pm = project.plugins  # validates every [plugins.NAME] table against its plugin
    config = project.config
    print(
        f"ok: {config.source}: {len(config.pipelines)} pipeline(s) "
        f"({', '.join(config.pipelines)}), storage {config.storage}, "
        f"plugins {', '.join(sorted(pm.infos))}"
    )
    return 0
