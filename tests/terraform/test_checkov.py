"""checkov over terraform/: no failed check; every skip is inline and carries a reason."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from ._hcl import REPO, TERRAFORM

SETUP = REPO / "tests" / "terraform" / "setup_checkov.sh"
CHECKOV = REPO / ".cache" / "checkov-venv" / "bin" / "checkov"
SKIP = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")


def _checkov() -> Path:
    """The checkov of its own virtualenv (`make test-deps` creates it; so does this call)."""
    if not CHECKOV.exists():
        result = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{SETUP} failed:\n{result.stdout}{result.stderr}"
    return CHECKOV


def test_every_inline_skip_has_a_reason() -> None:
    skips = []
    for tf in sorted(TERRAFORM.rglob("*.tf")):
        for lineno, line in enumerate(tf.read_text().splitlines(), 1):
            if m := SKIP.search(line):
                skips.append((tf.relative_to(REPO), lineno, m.group(1), (m.group(2) or "").strip()))
    assert skips, "expected inline skips to be found (did the comment syntax change?)"
    bare = [f"{p}:{n} {check}" for p, n, check, reason in skips if len(reason) < 20]
    assert not bare, f"checkov skips without a reason: {bare}"


def test_checkov_has_no_failed_check(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = subprocess.run(
        [
            str(_checkov()),
            "-d",
            str(TERRAFORM),
            "--framework",
            "terraform",
            "--compact",
            "--skip-download",
            "-o",
            "json",
            "--output-file-path",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report_file = out / "results_json.json"
    assert report_file.exists(), f"checkov produced no report:\n{result.stdout}{result.stderr}"
    report = json.loads(report_file.read_text())
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range'][0]})"
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    assert not failed, "checkov failed checks:\n" + "\n".join(failed)
    assert passed > 100, f"checkov passed only {passed} checks: did it scan the modules?"
    skipped = [c for r in reports for c in r.get("results", {}).get("skipped_checks", [])]
    assert all(c.get("check_result", {}).get("suppress_comment") for c in skipped), (
        "every skipped check must come from an inline skip with a reason"
    )
