"""``hookline plugins``: what is installed, where it came from, which hooks it implements."""

from __future__ import annotations

import argparse
from typing import Any

from hookline.cli._output import add_json_flag, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list loaded plugins with their distribution and hooks")
    add_json_flag(p)
    p.add_argument(
        "--hooks",
        action="store_true",
        help="list the hook specifications: signature, call semantics, who implements",
    )
    p.set_defaults(func=cmd_plugins)


def _hook_rows(pm: Any) -> list[dict[str, Any]]:
    import inspect

    from hookline import hookspecs

    rows = []
    for name, caller in sorted(pm.hook.__dict__.items()):
        spec = getattr(caller, "spec", None)
        if spec is None:
            continue
        func = getattr(hookspecs, name)
        rows.append(
            {
                "hook": name,
                "signature": f"{name}{inspect.signature(func)}".replace("'", ""),
                "firstresult": bool(spec.opts.get("firstresult")),
                "summary": (inspect.getdoc(func) or "").split("\n", 1)[0],
                "implemented_by": pm.implementers(name),
            }
        )
    return rows


def cmd_plugins(args: argparse.Namespace) -> int:
    from hookline._manager import make_plugin_manager

    pm = make_plugin_manager()
    if args.hooks:
        hooks = _hook_rows(pm)
        if args.json:
            print_json(hooks)
        else:
            for h in hooks:
                kind = "provider, first answer wins" if h["firstresult"] else "every plugin"
                print(
                    f"{h['signature']}\n    {h['summary']} ({kind}; implemented by: "
                    f"{', '.join(h['implemented_by']) or 'none'})"
                )
        return 0
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
