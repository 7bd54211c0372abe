""" "Did you mean ...?": the one guesser behind every suggestion hookline makes (commands,
flags, plugin names, configuration keys, model names).

A candidate is close when it is a few typing slips away (an extra, missing or wrong
character, or two neighbours swapped: ``rnus`` -> ``runs``), or when :mod:`difflib` finds it
similar. Only called on error paths.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["close_matches"]

_LONGEST = 200
"""No guess for longer words (and no cost): nobody mistypes a paragraph."""


def _slips(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance between ``a`` and ``b``, or ``limit + 1`` once
    it is certainly larger than ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def close_matches(word: object, candidates: Iterable[str], n: int = 1) -> list[str]:
    """Up to ``n`` candidates close to ``word``, the closest first (none for a word
    shorter than three characters, where any guess would be noise)."""
    if not isinstance(word, str) or not 3 <= len(word) <= _LONGEST:
        return []
    import difflib

    pool = sorted({c for c in candidates if isinstance(c, str) and c != word})
    limit = max(1, len(word) // 3)
    scored = []
    for candidate in pool:
        slips = _slips(word.lower(), candidate.lower(), limit)
        ratio = difflib.SequenceMatcher(None, word, candidate).ratio()
        if slips <= limit or ratio >= 0.6:  # 0.6: difflib.get_close_matches' cutoff
            scored.append((min(slips, limit + 1), -ratio, candidate))
    return [c for _, _, c in sorted(scored)[:n]]
