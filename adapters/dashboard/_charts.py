"""Server-side SVG charts: no JavaScript, no CDN, readable without a network.

Every function returns a complete ``<svg>`` element as a string with its text escaped, ready
to be placed in a page (Jinja's ``Markup``). Points carry native ``<title>`` tooltips.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["BarRow", "Point", "bar_chart", "line_chart"]

INK = "#1f2933"
MUTED = "#7b8794"
GRID = "#e4e7eb"
LINE = "#2563eb"
BAD = "#c81e1e"
GOOD = "#0e9f6e"
REFERENCE = "#7e3af2"


@dataclass(frozen=True, slots=True)
class Point:
    """One observation on a time axis.

    :param label: the x tick (a date or a run), shown under the axis and in the tooltip.
    :param value: the measured value; ``None`` leaves a gap.
    :param flagged: drawn in red (drifted, below threshold).
    :param note: extra tooltip text.
    """

    label: str
    value: float | None
    flagged: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class BarRow:
    label: str
    value: float
    flagged: bool = False
    note: str = ""


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e5:
        return f"{value:.2e}"
    return f"{value:.3g}"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp * (1 + 1e-9):
            return step * exp
    return 10 * exp


def _axis(lo: float, hi: float) -> tuple[float, float, float]:
    """Round axis bounds and a tick step giving 3 to 6 ticks."""
    if hi - lo < 1e-12:  # a flat series: give it some room
        pad = abs(hi) * 0.05 or 1.0
        lo, hi = (lo - pad if lo < 0 or lo - pad >= 0 else 0.0), hi + pad
    step = _nice_max((hi - lo) / 4)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def line_chart(
    points: Sequence[Point],
    *,
    threshold: float | None = None,
    threshold_label: str = "threshold",
    reference: float | None = None,
    reference_label: str = "reference",
    title: str = "",
    width: int = 520,
    height: int = 210,
    higher_is_bad: bool = True,
    zero_based: bool = True,
) -> str:
    """A line over time with the threshold drawn as a dashed red line.

    :param points: observations, oldest first.
    :param threshold: the alert line; points beyond it (above when ``higher_is_bad``,
        else below) are flagged red.
    :param reference: a second dashed line, e.g. the metric measured at training time.
    :param zero_based: start the y axis at 0 (PSI); else zoom on the data (metrics).
    :returns: an ``<svg>`` element.
    """
    left, right, top, bottom = 48, 18, 26 if title else 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [p.value for p in points if p.value is not None]
    marks = [v for v in (threshold, reference) if v is not None]
    floor = [0.0] if zero_based or not (values or marks) else []
    lo, hi, tick = _axis(min([*floor, *values, *marks]), max([*values, *marks], default=1.0))
    span = (hi - lo) or 1.0

    def y(v: float) -> float:
        return top + plot_h - (v - lo) / span * plot_h

    def x(i: int) -> float:
        return left + (plot_w / 2 if len(points) == 1 else i * plot_w / (len(points) - 1))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width * 1.25:.0f}px" role="img" '
        f'aria-label="{escape(title or "chart")}" '
        f'class="chart" font-family="system-ui, sans-serif" font-size="12">'
    ]
    if title:
        out.append(f'<text x="{left}" y="15" fill="{INK}" font-weight="600">{escape(title)}</text>')
    for i in range(round(span / tick) + 1):
        v = lo + tick * i
        yy = y(v)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{GRID}"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" '
            f'fill="{MUTED}">{escape(_fmt(v))}</text>'
        )
    for value, color, label in (
        (threshold, BAD, threshold_label),
        (reference, REFERENCE, reference_label),
    ):
        if value is None:
            continue
        yy = y(value)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
            f'stroke="{color}" stroke-width="1.5" stroke-dasharray="6 4" '
            f'class="{"threshold" if color == BAD else "reference"}"/>'
        )
        # the threshold is labelled at the right end, the reference at the left: no overlap
        at = f'x="{width - right}" text-anchor="end"' if color == BAD else f'x="{left + 6}"'
        below = yy - top < 16  # no room above the line: write under it
        out.append(
            f'<text {at} y="{yy + 14 if below else yy - 4:.1f}" fill="{color}">'
            f"{escape(label)} {escape(_fmt(value))}</text>"
        )
    segment: list[str] = []
    paths: list[str] = []
    for i, p in enumerate(points):
        if p.value is None:
            if len(segment) > 1:
                paths.append(" ".join(segment))
            segment = []
            continue
        segment.append(f"{'M' if not segment else 'L'}{x(i):.1f},{y(p.value):.1f}")
    if len(segment) > 1:
        paths.append(" ".join(segment))
    for d in paths:
        out.append(f'<path d="{d}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for i, p in enumerate(points):
        if p.value is None:
            continue
        color = BAD if p.flagged else LINE
        tip = f"{p.label}: {_fmt(p.value)}" + (f" ({p.note})" if p.note else "")
        out.append(
            f'<circle cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="{4 if p.flagged else 3}"'
            f' fill="{color}" class="{"flagged" if p.flagged else "point"}">'
            f"<title>{escape(tip)}</title></circle>"
        )
    step = max(1, math.ceil(len(points) / 6))
    for i, p in enumerate(points):
        if i % step == 0 or i == len(points) - 1:
            anchor = "middle"
            if len(points) > 1 and i in (0, len(points) - 1):
                anchor = "start" if i == 0 else "end"
            out.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="{anchor}" '
                f'fill="{MUTED}">{escape(p.label[:16])}</text>'
            )
    if not points:
        out.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
            f'fill="{MUTED}">no data yet</text>'
        )
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    rows: Sequence[BarRow],
    *,
    unit: str = "",
    threshold: float | None = None,
    threshold_label: str = "threshold",
    width: int = 640,
    font: int = 12,
) -> str:
    """Horizontal bars, one per row, with an optional threshold drawn as a dashed red line.

    :returns: an ``<svg>`` element.
    """
    bar_h, gap, left, right, top = font + 8, 6, 150, 80, 8
    height = top + len(rows) * (bar_h + gap) + (18 if threshold is not None else 4)
    largest = max([r.value for r in rows] + ([threshold] if threshold else []), default=1.0)
    hi = _nice_max(largest * 1.05)
    plot_w = width - left - right
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" role="img" class="chart" '
        f'font-family="system-ui, sans-serif" '
        f'font-size="{font}">'
    ]
    for i, r in enumerate(rows):
        yy = top + i * (bar_h + gap)
        w = max(1.0, r.value / hi * plot_w) if r.value > 0 else 1.0
        color = BAD if r.flagged else LINE
        tip = f"{r.label}: {_fmt(r.value)}{unit}" + (f" ({r.note})" if r.note else "")
        out.append(
            f'<text x="{left - 8}" y="{yy + bar_h - 6}" text-anchor="end" fill="{INK}">'
            f"{escape(r.label[:24])}</text>"
        )
        out.append(
            f'<rect x="{left}" y="{yy}" width="{w:.1f}" height="{bar_h}" rx="2" '
            f'fill="{color}" class="{"flagged" if r.flagged else "bar"}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        out.append(
            f'<text x="{left + w + 6:.1f}" y="{yy + bar_h - 6}" fill="{MUTED}">'
            f"{escape(_fmt(r.value))}{escape(unit)}</text>"
        )
    if threshold is not None:
        xx = left + threshold / hi * plot_w
        out.append(
            f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top - 4}" y2="{height - 14}" '
            f'stroke="{BAD}" stroke-width="1.5" stroke-dasharray="6 4" '
            f'class="threshold"/>'
        )
        out.append(
            f'<text x="{xx:.1f}" y="{height - 3}" text-anchor="middle" fill="{BAD}">'
            f"{escape(threshold_label)} {escape(_fmt(threshold))}</text>"
        )
    out.append("</svg>")
    return "".join(out)
