"""The built-in plugins' pages: every configuration key documented with its real default,
and every code sample valid (TOML validated against the plugins, Python registered as a
plugin, JSON parsed)."""

from __future__ import annotations

import json
import re
import tomllib
import types
from pathlib import Path

import pytest
from hookline.config import check_table, parse_config
from hookline.plugins import drift, gates, ingest, registry, train

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PLUGINS = {"pandas": ingest, "sklearn": train, "gates": gates, "registry": registry, "drift": drift}
ROW = re.compile(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|", re.M)


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.M | re.S)


def shown(default) -> str:
    """A default value as the pages write it."""
    if default is None:
        return "(none)"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, str):
        return f'`"{default}"`'
    if isinstance(default, int):
        return f"`{default:_}`"
    return f"`{json.dumps(default)}`"


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_every_config_key_is_documented_with_its_default(name):
    page = (DOCS / "plugins" / f"{name}.md").read_text()
    section = page.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {key: default.strip() for key, _, default in ROW.findall(section)}
    config = PLUGINS[name].CONFIG
    assert set(rows) == set(config), "the table and CONFIG must list the same keys"
    for key, option in config.items():
        assert rows[key] == shown(option.default), f"{name}.{key}: default in the docs"


@pytest.mark.parametrize(
    "page", [*sorted((DOCS / "plugins").glob("*.md")), DOCS / "quickstart.md"], ids=lambda p: p.name
)
def test_code_samples_are_valid(page):
    text = page.read_text()
    samples = 0
    for sample in blocks(text, "toml"):
        data = tomllib.loads(sample)
        for name, table in data.get("plugins", {}).items():
            check_table(table, PLUGINS[name].CONFIG, f"plugins.{name}")
            if name == "pandas":
                ingest._declared(table.get("columns", {}))
        if "pipelines" in data:
            config = parse_config(data, env={})
            config.check_plugins(PLUGINS)
        samples += 1
    for sample in blocks(text, "json"):
        json.loads(sample)
        samples += 1
    for sample in blocks(text, "python"):
        module = types.ModuleType("doc_sample")
        exec(compile(sample, str(page), "exec"), module.__dict__)
        from hookline._manager import make_plugin_manager

        make_plugin_manager(entry_points_group=None, plugins={"doc-sample": module})
        samples += 1
    assert samples, f"{page.name} has no code sample"


def test_quickstart_page_shows_the_real_project_file():
    page = (DOCS / "quickstart.md").read_text()
    real = (ROOT / "examples" / "quickstart" / "hookline.toml").read_text()
    assert real in blocks(page, "toml")


def test_pages_link_each_other_with_relative_links():
    for page in [*(DOCS / "plugins").glob("*.md"), DOCS / "quickstart.md"]:
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text()):
            linked = (page.parent / target).resolve()
            if linked.is_relative_to(DOCS / "plugins") or linked == DOCS / "quickstart.md":
                assert linked.exists(), f"{page.name} links to missing {target}"
