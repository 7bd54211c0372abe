"""``hookline new-plugin NAME``: scaffold a plugin package that installs and passes its tests.

The package has a ``pyproject.toml`` with the ``hookline`` entry point, a ``src/`` layout
with one hook implementation (typed exactly like its spec), a test that runs hookline's
conformance kit plus a behaviour test, and a README.
"""

from __future__ import annotations

import argparse
import inspect
import re
from pathlib import Path
from string import Template

from hookline.errors import UsageError

__all__ = ["PluginFiles", "register", "render", "scaffold"]

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
_TYPES = (
    "AliasMove",
    "CheckResult",
    "Dataset",
    "Deployment",
    "ModelVersion",
    "MonitorReport",
    "RunContext",
    "Source",
    "TrainedModel",
    "VersionMeta",
)
PluginFiles = dict[str, str]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "new-plugin",
        help="scaffold a plugin package: entry point, one hook, "
        "tests using hookline's conformance kit, README",
    )
    p.add_argument(
        "name",
        metavar="NAME",
        help="the plugin's name, e.g. 'slack-notify' (the package is "
        "hookline-NAME, the module hookline_NAME)",
    )
    p.add_argument(
        "--dir",
        default=".",
        metavar="DIR",
        help="folder to create the package in (default: the current folder)",
    )
    p.add_argument(
        "--hook",
        default="validate",
        metavar="HOOK",
        help="the hook to implement (default: validate); one of: " + ", ".join(_hook_names()),
    )
    p.set_defaults(func=cmd_new_plugin)


def _hook_names() -> list[str]:
    from hookline.cli._plugin_templates import HOOK_TEMPLATES

    return sorted(HOOK_TEMPLATES)


def normalise(name: str) -> str:
    """``Hookline-Slack_Notify`` -> ``slack-notify``.

    :raises UsageError: not a name made of lowercase letters, digits and single ``-``/``_``.
    """
    clean = name.strip().lower().removeprefix("hookline-").removeprefix("hookline_")
    if not _NAME.match(clean):
        raise UsageError(
            f"invalid plugin name {name!r}",
            hint="use letters, digits and single '-' or '_', starting with a "
            "letter, e.g. 'slack-notify'",
        )
    return clean.replace("_", "-")


def _signature(hook: str) -> str:
    """The hook's ``def`` line, with the spec's argument names and annotations."""
    from hookline import hookspecs

    sig = inspect.signature(getattr(hookspecs, hook))
    args = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    line = f"def {hook}({args}) -> {sig.return_annotation}:"
    if len(line) <= 99:
        return line
    return f"def {hook}(\n    {args}\n) -> {sig.return_annotation}:"


def _imports(extra: str, signature: str, body: str) -> tuple[str, str]:
    """``(standard-library import lines, names to import from hookline.types)``."""
    lines = {line for line in extra.splitlines() if line} | {"from typing import Any"}
    abc = [n for n in ("Mapping", "Sequence") if f"{n}[" in signature]
    if abc:
        lines.add(f"from collections.abc import {', '.join(abc)}")
    plain = sorted(line for line in lines if line.startswith("import "))
    froms = sorted(line for line in lines if line.startswith("from "))
    types = sorted(
        t for t in _TYPES if re.search(rf"\b{t}\b", signature) or re.search(rf"\b{t}\(", body)
    )
    return "\n".join(plain + froms), ", ".join(types)


def render(name: str, hook: str) -> PluginFiles:
    """The files of a plugin package named ``name`` implementing ``hook``, by relative path.

    :raises UsageError: an invalid name or an unknown hook.
    """
    from hookline import __version__
    from hookline.cli._plugin_templates import (
        HOOK_TEMPLATES,
        MODULE,
        PYPROJECT,
        README,
        TEST_HEADER,
    )

    name = normalise(name)
    if hook not in HOOK_TEMPLATES:
        import difflib

        guess = difflib.get_close_matches(hook, list(HOOK_TEMPLATES), n=1)
        raise UsageError(
            f"unknown hook {hook!r}" + (f" (did you mean {guess[0]!r}?)" if guess else ""),
            hint=f"hooks: {', '.join(sorted(HOOK_TEMPLATES))}",
        )
    tpl = HOOK_TEMPLATES[hook]
    module = "hookline_" + name.replace("-", "_")
    signature = _signature(hook)
    imports, types = _imports(tpl.imports, signature, tpl.body)
    values = {
        "name": name,
        "dist": f"hookline-{name}",
        "module": module,
        "hook": hook,
        "summary": tpl.summary,
        "signature": signature,
        "hookline_version": ".".join(__version__.split(".")[:2]),
        "imports": imports,
        "types": types,
        "config": Template(tpl.config).safe_substitute(name=name),
        "body": tpl.body.rstrip("\n"),
        "example": Template(tpl.example).substitute(name=name),
    }
    test = Template(TEST_HEADER).substitute(values) + "\n" + Template(tpl.test).substitute(values)
    return {
        "pyproject.toml": Template(PYPROJECT).substitute(values),
        "README.md": Template(README).substitute(values),
        f"src/{module}/__init__.py": Template(MODULE).substitute(values),
        "tests/test_plugin.py": test,
    }


def scaffold(name: str, hook: str, directory: str | Path) -> Path:
    """Write the package into ``directory/hookline-NAME`` and return that folder.

    :raises UsageError: the folder exists and is not empty, or name/hook are invalid.
    """
    files = render(name, hook)
    root = Path(directory) / f"hookline-{normalise(name)}"
    if root.exists() and any(root.iterdir()):
        raise UsageError(
            f"{root} already exists and is not empty",
            hint="choose another --dir or NAME, or remove the folder",
        )
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def cmd_new_plugin(args: argparse.Namespace) -> int:
    root = scaffold(args.name, args.hook, args.dir)
    name = normalise(args.name)
    print(f"created {root}/ (plugin {name!r}, hook {args.hook!r})")
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        print(f"  {path.relative_to(root)}")
    print(
        f"\nnext:\n  cd {root}\n  pip install -e '.[test]'\n  pytest\n"
        f"then configure it in hookline.toml under [plugins.{name}]"
    )
    return 0
