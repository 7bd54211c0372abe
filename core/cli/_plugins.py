"""``hookline plugins``: what is installed, where it came from, which hooks it implements."""

from __future__ import annotations

import argparse
from typing import Any

from hookline.cli._output import add_json_flag, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list loaded plugins with their distribution and hooks")
    add_json_flag(p)
    p.set_defaults(func=cmd_plugins)


def cmd_plugins(args: argparse.Namespace) -> int:
    from hookline._manager import make_plugin_manager

    pm = make_plugin_manager()
    rows: list[dict[str, Any]] = [
        {
            "name": i.name,
            "distribution": i.distribution,
            "version": i.version,
            "hooks": list(i.hooks),
            "origin": i.origin,
        }
        for i in pm.infos.values()
    ]
    if args.json:
        print_json(rows)
    else:
        print_table(
            [{**r, "hooks": ", ".join(r["hooks"])} for r in rows],
            ["name", "distribution", "version", "hooks"],
        )
    return 0
