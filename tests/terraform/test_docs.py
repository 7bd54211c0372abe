"""The deploy guides and module READMEs: their Terraform samples are real, their links resolve,
and the READMEs document every input and output."""

from __future__ import annotations

import re

import hcl2
import pytest

from ._hcl import (
    _OPTIONS,
    EXAMPLES,
    MODULES,
    REPO,
    load_dir,
    module_calls,
    outputs_of,
    variables_of,
)

DOCS = REPO / "docs" / "deploy"
GUIDES = {"aws": "aws", "gcp": "gcp", "azure": "azure", "hybrid": "aws"}
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)
LINK = re.compile(r"\]\(([^)#]+)(?:#[^)]*)?\)")


def _blocks(text: str, lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(text) if kind == lang]


@pytest.mark.parametrize("guide", sorted(GUIDES))
def test_guide_module_sample_matches_its_example(guide: str) -> None:
    text = (DOCS / f"{guide}.md").read_text()
    samples = _blocks(text, "hcl")
    assert samples, f"docs/deploy/{guide}.md has no Terraform sample"
    call = module_calls(hcl2.loads(samples[0], serialization_options=_OPTIONS))["hookline"]
    module = load_dir(MODULES / GUIDES[guide])
    unknown = set(call) - {"source"} - set(variables_of(module))
    assert not unknown, f"docs/deploy/{guide}.md passes unknown inputs {unknown}"
    example = module_calls(load_dir(EXAMPLES / guide))["hookline"]
    for key, value in call.items():
        assert example.get(key) == value, f"{guide}: {key} differs from terraform/examples"


@pytest.mark.parametrize("guide", sorted(GUIDES))
def test_guide_goes_from_package_to_a_served_prediction(guide: str) -> None:
    text = (DOCS / f"{guide}.md").read_text()
    shell = "\n".join(_blocks(text, "sh"))
    assert f"hookline package --cloud {GUIDES[guide]}" in shell
    assert "terraform apply" in shell
    assert "hookline runs" in text or "hookline models" in shell
    assert "predict" in shell
    assert "fail" in text.lower()
    if guide != "hybrid":
        assert "landing/train/" in shell


@pytest.mark.parametrize(
    "page",
    sorted([*DOCS.glob("*.md"), *MODULES.glob("*/README.md")]),
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_relative_links_resolve(page) -> None:
    for target in LINK.findall(page.read_text()):
        if "://" in target:
            continue
        assert (page.parent / target).resolve().exists(), f"{page.name}: broken link {target}"


@pytest.mark.parametrize("name", ["aws", "gcp", "azure", "common"])
def test_readme_documents_every_input_and_output(name: str) -> None:
    readme = (MODULES / name / "README.md").read_text()
    module = load_dir(MODULES / name)
    missing = [f"input {v}" for v in variables_of(module) if f"| `{v}` |" not in readme]
    missing += [f"output {o}" for o in outputs_of(module) if f"| `{o}` |" not in readme]
    assert not missing, f"modules/{name}/README.md lacks {missing}"
