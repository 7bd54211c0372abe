"""The ``hookline`` command line.

Core commands live in this package; adapters contribute more (``serve``, ``package``,
``ui``, ``events``) through the ``hookline.commands`` entry-point group, so the core never
imports them. Every command module exposes ``register(subparsers)``, which adds its parser
and sets ``func`` to a callable ``(args) -> int``; heavy imports happen inside ``func``.

Exit codes: 0 done (runs completed, even if a gate rejected a model), 1 a run or action
failed, 2 usage or configuration error, 75 a transient failure (try again later), 130
interrupted; errors map to codes through :func:`hookline.errors.answer`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from hookline._entrypoints import entry_points
from hookline.cli._output import print_json
from hookline.cli._parser import Parser, inherit_shared_flags, number
from hookline.errors import HooklineError, answer

__all__ = ["build_parser", "main", "number", "print_json"]

CORE_COMMANDS = (
    "hookline.cli._run",
    "hookline.cli._runs",
    "hookline.cli._models",
    "hookline.cli._plugins",
    "hookline.cli._retrain",
    "hookline.cli._new_plugin",
    "hookline.cli._config",
    "hookline.cli._completion",
    "hookline.cli._job",
)
ENTRY_POINT_GROUP = "hookline.commands"


def build_parser() -> argparse.ArgumentParser:
    from hookline import __version__

    parser = Parser(prog="hookline", description="Serverless MLOps on any cloud.")
    parser.add_argument("--version", action="version", version=f"hookline {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in CORE_COMMANDS:
        try:
            importlib.import_module(module).register(sub)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    for ep in sorted(entry_points(ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            ep.load().register(sub)
        except ImportError as exc:
            _unavailable(sub, ep.name, exc)
    inherit_shared_flags(parser)
    return parser


def _unavailable(sub: argparse._SubParsersAction, name: str, exc: ImportError) -> None:
    p = sub.add_parser(name, help=f"(unavailable: {exc})")
    p.add_argument("rest", nargs=argparse.REMAINDER)

    def func(args: argparse.Namespace) -> int:
        print(
            f"hookline {name}: unavailable: {exc}\n  hint: pip install 'hookline[all]'",
            file=sys.stderr,
        )
        return 2

    p.set_defaults(func=func)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(
        level=os.environ.get("HOOKLINE_LOG_LEVEL", level),
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except HooklineError as exc:
        verdict = answer(exc)  # its message and hint, cut at MAX_DETAIL characters
        print(f"error: {verdict.detail}", file=sys.stderr)
        return verdict.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `hookline runs | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
