"""docs/installation.md lists every extra pyproject.toml declares, with what it brings."""

from __future__ import annotations

import re
import tomllib

from ._markdown import DOCS, ROOT

PAGE = (DOCS / "installation.md").read_text(encoding="utf-8")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _names(requirements: list[str]) -> list[str]:
    return [re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0] for r in requirements]


def test_every_extra_has_a_row_naming_what_it_installs() -> None:
    rows = {
        m.group(1): m.group(2) for m in re.finditer(r"^\| `([a-z]+)` \| ([^|]+) \|", PAGE, re.M)
    }
    extras = PROJECT["project"]["optional-dependencies"]
    assert set(rows) == set(extras)
    for extra, requirements in extras.items():
        for name in _names(requirements):
            if name == "hookline":  # `all` names other extras
                continue
            shown = name.replace("-", "").replace("_", "").lower()
            assert shown in rows[extra].replace("-", "").replace(" ", "").lower(), (extra, name)
    combined = re.search(r"hookline\[([a-z,]+)\]", extras["all"][0]).group(1).split(",")
    for extra in combined:
        assert f"`{extra}`" in rows["all"], extra


def test_the_base_row_lists_the_base_dependencies() -> None:
    base = next(line for line in PAGE.splitlines() if line.startswith("| (none) |"))
    for name in _names(PROJECT["project"]["dependencies"]):
        assert name.replace("-", "").lower() in base.replace("-", "").lower(), name


def test_the_development_tools_are_a_dependency_group() -> None:
    assert "test" not in PROJECT["project"]["optional-dependencies"]
    group = _names(PROJECT["dependency-groups"]["test"])
    assert {"pytest", "ruff", "mypy", "jsonschema"} <= set(group)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--group test" in makefile and "--group test" in PAGE


def test_the_license_ships_with_the_package() -> None:
    assert PROJECT["project"]["license"] == "Apache-2.0"
    assert PROJECT["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the full text, not a pointer to it
    assert "Apache-2.0" in (ROOT / "README.md").read_text(encoding="utf-8")
