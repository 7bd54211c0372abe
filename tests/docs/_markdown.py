"""Reading the docs: pages, their fenced code blocks, and the conventions of
docs/writing-docs.md (``<!-- skip-test -->``, ``# deliberately wrong``, dedicated tests)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SKIP = "<!-- skip-test -->"
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<ticks>`{3,}|~{3,})(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    """One fenced code block.

    :param page: path relative to docs/, e.g. ``deploy/aws.md``.
    :param line: 1-based line number of the first line of code.
    :param lang: the first word of the info string (``python``, ``console``...).
    :param code: the block's text.
    :param skip: marked ``<!-- skip-test -->`` on the line right before the fence.
    """

    page: str
    line: int
    lang: str
    code: str
    skip: bool

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"

    @property
    def commands(self) -> list[str]:
        """The ``$ `` lines of a console block, without the prompt."""
        return [ln[2:].strip() for ln in self.code.splitlines() if ln.startswith("$ ")]

    @property
    def runs_hookline(self) -> bool:
        """A console block whose first command is ``hookline ...``."""
        cmds = self.commands
        return self.lang == "console" and bool(cmds) and cmds[0].split()[0] == "hookline"


def pages() -> list[str]:
    """Every page under docs/ (relative paths), the tooling folder excluded."""
    return sorted(
        str(p.relative_to(DOCS))
        for p in DOCS.rglob("*.md")
        if "_tooling" not in p.relative_to(DOCS).parts
    )


def blocks(page: str, text: str | None = None) -> list[Block]:
    """The fenced blocks of ``page`` (or of ``text``), outermost fences only."""
    lines = (text if text is not None else (DOCS / page).read_text(encoding="utf-8")).split("\n")
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        ticks, info = m.group("ticks"), m.group("info").strip()
        prev = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        end = i + 1
        while end < len(lines):
            close = _FENCE.match(lines[end])
            if (
                close
                and close.group("ticks")[0] == ticks[0]
                and len(close.group("ticks")) >= len(ticks)
                and not close.group("info").strip()
            ):
                break
            end += 1
        code = "\n".join(lines[i + 1 : end])
        found.append(Block(page, i + 2, info.split()[0] if info else "", code + "\n", prev == SKIP))
        i = end + 1
    return found


@cache
def _test_sources() -> dict[str, str]:
    return {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8", errors="replace")
        for p in (ROOT / "tests").rglob("*.py")
        if "docs" not in p.relative_to(ROOT).parts[1:2]
    }


def dedicated_test(page: str) -> str | None:
    """The test file (outside tests/docs/) that exercises ``page`` itself, if one names it."""
    patterns = [re.compile(rf"[\"'/]{re.escape(page)}[\"']")]
    if "/" not in page:
        patterns.append(re.compile(rf"\"docs\"\s*/\s*\"{re.escape(page)}\""))
    for path, text in sorted(_test_sources().items()):
        if any(p.search(text) for p in patterns):
            return path
    return None
