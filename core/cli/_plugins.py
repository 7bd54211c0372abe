"""``hookline plugins``: what is installed, where it came from, which hooks it implements."""

from __future__ import annotations

import argparse
from typing import Any

from hookline.cli._output import add_json_flag, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list loaded plugins with their distribution and hooks")
    _flags(p)
    psub = p.add_subparsers(dest="plugins_command", metavar="SUBCOMMAND")
    _flags(psub.add_parser("list", help="list loaded plugins (the default)"))
    show = psub.add_parser(
        "show", help="one plugin: distribution, origin, hooks and its [plugins.NAME] keys"
    )
    show.add_argument("plugin", metavar="NAME", help="the plugin's entry-point name")
    add_json_flag(show)
    show.set_defaults(func=cmd_show)


def _flags(p: argparse.ArgumentParser) -> None:
    add_json_flag(p)
    p.add_argument(
        "--hooks",
        action="store_true",
        help="list the hook specifications: signature, call semantics, who implements",
    )
    p.add_argument(
        "--names",
        action="store_true",
        help="print the installed plugins' names only, one per line, without loading them",
    )
    p.set_defaults(func=cmd_plugins)


def installed_names() -> list[str]:
    """Every plugin name installed (entry-point group ``hookline``), none of them loaded."""
    from hookline._entrypoints import entry_points
    from hookline._manager import ENTRY_POINT_GROUP

    return sorted({ep.name for ep in entry_points(ENTRY_POINT_GROUP)})


def cmd_show(args: argparse.Namespace) -> int:
    import inspect
    from collections.abc import Mapping

    from hookline._manager import make_plugin_manager
    from hookline.errors import NotFound

    names = installed_names()
    if args.plugin not in names:
        from hookline._suggest import close_matches

        guess = close_matches(args.plugin, names)
        raise NotFound(
            f"no plugin {args.plugin!r} is installed"
            + (f" (did you mean {guess[0]!r}?)" if guess else ""),
            hint=f"installed plugins: {', '.join(names) or 'none'}",
        )
    pm = make_plugin_manager(pinned=[args.plugin], disabled=())
    info = pm.infos[args.plugin]
    obj = pm.get_plugin(args.plugin)
    schema = getattr(obj, "CONFIG", None)
    options = schema if isinstance(schema, Mapping) else {}
    doc = (inspect.getdoc(obj) or "").split("\n\n", 1)[0]
    data: dict[str, Any] = {
        "name": info.name,
        "distribution": info.distribution,
        "version": info.version,
        "origin": info.origin,
        "summary": " ".join(doc.split()),
        "hooks": list(info.hooks),
        "config": {
            key: {"type": opt.describe(), "default": opt.default, "help": opt.help}
            for key, opt in options.items()
        },
    }
    if args.json:
        print_json(data)
        return 0
    print(f"plugin       {data['name']}  ({info.label})")
    print(f"origin       {data['origin']}")
    if data["summary"]:
        print(f"summary      {data['summary']}")
    print(f"hooks        {', '.join(data['hooks']) or '-'}")
    if options:
        print(f"\n[plugins.{data['name']}]")
        print_table(
            [{"key": k, **v, "default": _default(v["default"])} for k, v in data["config"].items()],
            ["key", "type", "default", "help"],
        )
    return 0


def _default(value: Any) -> str:
    import json

    return "(unset)" if value is None else json.dumps(value)


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

    if args.names:
        print("\n".join(installed_names()))
        return 0
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
