"""The bundle fixtures of the modules' terraform tests are what bundle_fixtures.py writes."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

from . import bundle_fixtures


def test_committed_fixtures_are_generated(tmp_path: Path) -> None:
    bundle_fixtures.write(tmp_path)
    for cloud in bundle_fixtures.CASES:
        committed = bundle_fixtures.MODULES / cloud / "tests" / "fixtures"
        generated = tmp_path / cloud / "tests" / "fixtures"
        compare = filecmp.dircmp(committed, generated)
        assert sorted(compare.left_list) == sorted(compare.right_list), cloud
        for case in compare.common_dirs:
            sub = filecmp.dircmp(committed / case, generated / case)
            assert not sub.diff_files and not sub.left_only and not sub.right_only, (
                cloud,
                case,
                sub.diff_files,
            )
            _, mismatch, errors = filecmp.cmpfiles(
                committed / case, generated / case, sub.common_files, shallow=False
            )
            assert not mismatch and not errors, (cloud, case, mismatch)


def test_deployable_fixtures_follow_the_contract() -> None:
    """docs/packaging.md, "The bundle manifest": every key, and the hash of the artifact beside the manifest."""
    import hashlib

    keys = {
        "schema",
        "cloud",
        "role",
        "format",
        "artifact",
        "python",
        "runtime",
        "architecture",
        "handler",
        "sha256",
        "sha256_base64",
        "size_bytes",
        "unzipped_bytes",
        "libraries",
        "project",
    }
    for cloud in bundle_fixtures.CASES:
        folder = bundle_fixtures.MODULES / cloud / "tests" / "fixtures" / "ok"
        for path in folder.glob("*.manifest.json"):
            m = json.loads(path.read_text())
            assert keys <= set(m), (path, keys - set(m))
            assert m["schema"] == "hookline.bundle/1" and m["cloud"] == cloud
            data = (folder / m["artifact"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == m["sha256"] and len(data) == m["size_bytes"]
