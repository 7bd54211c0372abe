"""``hookline models``: list, show, verify, sign, promote, approve and roll back registered
models."""

from __future__ import annotations

import argparse
from typing import Any

from hookline.cli._app import project_from
from hookline.cli._output import add_config_flag, add_json_flag, print_json, print_table
from hookline.errors import UsageError
from hookline.registry import Registry


def _common(p: argparse.ArgumentParser, *, json: bool = True) -> None:
    add_config_flag(p)
    p.add_argument("--storage", help="storage root URI (default: from the config)")
    if json:
        add_json_flag(p)


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="registered models, their versions and aliases")
    _common(models)
    models.set_defaults(func=cmd_list)
    msub = models.add_subparsers(dest="models_command", metavar="")

    show = msub.add_parser("show", help="versions with metrics, aliases and alias history")
    show.add_argument("name")
    _common(show)
    show.set_defaults(func=cmd_show)

    verify = msub.add_parser(
        "verify",
        help="check every artifact's sha256 and, with a signing key, each version's "
        "signature; one line per version, exit 1 on any failure",
    )
    verify.add_argument("name")
    verify.add_argument("version", type=int, nargs="?", help="default: every version")
    _common(verify)
    verify.set_defaults(func=cmd_verify)

    sign = msub.add_parser(
        "sign",
        help="sign versions written before signing was on (after checking their bytes)",
    )
    sign.add_argument("name")
    sign.add_argument("version", type=int, nargs="?", help="default: every unsigned version")
    sign.add_argument(
        "--replace",
        action="store_true",
        help="also replace signatures that do not verify (after a key rotation; check first)",
    )
    _common(sign)
    sign.set_defaults(func=cmd_sign)

    for verb, help_text in (
        ("promote", "point an alias at a version"),
        ("approve", "promote a version waiting for approval"),
    ):
        p = msub.add_parser(verb, help=help_text)
        p.add_argument("name")
        p.add_argument("version", type=int)
        p.add_argument("--alias", default="production")
        p.add_argument("--reason", default="")
        _common(p)
        p.set_defaults(func=cmd_move, action=verb)

    rollback = msub.add_parser("rollback", help="point an alias back at its previous version")
    rollback.add_argument("name")
    rollback.add_argument("--alias", default="production")
    rollback.add_argument("--reason", default="")
    _common(rollback)
    rollback.set_defaults(func=cmd_rollback)


def _v(version: int | None) -> str:
    return "(unset)" if version is None else f"v{version}"


def _describe(registry: Registry, name: str) -> dict[str, Any]:
    aliases = registry.aliases(name)
    versions = []
    for v in registry.versions(name):
        check = registry.verify(name, v.version)
        versions.append(
            {
                "version": v.version,
                "created_at": v.manifest.get("created_at"),
                "run_id": v.manifest.get("run_id"),
                "metrics": dict(v.metrics),
                "lineage": v.manifest.get("lineage"),
                "aliases": [a for a, s in aliases.items() if s.version == v.version],
                "verified": check.ok,
                "signature": check.signature,
                "problems": list(check.problems),
            }
        )
    return {
        "name": name,
        "versions": versions,
        "aliases": {a: s.to_dict() for a, s in aliases.items()},
    }


def cmd_list(args: argparse.Namespace) -> int:
    registry = project_from(args, require_config=False).registry
    rows: list[dict[str, Any]] = []
    for name in registry.models():
        aliases = registry.aliases(name)
        versions = registry.versions(name)
        rows.append(
            {
                "name": name,
                "versions": len(versions),
                "latest": versions[-1].version if versions else None,
                "aliases": {a: s.version for a, s in aliases.items()},
            }
        )
    if args.json:
        print_json(rows)
    else:
        print_table(
            [
                {**r, "aliases": " ".join(f"{a}=v{v}" for a, v in r["aliases"].items())}
                for r in rows
            ],
            ["name", "versions", "latest", "aliases"],
        )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    registry = project_from(args, require_config=False).registry
    info = _describe(registry, args.name)
    if args.json:
        print_json(info)
        return 0
    rows = [
        {
            "version": v["version"],
            "created_at": v["created_at"],
            "aliases": ",".join(v["aliases"]),
            "verified": "ok" if v["verified"] else "FAILED",
            **{k: val for k, val in list(v["metrics"].items())[:4]},
        }
        for v in info["versions"]
    ]
    metric_names = sorted({k for v in info["versions"] for k in list(v["metrics"])[:4]})
    print_table(rows, ["version", "created_at", "aliases", "verified", *metric_names])
    for v in info["versions"]:
        if not v["verified"]:
            print(f"v{v['version']} does not verify: {'; '.join(v['problems'])}")
    for alias, state in info["aliases"].items():
        print(f"\n{alias} -> v{state['version']}")
        for h in state["history"]:
            print(
                f"  #{h['seq']} {h['at']} {h['action']:<8} {_v(h['previous'])} -> "
                f"v{h['version']} by {h['by']} {h.get('reason') or ''}".rstrip()
            )
    return 0


def _targets(registry: Registry, args: argparse.Namespace) -> list[int]:
    if args.version is not None:
        registry.get(args.name, args.version)  # NotFound names the version
        return [args.version]
    versions = [v.version for v in registry.versions(args.name)]
    if not versions:
        raise UsageError(f"model {args.name!r} has no versions", hint="hookline models")
    return versions


def cmd_verify(args: argparse.Namespace) -> int:
    registry = project_from(args, require_config=False).registry
    checks = [registry.verify(args.name, v) for v in _targets(registry, args)]
    if args.json:
        print_json(
            [
                {
                    "model": c.model,
                    "version": c.version,
                    "ok": c.ok,
                    "artifacts": c.artifacts,
                    "signature": c.signature,
                    "problems": list(c.problems),
                }
                for c in checks
            ]
        )
    else:
        for check in checks:
            print(check.line())
    return 0 if all(c.ok for c in checks) else 1


def cmd_sign(args: argparse.Namespace) -> int:
    registry = project_from(args, require_config=False).registry
    targets = _targets(registry, args)
    if args.version is None:  # every version that is unsigned (or, with --replace, invalid)
        wanted = {"unsigned", "invalid"} if args.replace else {"unsigned"}
        targets = [v for v in targets if registry.verify(args.name, v).signature in wanted]
    signed = []
    for version in targets:
        doc = registry.sign(args.name, version, replace=args.replace)
        signed.append({"version": version, "key_id": doc["key_id"]})
        if not args.json:
            print(f"{args.name} v{version} signed with key {doc['key_id']}")
    if args.json:
        print_json(signed)
    elif not signed:
        print(f"{args.name}: no unsigned version (see `hookline models verify {args.name}`)")
    return 0


def cmd_move(args: argparse.Namespace) -> int:
    registry = project_from(args, require_config=False).registry
    if args.action == "approve":
        state = registry.approve(args.name, args.version, alias=args.alias, reason=args.reason)
    else:
        state = registry.move_alias(
            args.name, args.alias, args.version, action="promote", reason=args.reason
        )
    entry = state.history[-1]
    if args.json:
        print_json(state.to_dict())
    else:
        print(
            f"{args.name}: {args.alias} -> v{state.version} ({entry['action']} by "
            f"{entry['by']} at {entry['at']})"
        )
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    registry = project_from(args, require_config=False).registry
    state = registry.rollback(args.name, args.alias, reason=args.reason)
    entry = state.history[-1]
    if args.json:
        print_json(state.to_dict())
    else:
        print(
            f"{args.name}: {args.alias} rolled back {_v(entry['previous'])} -> {_v(state.version)}"
        )
    return 0
