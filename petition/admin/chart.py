"""A line chart of a running total, drawn on the server as SVG: no script, no library.

Pure: data and words in, markup out. Every text is escaped; only presentation attributes
are used (the Content-Security-Policy forbids inline style).
"""
from __future__ import annotations

import datetime as dt
import math

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 40, 12, 28  # room for the axis labels (a date is ~66 px wide)
LINE, AREA, AXIS, GRID, INK = "#1f4e79", "#dbe5f1", "#666666", "#e3e3e3", "#333333"


def nice_step(maximum: int, ticks: int = 4) -> int:
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` ticks up to `maximum`."""
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(1, int(factor * power))
    return int(10 * power)  # unreachable: factor 10 always suffices


def date_ticks(first: dt.date, last: dt.date, most: int = 5) -> list[dt.date]:
    """Up to `most` evenly spaced days from `first` to `last`, both included."""
    span = (last - first).days
    if span <= 0:
        return [first]
    count = min(most, span + 1)
    days = sorted({round(span * i / (count - 1)) for i in range(count)})
    return [first + dt.timedelta(days=day) for day in days]


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def cumulative_chart(points: list[tuple[dt.date, int]], *, title: str, desc: str,
                     id_prefix: str = "chart", width: int = WIDTH, height: int = HEIGHT) -> Markup:
    """An SVG of the running totals `points` ([(day, total so far)], days ascending).

    The total holds from one day to the next, so the line climbs in steps. `title` and
    `desc` name the chart for screen readers; the page should still give the figures as text.
    """
    points = sorted(points)
    first = points[0][0] if points else dt.date.today()
    last = points[-1][0] if points else first
    if first == last:  # one day: centre it
        first, last = first - dt.timedelta(days=1), last + dt.timedelta(days=1)
    top_value = max((total for _day, total in points), default=0)
    step = nice_step(top_value)
    y_max = max(step, math.ceil(top_value / step) * step)
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    span = (last - first).days

    def x(day: dt.date) -> str:
        return _number(LEFT + plot_w * (day - first).days / span)

    def y(value: int) -> str:
        return _number(TOP + plot_h * (1 - value / y_max))

    ident = escape(id_prefix)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" class="chart">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
    ]
    # Horizontal grid and the value axis.
    for value in range(0, y_max + 1, step):
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y(value)}" y2="{y(value)}" '
                     f'stroke="{GRID if value else AXIS}" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(value)}" dy="0.35em" text-anchor="end" '
                     f'font-size="11" font-family="sans-serif" fill="{INK}">{value}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" '
                 f'stroke="{AXIS}" stroke-width="1"/>')
    # The time axis: a few labelled days.
    for day in date_ticks(first, last):
        parts.append(f'<line x1="{x(day)}" x2="{x(day)}" y1="{TOP + plot_h}" '
                     f'y2="{TOP + plot_h + 4}" stroke="{AXIS}" stroke-width="1"/>')
        parts.append(f'<text x="{x(day)}" y="{height - 8}" text-anchor="middle" font-size="11" '
                     f'font-family="sans-serif" fill="{INK}">{escape(day.isoformat())}</text>')
    if points:
        line = [f"M{x(points[0][0])} {y(0)}", f"V{y(points[0][1])}"]
        for day, total in points[1:]:
            line += [f"H{x(day)}", f"V{y(total)}"]
        path = " ".join(line)
        end = x(points[-1][0])
        parts.append(f'<path d="{path} V{y(0)} H{x(points[0][0])} Z" fill="{AREA}" stroke="none"/>')
        parts.append(f'<path d="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
        parts.append(f'<circle cx="{end}" cy="{y(points[-1][1])}" r="3" fill="{LINE}"/>')
    parts.append("</svg>")
    return Markup("\n".join(parts))
