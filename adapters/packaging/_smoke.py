"""The import smoke test: a fresh interpreter that sees only the bundle.

Run where the build machine can execute the bundle (same CPU, same Python version, Linux).
The interpreter is started with ``-I -S -B``: no environment variables, no user or system
site-packages, no current directory, no byte code written -- ``sys.path`` is the standard
library plus the bundle's own folders, as on the platform. It imports the heavy modules
the role needs (proving the stripped extension modules still load), then the handler module.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from hookline.errors import HooklineError

__all__ = ["SmokeFailed", "can_run", "smoke_test"]

_SCRIPT = """
import importlib, json, sys, time
paths, modules, handler, attr = json.loads(sys.argv[1])
sys.path[:0] = paths
t0 = time.perf_counter()
for name in modules:
    importlib.import_module(name)
module = importlib.import_module(handler)
if not callable(getattr(module, attr, None)) and getattr(module, attr, None) is None:
    raise SystemExit(f"{handler}.py has no {attr!r}")
elapsed = time.perf_counter() - t0
outside = sorted({m.__file__.split("/site-packages/")[0] for m in list(sys.modules.values())
                  if getattr(m, "__file__", None) and "site-packages" in m.__file__
                  and not any(m.__file__.startswith(p) for p in paths)})
print(json.dumps({"seconds": elapsed, "outside": outside}))
"""


class SmokeFailed(HooklineError):
    """The bundle did not import in a clean interpreter."""


def can_run(machine: str, python: str) -> str:
    """``""`` when this machine can run a bundle for ``machine``/``python``, else why not."""
    host = {"amd64": "x86_64", "arm64": "aarch64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if not sys.platform.startswith("linux"):
        return f"the build machine runs {sys.platform}, the bundle Linux"
    if host != machine:
        return f"the build machine is {host}, the bundle {machine}"
    if here != python:
        return f"the build interpreter is Python {here}, the bundle's {python}"
    return ""


def smoke_test(
    paths: Sequence[Path],
    modules: Sequence[str],
    handler: tuple[str, str],
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> float:
    """Import ``modules`` then ``handler[0]`` (which must have ``handler[1]``) with only
    ``paths`` on ``sys.path``.

    :returns: seconds the imports took.
    :raises SmokeFailed: an import failed, with the interpreter's last lines.
    """
    run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **(env or {})}
    arg = json.dumps([[str(p) for p in paths], list(modules), handler[0], handler[1]])
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", _SCRIPT, arg],
        env=run_env,
        cwd=str(paths[0]),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-12:])
        raise SmokeFailed(
            f"import smoke test of {paths[0]} failed:\n{tail}",
            hint="ModuleNotFoundError: a package the bundle needs is missing (add it with "
            "--with) or was slimmed away; any other error comes from the entry file or the code "
            "it imports. --no-smoke builds the bundle anyway, to inspect it",
        )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["outside"]:
        raise SmokeFailed(
            f"smoke test imported modules from outside the bundle: {result['outside']}"
        )
    return float(result["seconds"])
