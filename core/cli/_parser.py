"""The argument parser's conventions: "did you mean" for commands and flags, usage errors
that exit 2 naming the command they belong to, and flags shared by a command and its
subcommands (``runs --json show ID`` means what ``runs show ID --json`` does).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

__all__ = ["Parser", "inherit_shared_flags", "number", "subcommands"]

_ACTIVE: list[Parser] = []
"""The parsers of the command being parsed, outermost first (reset by :meth:`Parser.parse_args`
on the root): the innermost names the flags an unknown one is compared with."""


def _guess(word: str, candidates: Iterable[str]) -> str | None:
    from hookline._suggest import close_matches  # only on the error path

    found = close_matches(word, candidates)
    return found[0] if found else None


def number(
    kind: type[int] | type[float] = int,
    *,
    low: float = 0,
    high: float | None = None,
    what: str = "a number",
) -> Any:
    """An argparse ``type`` for a whole or decimal number in ``[low, high]``: anything else
    (text, a negative count, ``nan``, ``inf``, 30 digits) is a usage error naming the range,
    exit code 2, before the command runs."""
    import math

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except (TypeError, ValueError):
            value = None
        if (
            value is None
            or len(text.strip()) > 30
            or not math.isfinite(value)
            or value < low
            or (high is not None and value > high)
        ):
            shown = text if len(text) <= 30 else text[:27] + "..."
            span = f"from {_shown(low)}" + (f" to {_shown(high)}" if high is not None else "")
            raise argparse.ArgumentTypeError(f"{shown!r}: expected {what} {span}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _shown(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors suggest the command or flag that was meant."""

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> argparse.Namespace:
        _ACTIVE.clear()
        return super().parse_args(args, namespace)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        _ACTIVE.append(self)
        self._seen = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def _option_strings(self) -> list[str]:
        return [o for o in self._option_string_actions if o.startswith("--")]

    def _unknown_flag(self) -> str | None:
        """The first ``--flag`` this parser saw that none of its options matches."""
        for token in getattr(self, "_seen", ()):
            if token == "--":
                return None
            if not token.startswith("--"):
                continue
            flag = token.split("=", 1)[0]
            if not any(o.startswith(flag) for o in self._option_string_actions):
                return flag
        return None

    def _flag_error(self, flag: str) -> NoReturn:
        guess = _guess(flag, self._option_strings())
        self.error(
            f"unknown option {flag!r}"
            + (f" (did you mean {guess!r}?)" if guess else "")
            + f"; see `{self.prog} --help`"
        )

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is None or value in action.choices:
            return
        if isinstance(action, argparse._SubParsersAction):
            # `runs --limt 5`: the unknown flag let its value fall into the command slot
            flag = self._unknown_flag()
            if flag is not None:
                self._flag_error(flag)
            what = "command"
        else:
            what = "choice"
        choices = [str(c) for c in action.choices]
        guess = _guess(str(value), choices)
        raise argparse.ArgumentError(
            action,
            f"unknown {what} {value!r}"
            + (f" (did you mean {guess!r}?)" if guess else "")
            + f"; choose from {', '.join(choices)}",
        )

    def error(self, message: str) -> NoReturn:
        # Unknown arguments surface at the root; the innermost parser knows the flags.
        inner = _ACTIVE[-1] if _ACTIVE else self
        if message.startswith("unrecognized arguments:"):
            flag = next(
                (t.split("=", 1)[0] for t in message.split(":", 1)[1].split() if t[:2] == "--"),
                None,
            )
            if flag is not None and inner is not self:
                inner._flag_error(flag)
            if flag is not None:
                guess = _guess(flag, self._option_strings())
                if guess:
                    message += f" (did you mean {guess!r}?)"
        inner.print_usage(sys.stderr)
        inner.exit(2, f"{inner.prog}: error: {message}\n")


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser's subcommands by name (aliases left out), in the order they were added."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for name, child in action.choices.items():
                if id(child) not in seen:
                    seen.add(id(child))
                    found[name] = child
    return found


def inherit_shared_flags(parser: argparse.ArgumentParser) -> None:
    """A subcommand's flag that its parent also has no longer overwrites the parent's
    value with its own default: ``runs --json show ID`` prints JSON.

    argparse parses the subcommand into a fresh namespace and copies every value back,
    defaults included; a default of ``SUPPRESS`` is not copied.
    """
    parent_dests = {a.dest for a in parser._actions if a.option_strings}
    for child in subcommands(parser).values():
        for action in child._actions:
            if action.option_strings and action.dest in parent_dests and action.dest != "help":
                action.default = argparse.SUPPRESS
        inherit_shared_flags(child)
