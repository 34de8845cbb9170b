"""A small SVG chart renderer for docs/performance.md (no matplotlib, no fonts, no scripts).

Two chart kinds cover the performance page: a line chart (a measure against a numeric x,
one line per implementation, optionally log-scaled) and a grouped horizontal bar chart
(one group per case, one bar per implementation, the value printed at the bar's end).
Output is a standalone SVG document that the docs include as an image; text uses the
reader's system sans-serif font, so the site stays offline.

The layout is computed from the text it has to hold: every label, legend entry and title
is measured with [`text_width`][] (the advances of DejaVu Sans Bold, wider than the system
UI fonts a reader's browser picks), and the margins and the canvas grow to fit it, so no
text is cut at the edge of the image or drawn over another.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

__all__ = ["PALETTE", "bar_chart", "line_chart", "nice_ticks", "text_width"]

#: Series colours; backendkit is always given first, so it is always indigo (the site's colour).
PALETTE = ("#3f51b5", "#e65100", "#2e7d32", "#8e24aa", "#00838f", "#c62828", "#6d4c41")
_FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\""
_TEXT = "#222"
_GRID = "#ddd"
TITLE_SIZE, LABEL_SIZE, TICK_SIZE = 15, 12, 11
_PAD = 10  # the least gap between a text and the edge of the image

# Advance widths of printable ASCII (32-126) in thousandths of an em, from DejaVu Sans Bold:
# one of the widest sans-serif faces, so a label measured with it fits in narrower fonts too.
_ADVANCE = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365,
    696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580,
    1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850,
    733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500,
    500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687,
    716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
)  # fmt: skip


def text_width(text: str, size: float) -> float:
    """An upper estimate of the width in px of ``text`` set at ``size`` px.

    Characters outside printable ASCII count as one em, wider than any of them renders.

    Example:
        >>> round(text_width("4 processes", 12))
        80
    """
    thousandths = sum(_ADVANCE[ord(c) - 32] if 32 <= ord(c) < 127 else 1000 for c in text)
    return size * thousandths / 1000


def _fmt(value: float) -> str:
    """Compact number: 1234567 -> 1.23M, 0.00012 -> 0.00012, 12.0 -> 12."""
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.3g}k"
    if magnitude >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.3g}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [low, high] (linear scale).

    Example:
        >>> nice_ticks(0, 97)
        [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    """
    if high <= low:
        high = low + 1
    raw = (high - low) / max(count, 1)
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * step:
            step *= factor
            break
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _log_ticks(low: float, high: float) -> list[float]:
    first = math.floor(math.log10(low))
    last = math.ceil(math.log10(high))
    return [10.0**e for e in range(first, last + 1)]


class _Scale:
    def __init__(self, low: float, high: float, start: float, end: float, log: bool) -> None:
        self.log = log
        self.low, self.high = (math.log10(low), math.log10(high)) if log else (low, high)
        self.start, self.end = start, end

    def __call__(self, value: float) -> float:
        v = math.log10(value) if self.log else value
        span = (self.high - self.low) or 1.0
        return self.start + (v - self.low) / span * (self.end - self.start)


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    w, h = math.ceil(width), math.ceil(height)
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" role="img" aria-label={quoteattr(title)}>',
            f"<title>{escape(title)}</title>",
            f'<rect width="{w}" height="{h}" fill="#fff"/>',
            f'<text x="{w / 2:.0f}" y="22" text-anchor="middle" font-size="{TITLE_SIZE}" '
            f'font-weight="600" fill="{_TEXT}" {_FONT}>{escape(title)}</text>',
            *body,
            "</svg>",
            "",
        ]
    )


def _text(x: float, y: float, text: str, size: int, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{_TEXT}" {_FONT}>{escape(text)}</text>'
    )


#: A legend entry: a 12 px swatch, a 5 px gap, the name; entries are 18 px apart.
_SWATCH, _ENTRY = 17, 18


def _legend_width(names: Sequence[str]) -> float:
    return _SWATCH + max(text_width(name, LABEL_SIZE) for name in names) + _PAD


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    parts = []
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        top = y + index * _ENTRY
        parts.append(f'<rect x="{x:.1f}" y="{top:.0f}" width="12" height="12" fill="{colour}"/>')
        parts.append(_text(x + _SWATCH, top + 10, name, LABEL_SIZE))
    return parts


def line_chart(
    title: str,
    x_label: str,
    y_label: str,
    xs: Sequence[float],
    series: dict[str, Sequence[float | None]],
    *,
    log_x: bool = False,
    log_y: bool = False,
    width: int = 680,
    height: int = 380,
) -> str:
    """A line chart: one polyline with point markers per series (``None`` leaves a gap).

    ``width`` and ``height`` are the least size: the chart grows to fit its text.
    """
    values = [v for line in series.values() for v in line if v is not None]
    if not xs or not values:
        raise ValueError("a line chart needs x values and at least one point")
    if log_y:
        y_ticks = _log_ticks(max(min(values), 1e-9), max(values))
    else:
        y_ticks = nice_ticks(min(0.0, min(values)), max(values))
    x_ticks = _log_ticks(min(xs), max(xs)) if log_x else nice_ticks(min(xs), max(xs))
    if log_x:
        # No decade inside the data's span: its two ends, which sit at the plot's two ends
        # (every x between them could be a hair apart on a log axis, as 101 and 102 are).
        within = [t for t in x_ticks if min(xs) / 1.0001 <= t <= max(xs) * 1.0001]
        x_ticks = within or [min(xs), max(xs)]
    # Left of the plot: the rotated y label (a line of text centred on x=16), a gap, then
    # the tick labels, right-aligned 6 px before the axis.
    tick_width = max(text_width(_fmt(t), TICK_SIZE) for t in y_ticks)
    left = max(50.0, 16 + 0.25 * LABEL_SIZE + 8 + tick_width + 6)
    legend = 16 + _legend_width(list(series))
    # Room for the x tick labels side by side (8 px apart) and the y tick labels stacked.
    # Log-x ticks are decades within the data's span; linear ones span the whole axis.
    gap = max(text_width(_fmt(t), TICK_SIZE) for t in x_ticks) + 8
    x_room = gap * (math.log10(max(xs) / min(xs)) if log_x else len(x_ticks) - 1)
    width = max(
        width,
        left + max(360, x_room) + legend,
        text_width(title, TITLE_SIZE) + 2 * _PAD,
        left + text_width(x_label, LABEL_SIZE) + legend,
    )
    top = 40
    # The plot is at least as tall as the rotated y label and the legend.
    plot = max(
        text_width(y_label, LABEL_SIZE) + _PAD,
        4 + len(series) * _ENTRY + _PAD,
        len(y_ticks) * (TICK_SIZE + 4),
    )
    height = max(height, top + plot + 50)
    right, bottom = width - legend, height - 50
    sx = _Scale(x_ticks[0] if not log_x else min(xs), x_ticks[-1] if not log_x else max(xs),
                left, right, log_x)  # fmt: skip
    sy = _Scale(y_ticks[0], y_ticks[-1], bottom, top, log_y)
    body = []
    for tick in y_ticks:
        y = sy(tick)
        body.append(
            f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{_GRID}"/>'
        )
        body.append(_text(left - 6, y + 4, _fmt(tick), TICK_SIZE, "end"))
    for tick in x_ticks:
        x = sx(tick)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="#888"/>'
        )
        body.append(_text(x, bottom + 17, _fmt(tick), TICK_SIZE, "middle"))
    body.append(
        f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{bottom}" y2="{bottom}" stroke="#888"/>'
    )
    body.append(f'<line x1="{left:.1f}" x2="{left:.1f}" y1="{top}" y2="{bottom}" stroke="#888"/>')
    body.append(_text((left + right) / 2, height - 12, x_label, LABEL_SIZE, "middle"))
    body.append(
        f'<text transform="translate(16 {(top + bottom) / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle" font-size="{LABEL_SIZE}" fill="{_TEXT}" {_FONT}>'
        f"{escape(y_label)}</text>"
    )
    for index, line in enumerate(series.values()):
        colour = PALETTE[index % len(PALETTE)]
        points = [(sx(x), sy(v)) for x, v in zip(xs, line, strict=False) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.2"/>'
            )
        body.extend(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.2" fill="{colour}"/>' for x, y in points
        )
    body.extend(_legend(list(series), right + 16, top + 4))
    return _svg(width, height, title, body)


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    unit: str = "",
    width: int = 680,
) -> str:
    """Grouped horizontal bars: one group per category, one bar per series (``None``: absent).

    ``width`` is the least width: the chart grows to fit its labels, the values printed
    at the bars' ends and the legend.
    """
    values = [v for bars in series.values() for v in bars if v is not None]
    if not categories or not values:
        raise ValueError("a bar chart needs categories and at least one value")
    bar, gap = 14, 14
    group = bar * len(series) + gap
    left = max(100.0, _PAD + max(text_width(c, LABEL_SIZE) for c in categories) + 8)
    ticks = nice_ticks(0.0, max(values))
    # Right of the plot: the longest value printed after a bar, then the legend.
    value_room = 4 + max(text_width(_fmt(v), TICK_SIZE) for v in values) + 16
    tick_room = text_width(_fmt(ticks[-1]), TICK_SIZE) / 2
    legend = max(value_room, tick_room + _PAD) + _legend_width(list(series))
    x_room = (len(ticks) - 1) * (max(text_width(_fmt(t), TICK_SIZE) for t in ticks) + 8)
    width = max(
        width,
        left + max(300, x_room) + legend,
        text_width(title, TITLE_SIZE) + 2 * _PAD,
        left + text_width(unit, LABEL_SIZE) + legend,
    )
    right, top = width - legend, 40
    bottom = max(top + group * len(categories), top + 4 + len(series) * _ENTRY + _PAD)
    height = bottom + 45
    sx = _Scale(0.0, ticks[-1], left, right, False)
    body = []
    for tick in ticks:
        x = sx(tick)
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="{_GRID}"/>')
        body.append(_text(x, bottom + 15, _fmt(tick), TICK_SIZE, "middle"))
    if unit:
        body.append(_text((left + right) / 2, bottom + 33, unit, LABEL_SIZE, "middle"))
    for row, category in enumerate(categories):
        y0 = top + row * group + gap / 2
        body.append(_text(left - 8, y0 + bar * len(series) / 2 + 4, category, LABEL_SIZE, "end"))
        for index, bars in enumerate(series.values()):
            value = bars[row] if row < len(bars) else None
            if value is None:
                continue
            colour = PALETTE[index % len(PALETTE)]
            y = y0 + index * bar
            w = max(sx(value) - left, 1.0)
            body.append(
                f'<rect x="{left:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar - 2}" '
                f'fill="{colour}"/>'
            )
            body.append(_text(left + w + 4, y + bar - 4, _fmt(value), TICK_SIZE))
    body.append(f'<line x1="{left:.1f}" x2="{left:.1f}" y1="{top}" y2="{bottom}" stroke="#888"/>')
    body.extend(_legend(list(series), width - _legend_width(list(series)), top + 4))
    return _svg(width, height, title, body)
