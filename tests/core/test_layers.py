"""The layer contracts in pyproject.toml cannot silently miss a module."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def contracts() -> dict[str, dict]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    return {c["name"]: c for c in data["tool"]["importlinter"]["contracts"]}


def core_modules() -> set[str]:
    names = set()
    for path in (REPO / "core").iterdir():
        if path.name.startswith("__"):
            continue
        if path.suffix == ".py" or (path / "__init__.py").exists():
            names.add(f"hookline.{path.stem}")
    return names


def test_the_core_contract_covers_every_core_module() -> None:
    contract = next(c for n, c in contracts().items() if n.startswith("The core imports neither"))
    assert set(contract["source_modules"]) == core_modules()


def test_every_adapter_package_is_held_to_the_sdk_contracts() -> None:
    adapters = {
        f"hookline.adapters.{p.name}"
        for p in (REPO / "adapters").iterdir()
        if (p / "__init__.py").exists()
    }
    for cloud, sdk_contract in (
        ("aws", "AWS SDK"),
        ("gcp", "Google Cloud SDK"),
        ("azure", "Azure SDK"),
    ):
        contract = next(c for n, c in contracts().items() if n.startswith(sdk_contract))
        assert set(contract["source_modules"]) >= adapters - {f"hookline.adapters.{cloud}"}


# -- no package imports another package's private modules ----------------------------------

SOURCE_ROOTS = {"core": "hookline", "plugins": "hookline.plugins", "adapters": "hookline.adapters"}


def module_name(path: Path, root: Path = REPO) -> str:
    """The dotted name of a source file: ``core/x.py`` is ``hookline.x``, ``plugins/`` is
    ``hookline.plugins``, ``adapters/`` ``hookline.adapters``; an entry file of
    ``functions/FOLDER/`` is ``functions.FOLDER.NAME`` (it belongs to no hookline package)."""
    top, *rest = path.relative_to(root).with_suffix("").parts
    rest = [part for part in rest if part != "__init__"]
    return ".".join([SOURCE_ROOTS.get(top, top), *rest])


def package_of(module: str) -> tuple[str, ...]:
    """The package that owns ``module``: a cloud or other subpackage of the adapters (their
    shared ``_`` modules and the events command belong to the adapters as a whole), the
    plugins, a core subpackage (``cli``, ``storage``, ``testing``) or the core."""
    parts = module.split(".")
    if parts[0] == "functions":
        return tuple(parts[:2])
    if parts[:2] == ["hookline", "adapters"]:
        sub = parts[2] if len(parts) > 2 else ""
        if not sub or sub.startswith("_") or sub == "events_cli":
            return ("adapters",)
        return ("adapters", sub)
    if parts[:2] == ["hookline", "plugins"]:
        return ("plugins",)
    if len(parts) > 1 and parts[1] in ("cli", "storage", "testing"):
        return ("core", parts[1])
    return ("core",)


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def imported(node: ast.AST, module: str, is_package: bool) -> list[tuple[str, list[str]]]:
    """``(module, names)`` for each hookline module an import statement reads."""
    if isinstance(node, ast.Import):
        return [(a.name, []) for a in node.names if a.name.split(".")[0] == "hookline"]
    if not isinstance(node, ast.ImportFrom):
        return []
    target = node.module or ""
    if node.level:  # relative: from the importing module's package
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, *([target] if target else [])])
    if target.split(".")[0] != "hookline":
        return []
    return [(target, [a.name for a in node.names])]


def private_cross_imports(root: Path = REPO) -> list[str]:
    """Imports of a private module (a dotted part starting with ``_``) or a private name of
    another package; a package's children may use its private modules (the adapters'
    ``_cloud``, ``_events``... are the clouds' shared internals)."""
    found = []
    for top in (*SOURCE_ROOTS, "functions"):
        for path in sorted((root / top).rglob("*.py")):
            module = module_name(path, root)
            owner = package_of(module)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                for target, names in imported(node, module, path.name == "__init__.py"):
                    target_pkg = package_of(target)
                    if any(private(n) for n in names):
                        ok = target_pkg == owner
                    elif any(private(part) for part in target.split(".")):
                        ok = owner[: len(target_pkg)] == target_pkg
                    else:
                        continue
                    if not ok:
                        where = path.relative_to(root)
                        found.append(f"{where}:{getattr(node, 'lineno', 0)}: {target} {names}")
    return found


def test_the_rule_sees_a_private_cross_package_import(tmp_path: Path) -> None:
    assert package_of("hookline.adapters.aws._samples") == ("adapters", "aws")
    assert package_of("hookline.adapters._cloud") == ("adapters",)
    assert package_of("hookline.adapters.events_cli") == ("adapters",)
    assert package_of("functions.aws_lambda.pipeline") == ("functions", "aws_lambda")
    code = "from hookline.adapters.aws._samples import KINDS\nfrom hookline import _version\n"
    tree = ast.parse(code)
    reads = [t for node in ast.walk(tree) for t in imported(node, "hookline.adapters.x", False)]
    assert reads == [("hookline.adapters.aws._samples", ["KINDS"]), ("hookline", ["_version"])]
    relative = ast.parse("from ._auth import SecretRef\n").body[0]
    assert imported(relative, "hookline.adapters.web.keys", False) == [
        ("hookline.adapters.web._auth", ["SecretRef"])
    ]
    tree_root = tmp_path / "tree"
    for folder, text in {
        "adapters/events_cli.py": "from hookline.adapters.aws._samples import KINDS\n",
        "adapters/aws/events.py": "from hookline.adapters.aws._samples import KINDS\n",
        "adapters/aws/__init__.py": "from hookline.adapters._cloud import Cloud\n",
        "plugins/x.py": "from hookline import _modelio\n",
        "functions/aws_lambda/pipeline.py": "import hookline.adapters.aws._samples\n",
    }.items():
        (tree_root / folder).parent.mkdir(parents=True, exist_ok=True)
        (tree_root / folder).write_text(text)
    assert sorted(private_cross_imports(tree_root)) == [
        "adapters/events_cli.py:1: hookline.adapters.aws._samples ['KINDS']",
        "functions/aws_lambda/pipeline.py:1: hookline.adapters.aws._samples []",
        "plugins/x.py:1: hookline ['_modelio']",
    ]


def test_no_package_imports_another_packages_private_modules() -> None:
    assert private_cross_imports() == []
