"""``hookline models``: list, show, verify, sign, promote, approve, roll back, tag and
describe registered models.

Wherever a command names a model it takes a reference (:func:`hookline.registry.parse_model_ref`):
``NAME``, ``NAME@ALIAS`` (the version the alias points at) or ``NAME/VERSION``.
"""

from __future__ import annotations

import argparse
from typing import Any

from hookline.cli._app import project_from
from hookline.cli._output import (
    add_config_flag,
    add_json_flag,
    add_storage_flag,
    print_json,
    print_table,
)
from hookline.cli._parser import number
from hookline.errors import NotFound, UsageError
from hookline.registry import ModelRef, Registry, parse_model_ref

MODEL_HELP = "the model: NAME, NAME@ALIAS or NAME/VERSION"


def _common(p: argparse.ArgumentParser, *, json: bool = True) -> None:
    add_config_flag(p)
    add_storage_flag(p)
    if json:
        add_json_flag(p)


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="registered models, their versions and aliases")
    _common(models)
    models.set_defaults(func=cmd_list)
    msub = models.add_subparsers(dest="models_command", metavar="SUBCOMMAND")

    listing = msub.add_parser("list", help="every model: versions, latest, aliases (the default)")
    _common(listing)
    listing.set_defaults(func=cmd_list)

    show = msub.add_parser(
        "show",
        help="versions with metrics, tags, aliases and alias history; "
        "NAME/VERSION or NAME@ALIAS: one version in full",
    )
    show.add_argument("name", metavar="MODEL", help=MODEL_HELP)
    _common(show)
    show.set_defaults(func=cmd_show)

    verify = msub.add_parser(
        "verify",
        help="check every artifact's sha256 and, with a signing key, each version's "
        "signature; one line per version, exit 1 on any failure",
    )
    verify.add_argument("name", metavar="MODEL", help=MODEL_HELP)
    verify.add_argument(
        "version",
        type=number(int, low=1, high=999_999_999, what="a version number"),
        nargs="?",
        metavar="VERSION",
        help="default: every version",
    )
    _common(verify)
    verify.set_defaults(func=cmd_verify)

    sign = msub.add_parser(
        "sign",
        help="sign versions written before signing was on (after checking their bytes)",
    )
    sign.add_argument("name", metavar="MODEL", help=MODEL_HELP)
    sign.add_argument(
        "version",
        type=number(int, low=1, high=999_999_999, what="a version number"),
        nargs="?",
        metavar="VERSION",
        help="default: every unsigned version",
    )
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
        p.add_argument(
            "name",
            metavar="MODEL",
            help="NAME with VERSION, or NAME/VERSION, or NAME@ALIAS (the version that "
            "alias points at, e.g. churn@staging)",
        )
        p.add_argument(
            "version",
            type=number(int, low=1, high=999_999_999, what="a version number"),
            nargs="?",
            metavar="VERSION",
            help="the version (after a NAME)",
        )
        p.add_argument("--alias", default="production", help="the alias to move")
        p.add_argument("--reason", default="", help="why, kept in the alias history")
        _common(p)
        p.set_defaults(func=cmd_move, action=verb)

    rollback = msub.add_parser("rollback", help="point an alias back at its previous version")
    rollback.add_argument("name", metavar="MODEL", help="NAME, or NAME@ALIAS to name the alias")
    rollback.add_argument("--alias", default=None, help="the alias (default: production)")
    rollback.add_argument("--reason", default="", help="why, kept in the alias history")
    _common(rollback)
    rollback.set_defaults(func=cmd_rollback)

    tag = msub.add_parser(
        "tag",
        help="set, remove or list a version's tags (KEY=VALUE ...; none: list them)",
    )
    tag.add_argument("name", metavar="MODEL", help="NAME/VERSION, NAME@ALIAS, or NAME VERSION")
    tag.add_argument("items", nargs="*", metavar="KEY=VALUE", help="tags to set")
    tag.add_argument(
        "--remove", action="append", default=[], metavar="KEY", help="remove this tag (repeat)"
    )
    _common(tag)
    tag.set_defaults(func=cmd_tag)

    describe = msub.add_parser(
        "describe", help="set or print a version's description ('' clears it)"
    )
    describe.add_argument("name", metavar="MODEL", help="NAME/VERSION, NAME@ALIAS, or NAME VERSION")
    describe.add_argument("text", nargs="*", metavar="TEXT", help="the new description")
    _common(describe)
    describe.set_defaults(func=cmd_describe)


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


def _model_exists(registry: Registry, name: str) -> None:
    """:raises NotFound: no version and no alias of ``name`` (with a did-you-mean)."""
    if registry.versions(name) or registry.aliases(name):
        return
    from hookline._suggest import close_matches

    known = registry.models()
    guess = close_matches(name, known)
    raise NotFound(
        f"no model {name!r} in {registry.storage.uri}"
        + (f" (did you mean {guess[0]!r}?)" if guess else ""),
        hint=f"models: {', '.join(known)}" if known else "no model is registered yet",
    )


def _version_of(ref: ModelRef, rest: list[str], registry: Registry) -> tuple[int, list[str]]:
    """The version a tag/describe command names: in the reference (``m/3``, ``m@alias``)
    or, after a bare name, as the first of ``rest``; returns it with what is left."""
    if ref.bare:
        if rest and rest[0].isascii() and rest[0].isdigit():
            return int(rest[0]), rest[1:]
        raise UsageError(
            f"name a version of {ref.name!r}",
            hint=f"write {ref.name}/VERSION, {ref.name}@ALIAS or {ref.name} VERSION",
        )
    return registry.lookup(ref).version, rest


def _with_meta(registry: Registry, info: dict[str, Any]) -> dict[str, Any]:
    for v in info["versions"]:
        meta = registry.version_meta(info["name"], v["version"])
        v["tags"], v["description"] = dict(meta.tags), meta.description
    return info


def cmd_show(args: argparse.Namespace) -> int:
    registry = project_from(args, require_config=False).registry
    ref = parse_model_ref(args.name)
    if not ref.bare:
        return _show_version(registry, ref, args.json)
    _model_exists(registry, ref.name)
    info = _with_meta(registry, _describe(registry, ref.name))
    if args.json:
        print_json(info)
        return 0
    rows = [
        {
            "version": v["version"],
            "created_at": v["created_at"],
            "aliases": ",".join(v["aliases"]),
            "verified": "ok" if v["verified"] else "FAILED",
            "tags": " ".join(f"{k}={val}" for k, val in v["tags"].items()),
            **{k: val for k, val in list(v["metrics"].items())[:4]},
        }
        for v in info["versions"]
    ]
    metric_names = sorted({k for v in info["versions"] for k in list(v["metrics"])[:4]})
    print_table(rows, ["version", "created_at", "aliases", "verified", *metric_names, "tags"])
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


def _show_version(registry: Registry, ref: ModelRef, as_json: bool) -> int:
    mv = registry.lookup(ref)
    meta = registry.version_meta(mv.model, mv.version)
    aliases = sorted(a for a, s in registry.aliases(mv.model).items() if s.version == mv.version)
    info = {
        "name": mv.model,
        "version": mv.version,
        "reference": str(ref),
        "aliases": aliases,
        "tags": dict(meta.tags),
        "description": meta.description,
        "manifest": dict(mv.manifest),
    }
    if as_json:
        print_json(info)
        return 0
    manifest = mv.manifest
    print(f"model       {mv.model} v{mv.version}" + (f"  ({ref})" if ref.alias else ""))
    print(f"aliases     {', '.join(aliases) or '-'}")
    print(f"created     {manifest.get('created_at')} by {manifest.get('created_by')}")
    print(f"run         {manifest.get('run_id') or '-'}")
    for line in (meta.description or "-").splitlines() or ["-"]:
        print(f"description {line}")
    for key, value in meta.tags.items():
        print(f"tag         {key} = {value}")
    for name, value in (manifest.get("metrics") or {}).items():
        print(f"metric      {name} = {value}")
    for name, art in (manifest.get("artifacts") or {}).items():
        print(f"artifact    {name}  {art.get('size')} bytes  sha256 {art.get('sha256')}")
    return 0


def _move_target(registry: Registry, args: argparse.Namespace) -> tuple[str, int]:
    ref = parse_model_ref(args.name)
    if ref.bare:
        if args.version is None:
            raise UsageError(
                f"name the version to {args.action}",
                hint=f"hookline models {args.action} {ref.name} VERSION (or {ref.name}/VERSION, "
                f"{ref.name}@staging)",
            )
        return ref.name, args.version
    if args.version is not None:
        raise UsageError(
            f"{args.name!r} already names a version: drop {args.version}",
            hint=f"hookline models {args.action} {ref.name} {args.version}",
        )
    return ref.name, registry.lookup(ref).version


def _targets(registry: Registry, args: argparse.Namespace) -> tuple[str, list[int], bool]:
    """The model and the versions a verify/sign command names, and whether it named them
    (``NAME VERSION``, ``NAME/VERSION``, ``NAME@ALIAS``) rather than all of them."""
    ref = parse_model_ref(args.name)
    if not ref.bare:
        if args.version is not None:
            raise UsageError(f"{args.name!r} already names a version: drop {args.version}")
        return ref.name, [registry.lookup(ref).version], True
    if args.version is not None:
        registry.get(ref.name, args.version)  # NotFound names the version
        return ref.name, [args.version], True
    versions = [v.version for v in registry.versions(ref.name)]
    if not versions:
        raise UsageError(f"model {ref.name!r} has no versions", hint="hookline models")
    return ref.name, versions, False


def cmd_verify(args: argparse.Namespace) -> int:
    registry = project_from(args, require_config=False).registry
    name, versions, _ = _targets(registry, args)
    checks = [registry.verify(name, v) for v in versions]
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
    name, targets, named = _targets(registry, args)
    if not named:  # every version that is unsigned (or, with --replace, invalid)
        wanted = {"unsigned", "invalid"} if args.replace else {"unsigned"}
        targets = [v for v in targets if registry.verify(name, v).signature in wanted]
    signed = []
    for version in targets:
        doc = registry.sign(name, version, replace=args.replace)
        signed.append({"version": version, "key_id": doc["key_id"]})
        if not args.json:
            print(f"{name} v{version} signed with key {doc['key_id']}")
    if args.json:
        print_json(signed)
    elif not signed:
        print(f"{name}: no unsigned version (see `hookline models verify {name}`)")
    return 0


def cmd_move(args: argparse.Namespace) -> int:
    registry = project_from(args, require_config=False).registry
    name, version = _move_target(registry, args)
    if args.action == "approve":
        state = registry.approve(name, version, alias=args.alias, reason=args.reason)
    else:
        state = registry.move_alias(name, args.alias, version, action="promote", reason=args.reason)
    entry = state.history[-1]
    if args.json:
        print_json(state.to_dict())
    else:
        print(
            f"{name}: {args.alias} -> v{state.version} ({entry['action']} by "
            f"{entry['by']} at {entry['at']})"
        )
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    registry = project_from(args, require_config=False).registry
    ref = parse_model_ref(args.name)
    if ref.version is not None:
        raise UsageError(
            f"rollback moves an alias back, it takes no version: {args.name!r}",
            hint=f"hookline models rollback {ref.name}@ALIAS, or promote {ref} instead",
        )
    if ref.alias and args.alias and ref.alias != args.alias:
        raise UsageError(f"two aliases named: {ref.alias!r} and --alias {args.alias!r}")
    alias = ref.alias or args.alias or "production"
    state = registry.rollback(ref.name, alias, reason=args.reason)
    entry = state.history[-1]
    if args.json:
        print_json(state.to_dict())
    else:
        print(f"{ref.name}: {alias} rolled back {_v(entry['previous'])} -> {_v(state.version)}")
    return 0


def _print_meta(meta: Any, as_json: bool, *, what: str) -> None:
    if as_json:
        print_json(meta.to_dict())
    elif what == "tags":
        for key, value in meta.tags.items():
            print(f"{key}={value}")
        if not meta.tags:
            print(f"{meta.model} v{meta.version}: no tags")
    else:
        print(meta.description or f"{meta.model} v{meta.version}: no description")


def cmd_tag(args: argparse.Namespace) -> int:
    registry = project_from(args, require_config=False).registry
    ref = parse_model_ref(args.name)
    version, items = _version_of(ref, list(args.items), registry)
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(
                f"expected KEY=VALUE, got {item!r}",
                hint=f"hookline models tag {ref.name}/{version} reviewed=yes",
            )
        tags[key] = value
    if tags or args.remove:
        meta = registry.update_version(ref.name, version, tags=tags, remove=args.remove)
    else:
        registry.get(ref.name, version)  # NotFound names the version
        meta = registry.version_meta(ref.name, version)
    _print_meta(meta, args.json, what="tags")
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    registry = project_from(args, require_config=False).registry
    ref = parse_model_ref(args.name)
    version, words = _version_of(ref, list(args.text), registry)
    if words:
        meta = registry.update_version(ref.name, version, description=" ".join(words))
    else:
        registry.get(ref.name, version)
        meta = registry.version_meta(ref.name, version)
    _print_meta(meta, args.json, what="description")
    return 0
