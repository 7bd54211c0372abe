"""``python -m bench``: the convention adapter, and a missing or failing benchmark reported
in the results instead of stopping the run."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import __main__ as runner  # noqa: E402


def fake(monkeypatch: pytest.MonkeyPatch, name: str, **attrs: object) -> None:
    module = types.ModuleType(f"bench.{name}")
    module.__dict__.update(attrs)
    monkeypatch.setitem(sys.modules, f"bench.{name}", module)


def test_run_with_quick_flag_gets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "fake_a", run=lambda quick=False: f"### a quick={quick}\n")
    assert runner.call("fake_a", True) == "### a quick=True\n"
    assert runner.call("fake_a", False) == "### a quick=False\n"


def test_older_run_signatures_are_capped_in_quick_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    def run(repeat: int = 20, runs: int = 5000, pinned: str = "x") -> str:
        return f"{repeat} {runs} {pinned}"

    fake(monkeypatch, "fake_b", run=run)
    assert runner.call("fake_b", True) == "3 500 x"
    assert runner.call("fake_b", False) == "20 5000 x"


def test_a_main_only_module_gives_its_printed_output(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "fake_c", main=lambda argv=None: print("### c\n\n| a |"))
    assert runner.call("fake_c", False) == "### c\n\n| a |\n"


def test_missing_and_failing_benchmarks_are_reported_not_fatal(tmp_path: Path) -> None:
    missing = runner.run_one("not_a_benchmark", quick=True)
    assert missing.status == "missing" and "not in this checkout" in missing.markdown
    out = tmp_path / "results.md"
    assert runner.main(["not_a_benchmark", "--quick", "--output", str(out)]) == 0
    text = out.read_text()
    assert "## Machine" in text and "## Library versions" in text
    assert "| `bench/not_a_benchmark.py` | missing |" in text


def test_a_crashing_benchmark_is_reported_with_its_output(tmp_path: Path) -> None:
    path = runner.HERE / "_crash_for_test.py"  # private: never discovered by a real run
    assert "_crash_for_test" not in runner.discover()
    path.write_text("def run(quick=False):\n    print('working...')\n    raise SystemExit(3)\n")
    try:
        section = runner.run_one("_crash_for_test", quick=True)
    finally:
        path.unlink()
    assert section.status == "failed"
    assert "exit status 3" in section.markdown and "working..." in section.markdown
