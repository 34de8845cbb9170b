"""A small SVG chart renderer for docs/performance.md (no matplotlib, no fonts, no scripts).

Two chart kinds cover the performance page: a line chart (a measure against a numeric x,
one line per implementation, optionally log-scaled) and a grouped horizontal bar chart
(one group per case, one bar per implementation, the value printed at the bar's end).
Output is a standalone SVG document that the docs include as an image; text uses the
reader's system sans-serif font, so the site stays offline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

__all__ = ["PALETTE", "bar_chart", "line_chart", "nice_ticks"]

#: Series colours; backendkit is always given first, so it is always indigo (the site's colour).
PALETTE = ("#3f51b5", "#e65100", "#2e7d32", "#8e24aa", "#00838f", "#c62828", "#6d4c41")
_FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\""
_TEXT = "#222"
_GRID = "#ddd"


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


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
            f"<title>{escape(title)}</title>",
            f'<rect width="{width}" height="{height}" fill="#fff"/>',
            f'<text x="{width / 2:.0f}" y="22" text-anchor="middle" font-size="15" '
            f'font-weight="600" fill="{_TEXT}" {_FONT}>{escape(title)}</text>',
            *body,
            "</svg>",
            "",
        ]
    )


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    parts = []
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        top = y + index * 18
        parts.append(f'<rect x="{x:.0f}" y="{top:.0f}" width="12" height="12" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 17:.0f}" y="{top + 10:.0f}" font-size="12" fill="{_TEXT}" '
            f"{_FONT}>{escape(name)}</text>"
        )
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
    """A line chart: one polyline with point markers per series (``None`` leaves a gap)."""
    values = [v for line in series.values() for v in line if v is not None]
    if not xs or not values:
        raise ValueError("a line chart needs x values and at least one point")
    legend = 40 + int(6.6 * max(len(name) for name in series))
    width = max(width, 70 + 360 + legend)
    left, right, top, bottom = 70, width - legend, 40, height - 50
    if log_y:
        y_ticks = _log_ticks(max(min(values), 1e-9), max(values))
    else:
        y_ticks = nice_ticks(min(0.0, min(values)), max(values))
    x_ticks = _log_ticks(min(xs), max(xs)) if log_x else nice_ticks(min(xs), max(xs))
    if log_x:
        x_ticks = [t for t in x_ticks if min(xs) / 1.0001 <= t <= max(xs) * 1.0001] or list(xs)
    sx = _Scale(x_ticks[0] if not log_x else min(xs), x_ticks[-1] if not log_x else max(xs),
                left, right, log_x)  # fmt: skip
    sy = _Scale(y_ticks[0], y_ticks[-1], bottom, top, log_y)
    body = []
    for tick in y_ticks:
        y = sy(tick)
        body.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{_GRID}"/>')
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{_TEXT}" {_FONT}>{_fmt(tick)}</text>'
        )
    for tick in x_ticks:
        x = sx(tick)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="#888"/>'
        )
        body.append(
            f'<text x="{x:.1f}" y="{bottom + 17}" text-anchor="middle" font-size="11" '
            f'fill="{_TEXT}" {_FONT}>{_fmt(tick)}</text>'
        )
    body.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#888"/>')
    body.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" stroke="#888"/>')
    body.append(
        f'<text x="{(left + right) / 2:.0f}" y="{height - 12}" text-anchor="middle" '
        f'font-size="12" fill="{_TEXT}" {_FONT}>{escape(x_label)}</text>'
    )
    body.append(
        f'<text transform="translate(16 {(top + bottom) / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle" font-size="12" fill="{_TEXT}" {_FONT}>{escape(y_label)}</text>'
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
    """Grouped horizontal bars: one group per category, one bar per series (``None``: absent)."""
    values = [v for bars in series.values() for v in bars if v is not None]
    if not categories or not values:
        raise ValueError("a bar chart needs categories and at least one value")
    bar, gap = 14, 14
    group = bar * len(series) + gap
    # Room for the longest category label (about 7 px per character at 12 px), and at least
    # 300 px of plot between it and the legend.
    left = min(max(100, int(7 * max(len(c) for c in categories)) + 20), 380)
    legend = 40 + int(6.6 * max(len(name) for name in series))
    width = max(width, left + 300 + legend)
    right, top = width - legend, 40
    bottom = top + group * len(categories)
    height = bottom + 45
    ticks = nice_ticks(0.0, max(values))
    sx = _Scale(0.0, ticks[-1], left, right, False)
    body = []
    for tick in ticks:
        x = sx(tick)
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="{_GRID}"/>')
        body.append(
            f'<text x="{x:.1f}" y="{bottom + 15}" text-anchor="middle" font-size="11" '
            f'fill="{_TEXT}" {_FONT}>{_fmt(tick)}</text>'
        )
    if unit:
        body.append(
            f'<text x="{(left + right) / 2:.0f}" y="{bottom + 33}" text-anchor="middle" '
            f'font-size="12" fill="{_TEXT}" {_FONT}>{escape(unit)}</text>'
        )
    for row, category in enumerate(categories):
        y0 = top + row * group + gap / 2
        body.append(
            f'<text x="{left - 8}" y="{y0 + bar * len(series) / 2 + 4:.1f}" text-anchor="end" '
            f'font-size="12" fill="{_TEXT}" {_FONT}>{escape(category)}</text>'
        )
        for index, bars in enumerate(series.values()):
            value = bars[row] if row < len(bars) else None
            if value is None:
                continue
            colour = PALETTE[index % len(PALETTE)]
            y = y0 + index * bar
            w = max(sx(value) - left, 1.0)
            body.append(
                f'<rect x="{left}" y="{y:.1f}" width="{w:.1f}" height="{bar - 2}" fill="{colour}"/>'
            )
            body.append(
                f'<text x="{left + w + 4:.1f}" y="{y + bar - 4:.1f}" font-size="11" '
                f'fill="{_TEXT}" {_FONT}>{_fmt(value)}</text>'
            )
    body.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" stroke="#888"/>')
    body.extend(_legend(list(series), right + 30, top + 4))
    return _svg(width, height, title, body)
