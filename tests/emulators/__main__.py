"""``python -m tests.emulators up|down|status [NAME ...] [--state FILE]``.

``up`` starts the emulators detached, records them in the state file and prints the
``export`` lines that point the SDKs (and the pytest fixtures) at them::

    eval "$(python -m tests.emulators up)"
    pytest tests -m emulator
    python -m tests.emulators down
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from ._process import EmulatorError, http_answers, pid_alive, stop_pid
from ._servers import LOG_DIR, NAMES, client_env, emulator

DEFAULT_STATE = LOG_DIR / "state.json"


def _load(state: Path) -> dict[str, dict[str, object]]:
    try:
        return dict(json.loads(state.read_text()))
    except (OSError, ValueError):
        return {}


def _exports(name: str, url: str) -> list[str]:
    env = {f"HOOKLINE_EMULATOR_{name.upper()}": url, **client_env(name, url)}
    return [f"export {k}={shlex.quote(v)}" for k, v in env.items()]


def up(names: list[str], state: Path) -> int:
    running = _load(state)
    started: list[str] = []
    try:
        for name in names:
            entry = running.get(name)
            if entry and pid_alive(int(str(entry["pid"]))):
                continue
            server = emulator(name, log=LOG_DIR / f"{name}.log")
            server.start(detach=True)
            running[name] = {"pid": server.pid, "url": server.url, "log": str(server.log)}
            started.append(name)
            state.parent.mkdir(parents=True, exist_ok=True)
            state.write_text(json.dumps(running, indent=2))
    except EmulatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name in names:
        print("\n".join(_exports(name, str(running[name]["url"]))))
    print(
        f"# started: {', '.join(started) or 'none (already running)'}; state: {state}",
        file=sys.stderr,
    )
    return 0


def down(names: list[str], state: Path) -> int:
    running = _load(state)
    for name in names:
        entry = running.pop(name, None)
        if entry:
            stop_pid(int(str(entry["pid"])))
            print(f"{name}: stopped (pid {entry['pid']})", file=sys.stderr)
    if running:
        state.write_text(json.dumps(running, indent=2))
    else:
        state.unlink(missing_ok=True)
    return 0


def status(names: list[str], state: Path) -> int:
    running = _load(state)
    code = 0
    for name in names:
        entry = running.get(name)
        if not entry:
            print(f"{name}: not started")
            continue
        alive = pid_alive(int(str(entry["pid"])))
        answers = alive and http_answers(str(entry["url"]))
        print(
            f"{name}: pid {entry['pid']} {'running' if alive else 'dead'}, "
            f"{entry['url']} {'answers' if answers else 'does not answer'}"
        )
        code = code or (0 if answers else 1)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulators",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"which emulators (default: all of {', '.join(NAMES)})",
    )
    parser.add_argument(
        "--state", type=Path, default=DEFAULT_STATE, help=f"state file (default: {DEFAULT_STATE})"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(NAMES))
    if unknown:
        parser.error(f"unknown emulator(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    names = list(dict.fromkeys(args.names)) or list(NAMES)
    return {"up": up, "down": down, "status": status}[args.action](names, args.state)


if __name__ == "__main__":
    sys.exit(main())
