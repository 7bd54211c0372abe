"""Cold import of the core: ``import hookline`` plus building the plugin manager with a
pinned plugin set, in a fresh process, against ``import pluggy`` alone and a bare
interpreter, measured in the same run.

Goal (issue: the core): within 2x of pluggy alone; under 50 ms on top of a bare interpreter.

    python -m bench.core_import [--repeat 20]
"""

from __future__ import annotations

import argparse
import os

from bench._harness import interleave, ms, table, time_process

BARE = "pass"
PLUGGY = "import pluggy"
HOOKLINE = (
    "import hookline\n"
    "from hookline._manager import make_plugin_manager\n"
    "make_plugin_manager(pinned={pinned!r})"
)


def run(repeat: int = 20, pinned: str = "registry") -> str:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    code = HOOKLINE.format(pinned=pinned)
    samples = interleave(
        {
            "bare interpreter": lambda: time_process(BARE, env=env),
            "import pluggy": lambda: time_process(PLUGGY, env=env),
            f"import hookline + plugin manager (pinned: {pinned})": lambda: time_process(
                code, env=env
            ),
        },
        repeat=repeat,
    )
    bare, pluggy, hook = (s.median for s in samples.values())
    rows = [
        (name, ms(s.median), f"{s.median / pluggy:.2f}x", ms(s.median - bare))
        for name, s in samples.items()
    ]
    out = table(rows, ["case", "median", "vs import pluggy", "on top of bare"])
    return (
        f"### Core cold import ({repeat} interleaved runs each)\n\n{out}\n\n"
        f"hookline core vs pluggy alone: **{hook / pluggy:.2f}x** (goal: within 2x); "
        f"on top of a bare interpreter: **{ms(hook - bare)}** (goal: under 50 ms).\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--pinned", default="registry")
    args = parser.parse_args()
    print(run(args.repeat, args.pinned))


if __name__ == "__main__":
    main()
