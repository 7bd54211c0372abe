"""MkDocs hooks (``hooks:`` in mkdocs.yml).

* ``<!-- include: PATH -->`` on a line of its own is replaced by the file at PATH, relative to
  the repository root, when it exists; otherwise by a note saying how to produce it. The
  benchmarks page includes ``bench/results.md`` this way, so the site shows the latest
  measured figures without a copy that could go stale.
* A link from a page to a file of the repository outside ``docs/`` (a Terraform module's
  README, an example) works when the Markdown is read on a code host, but there is no such
  page on the site. It becomes a link to the file on ``repo_url`` when mkdocs.yml sets one,
  else the file's repository path in code. A link to a repository file that does not exist
  fails the build, like any broken link.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_INCLUDE = re.compile(r"^<!-- include: (?P<path>[\w./-]+) -->$", re.M)
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<target>[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _root(config: Any) -> Path:
    return Path(config.config_file_path).resolve().parent


def _include(markdown: str, page: Any, root: Path) -> str:
    def include(match: re.Match[str]) -> str:
        rel = match.group("path")
        path = (root / rel).resolve()
        if root not in path.parents:
            raise ValueError(f"{page.file.src_path}: include {rel!r} is outside the repository")
        if not path.is_file():
            return (
                f"*`{rel}` has not been produced on this machine yet: run `make bench`, "
                "then rebuild the site.*"
            )
        text = path.read_text(encoding="utf-8")
        return re.sub(r"^# ", "## ", text, flags=re.M)  # one page title is enough

    return _INCLUDE.sub(include, markdown)


def _repository_links(
    markdown: str, page: Any, root: Path, docs: Path, repo_url: str | None
) -> str:
    page_dir = (docs / page.file.src_path).parent

    def rewrite(match: re.Match[str]) -> str:
        target = match.group("target")
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            return match.group(0)
        path = (page_dir / target).resolve()
        if path == docs or docs in path.parents or root not in path.parents:
            return match.group(0)
        rel = path.relative_to(root).as_posix()
        if not path.exists():
            raise ValueError(
                f"{page.file.src_path}: link to {target!r}, but the repository has no {rel}"
            )
        if repo_url:
            kind = "tree" if path.is_dir() else "blob"
            return f"[{match.group('text')}]({repo_url.rstrip('/')}/{kind}/main/{rel})"
        text = match.group("text").strip("`")
        return f"`{rel}`" if text.rstrip("/") in rel else f"{match.group('text')} (`{rel}`)"

    out, fence = [], None
    for line in markdown.split("\n"):
        m = _FENCE.match(line)
        if m and (fence is None or (m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence))):
            fence = m.group(1) if fence is None else None
            out.append(line)
        elif fence is None:
            out.append(_LINK.sub(rewrite, line))
        else:
            out.append(line)
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    root = _root(config)
    docs = Path(getattr(config, "docs_dir", None) or root / "docs").resolve()
    markdown = _include(markdown, page, root)
    return _repository_links(markdown, page, root, docs, getattr(config, "repo_url", None))
