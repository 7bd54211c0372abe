"""Run one page's code samples, in order, in the current directory (a fresh temporary one).

Usage: ``python _run_samples.py BLOCKS.json``, where the file holds a list of
``{"where", "lang", "code"}``. Python blocks share one namespace; console blocks run their
``$ hookline ...`` lines (pipes between hookline commands allowed) with this interpreter's
``hookline`` first on ``PATH`` (``$ cd DIR`` moves). Exits 1
at the first failure, naming the page and line.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import traceback
from pathlib import Path

BIN = str(Path(sys.executable).parent)


_SEPARATORS = {"|", "&&", "||", ";"}
_REDIRECTS = {">", ">>", "<", "2>", "2>>", "&>"}


def pipeline(words: list[str]) -> list[list[str]]:
    """``a b | c d`` -> ``[["a", "b"], ["c", "d"]]`` (``&&``, ``||`` and ``;`` separate
    commands too); leading ``VAR=value`` words and redirections (``> FILE``) dropped."""
    segments: list[list[str]] = [[]]
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _SEPARATORS:
            segments.append([])
        elif word in _REDIRECTS:
            skip = True  # the file name that follows
        elif word.startswith((">", "2>", "<")):
            continue
        elif segments[-1] or "=" not in word or word.startswith("-"):
            segments[-1].append(word)
    return segments


def run_python(code: str, where: str, namespace: dict) -> None:
    page, line = where.rsplit(":", 1)
    source = "\n" * (int(line) - 1) + code  # tracebacks point at the page's own lines
    exec(compile(source, page, "exec"), namespace)


def run_console(code: str, where: str) -> None:
    page, first = where.rsplit(":", 1)
    for offset, raw in enumerate(code.splitlines()):
        if not raw.startswith("$ "):
            continue
        line = f"{page}:{int(first) + offset}"
        command, _, comment = raw[2:].partition(" #")
        expected = re.search(r"\bexits? (\d+)", comment)
        words = shlex.split(command)
        if words[0] == "cd":
            os.chdir(words[1])
            continue
        if any(segment[:1] != ["hookline"] for segment in pipeline(words)):
            raise SystemExit(
                f"{line}: only `$ hookline ...` (piped into hookline) and `$ cd` "
                "lines can run in a tested console block; mark the block "
                "<!-- skip-test -->"
            )
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        result = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
        want = int(expected.group(1)) if expected else 0
        print(f"$ {command.strip()}  -> exit {result.returncode}\n{result.stdout}{result.stderr}")
        if result.returncode != want:
            raise SystemExit(
                f"{line}: `{command.strip()}` exited {result.returncode}, expected {want}"
            )


def main() -> int:
    samples = json.loads(Path(sys.argv[1]).read_text())
    namespace: dict = {"__name__": "__main__"}
    for sample in samples:
        try:
            if sample["lang"] == "python":
                run_python(sample["code"], sample["where"], namespace)
            else:
                run_console(sample["code"], sample["where"])
        except SystemExit as exc:
            if exc.code in (0, None):
                continue
            print(f"FAILED {sample['where']}: {exc.code}", file=sys.stderr)
            return 1
        except BaseException:
            traceback.print_exc()
            print(f"FAILED {sample['where']} ({sample['lang']} block)", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
