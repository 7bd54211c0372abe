"""The generated reference pages: current, complete, and no page names a hook argument that
the spec lacks."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
import types

import pytest
from hookline import hookspecs
from hookline.testing import RULES, SCENARIOS, check_plugin
from hookline.testing._static import SPECS

from ._markdown import DOCS, ROOT, blocks, pages

_spec = importlib.util.spec_from_file_location(
    "gen_reference", ROOT / "docs" / "_tooling" / "gen_reference.py"
)
assert _spec and _spec.loader
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

HEADING = re.compile(r"^## `(\w+)\(([^)]*)\)`", re.M)
INLINE_CALL = re.compile(r"`(\w+)\(([\w, ]*)\)`")


def docstring_problems(name: str, args: list[str], doc: str) -> list[str]:
    """What the hook spec's docstring lacks to be the reference."""
    parsed = gen.parse_docstring(doc)
    problems = []
    if not parsed["summary"]:
        problems.append(f"{name}: no summary line")
    for arg in args:
        if not parsed["params"].get(arg):
            problems.append(f"{name}: no ':param {arg}:'")
    for extra in set(parsed["params"]) - set(args):
        problems.append(f"{name}: ':param {extra}:' documents an argument the spec lacks")
    for field, label in (
        ("returns", ":returns:"),
        ("semantics", "Call semantics:"),
        ("runs", "Runs:"),
    ):
        if not parsed[field]:
            problems.append(f"{name}: no '{label}'")
    return problems


def argument_problems(page: str, text: str) -> list[str]:
    """Hook implementations and inline hook signatures on a page that do not match a spec."""
    problems = []
    for block in blocks(page, text):
        if block.lang != "python":
            continue
        try:
            tree = ast.parse(block.code)
        except SyntaxError:
            continue  # a fragment; the samples test decides whether it runs
        lines = block.code.splitlines()
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not any("hookimpl" in ast.unparse(d) for d in node.decorator_list):
                continue
            if "deliberately wrong" in lines[node.lineno - 1]:
                continue
            where = f"docs/{page}:{block.line + node.lineno - 1}"
            if node.name not in SPECS:
                problems.append(f"{where}: @hookimpl {node.name!r} is not a hook")
                continue
            args = [a.arg for a in node.args.args if a.arg != "self"]
            for arg in args:
                if arg not in SPECS[node.name]:
                    problems.append(
                        f"{where}: {node.name}() takes {arg!r}, which the spec "
                        f"lacks ({', '.join(SPECS[node.name])})"
                    )
    prose = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.M | re.S)
    for name, args in INLINE_CALL.findall(prose):
        if name in SPECS:
            for arg in (a.strip() for a in args.split(",") if a.strip()):
                if arg not in SPECS[name]:
                    problems.append(
                        f"docs/{page}: `{name}({args})` names {arg!r}, which the "
                        f"spec lacks ({', '.join(SPECS[name])})"
                    )
    return problems


# --- the hook specs are documented ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_hook_spec_is_documented(name):
    func = getattr(hookspecs, name)
    args = list(inspect.signature(func).parameters)
    assert docstring_problems(name, args, inspect.getdoc(func) or "") == []


def test_an_undocumented_spec_is_caught():
    doc = "Do a thing.\n\nCall semantics: collecting.\n\n:param ctx: the context.\n\nRuns: now."
    assert docstring_problems("new_hook", ["ctx", "batch"], doc) == [
        "new_hook: no ':param batch:'",
        "new_hook: no ':returns:'",
    ]
    doc += "\n\n:param batch: rows.\n:param rows: gone.\n:returns: nothing."
    assert docstring_problems("new_hook", ["ctx", "batch"], doc) == [
        "new_hook: ':param rows:' documents an argument the spec lacks"
    ]


def test_every_hook_has_an_example():
    assert set(gen.EXAMPLES) == set(SPECS), "add an example to docs/_tooling/gen_reference.py"


# --- the generated pages are current ---------------------------------------------------------


@pytest.mark.parametrize("page", sorted(gen.PAGES))
def test_generated_page_is_current(page):
    expected = gen.PAGES[page]()
    actual = (DOCS / page).read_text(encoding="utf-8")
    assert actual == expected, (
        f"docs/{page} is stale: run `python docs/_tooling/gen_reference.py` and commit the result"
    )


def test_hooks_page_has_one_heading_per_hook_with_its_exact_signature():
    text = (DOCS / "hooks.md").read_text(encoding="utf-8")
    headings = {
        name: [a.strip() for a in args.split(",") if a.strip()]
        for name, args in HEADING.findall(text)
    }
    assert headings == {name: list(args) for name, args in SPECS.items()}


def test_configuration_page_lists_every_key():
    from hookline import config

    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for name, schema in config.section_schemas().items():
        assert f"`[{name}]`" in text or f"`[{name}.NAME]`" in text
        for key in schema or {}:
            assert f"| `{key}` |" in text, f"[{name}] {key}"
    for key in [*config.PIPELINE, *config.TRIGGER]:
        assert f"| `{key}` |" in text


# --- no page names an argument the spec lacks ------------------------------------------------


@pytest.mark.parametrize("page", pages())
def test_docs_name_only_real_hooks_and_arguments(page):
    assert argument_problems(page, (DOCS / page).read_text(encoding="utf-8")) == []


def test_a_wrong_argument_in_the_docs_is_caught():
    text = (
        "See `validate(ctx, dataset, modle)`.\n\n```python\nfrom hookline import hookimpl\n\n"
        "@hookimpl\ndef train(ctx, data):\n    return None\n```\n"
    )
    assert argument_problems("x.md", text) == [
        "docs/x.md:7: train() takes 'data', which the spec lacks (ctx, dataset)",
        "docs/x.md: `validate(ctx, dataset, modle)` names 'modle', which the spec lacks "
        "(ctx, dataset, model)",
    ]


# --- the examples conform, and the testing page matches the kit --------------------------


@pytest.mark.parametrize("hook", sorted(SPECS))
def test_reference_example_passes_the_conformance_kit(hook):
    module = types.ModuleType(f"example_{hook}")
    exec(compile(gen.EXAMPLES[hook], f"docs/hooks.md ({hook} example)", "exec"), module.__dict__)
    ran = check_plugin(module, name=f"example-{hook.replace('_', '-')}")
    assert any(r.startswith(f"{hook}[") for r in ran)


def test_testing_page_lists_every_rule_and_scenario():
    text = (DOCS / "testing-plugins.md").read_text(encoding="utf-8")
    for rule in RULES:
        assert f"| `{rule}` |" in text, rule
    for hook, scenarios in SCENARIOS.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{hook}` |"))
        for scenario in scenarios:
            assert f"`{scenario.name}`" in row, (hook, scenario.name)


def test_testing_page_shows_the_real_failure_message():
    text = (DOCS / "testing-plugins.md").read_text(encoding="utf-8")
    page_blocks = blocks("testing-plugins.md")
    sample = next(b for b in page_blocks if b.lang == "python" and "TsvReader" in b.code)
    shown = page_blocks[page_blocks.index(sample) + 1]
    assert shown.lang == "text"
    namespace: dict = {}
    exec(compile(sample.code, sample.where, "exec"), namespace)
    actual = str(namespace["failure"].value)
    assert " ".join(shown.code.split()) == " ".join(actual.split())
    assert text  # the page exists and was read
