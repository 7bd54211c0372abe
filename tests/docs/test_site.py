"""The site builds with ``mkdocs build --strict`` (what ``make docs`` runs), a broken link
fails that build, and every page is in the navigation."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml

from ._markdown import DOCS, ROOT, pages

MKDOCS = [sys.executable, "-m", "mkdocs"]


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MKDOCS, "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )


def nav_files(nav: list) -> list[str]:
    found = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        found += nav_files(value) if isinstance(value, list) else [value]
    return found


def load_mkdocs_yml() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text())


@pytest.mark.slow
def test_site_builds_strict(tmp_path):
    result = build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = (tmp_path / "site" / "hooks" / "index.html").read_text()
    for hook in ("ingest", "train", "validate", "deploy", "monitor", "after_pipeline_run"):
        assert f'id="{hook}"' in hooks
    assert (tmp_path / "site" / "benchmarks" / "index.html").is_file()
    assert not (tmp_path / "site" / "_tooling").exists(), "tooling must not be published"


@pytest.mark.slow
def test_a_broken_link_fails_the_build(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(DOCS, copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    page = copy / "docs" / "concepts.md"
    page.write_text(page.read_text() + "\nSee [the missing page](no-such-page.md).\n")
    result = build(copy / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert "no-such-page.md" in result.stdout + result.stderr


def test_every_page_is_in_the_navigation():
    listed = set(nav_files(load_mkdocs_yml()["nav"]))
    missing = sorted(set(pages()) - listed)
    assert not missing, f"add these pages to nav: in mkdocs.yml: {missing}"
    assert listed <= set(pages()), f"nav names missing pages: {sorted(listed - set(pages()))}"


def _hooks_module() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(
        "mkdocs_hooks", DOCS / "_tooling" / "mkdocs_hooks.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_build(root: Path, repo_url: str | None = None) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        config_file_path=str(root / "mkdocs.yml"), docs_dir=str(root / "docs"), repo_url=repo_url
    )


def page_at(src_path: str) -> types.SimpleNamespace:
    return types.SimpleNamespace(file=types.SimpleNamespace(src_path=src_path))


def test_benchmark_results_are_included_when_present(tmp_path):
    hooks = _hooks_module()
    config = fake_build(tmp_path)
    page = page_at("benchmarks.md")
    text = "# Benchmarks\n\n<!-- include: bench/results.md -->\n"
    absent = hooks.on_page_markdown(text, page, config, None)
    assert "has not been produced on this machine yet: run `make bench`" in absent
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "results.md").write_text("# Results\n\n| a | b |\n|---|---|\n")
    present = hooks.on_page_markdown(text, page, config, None)
    assert "## Results\n\n| a | b |" in present and "include:" not in present
    with pytest.raises(ValueError, match="outside the repository"):
        hooks.on_page_markdown("<!-- include: ../etc/passwd -->", page, config, None)


def test_links_into_the_repository_are_rewritten_and_checked(tmp_path):
    hooks = _hooks_module()
    (tmp_path / "docs" / "deploy").mkdir(parents=True)
    (tmp_path / "terraform" / "modules" / "aws").mkdir(parents=True)
    (tmp_path / "terraform" / "modules" / "aws" / "README.md").write_text("# module")
    page = page_at("deploy/aws.md")
    text = (
        "Module: [terraform/modules/aws](../../terraform/modules/aws/README.md); "
        "[hooks](../hooks.md#ingest).\n\n```text\n[kept](../../nowhere.md)\n```\n"
    )
    plain = hooks.on_page_markdown(text, page, fake_build(tmp_path), None)
    assert plain.startswith(
        "Module: `terraform/modules/aws/README.md`; [hooks](../hooks.md#ingest)"
    )
    assert "[kept](../../nowhere.md)" in plain  # code blocks are left alone
    linked = hooks.on_page_markdown(text, page, fake_build(tmp_path, "https://git.example/h"), None)
    assert (
        "[terraform/modules/aws](https://git.example/h/blob/main/terraform/modules/aws/README.md)"
    ) in linked
    with pytest.raises(ValueError, match="the repository has no terraform/modules/gcp"):
        hooks.on_page_markdown(
            "[gcp](../../terraform/modules/gcp/README.md)", page, fake_build(tmp_path), None
        )
