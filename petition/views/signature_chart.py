"""The public chart of a letter: confirmed signatures per day as bars, an SVG drawn here.

No script and no style attribute (the Content-Security-Policy allows neither inline):
presentation attributes only, every text escaped. The page gives the same figures as a
table beside it (templates/letters/_chart.html).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup, escape

from petition.exporting.grouping import ListEmbargoed
from petition.exporting.signature_days import Day, signature_days
from petition.models import Letter

# Drawn small so that its words stay readable when a phone shrinks it to ~350 px.
WIDTH, HEIGHT = 520, 200
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 14, 32
FONT = 15
BAR, AXIS, GRID, INK = "#8a1c1c", "#54545f", "#d9d9e0", "#1d1d1f"


@dataclass(frozen=True)
class DailyChart:
    svg: Markup
    days: list[tuple[str, Day]]  # (the day as the reader writes it, its figures)


def letter_chart(letter: Letter, lang: str) -> DailyChart | None:
    """The chart of `letter` if its organisers show it and its list is public; else None."""
    if not letter.show_chart or letter.embargoed:
        return None
    try:
        days = signature_days(letter.id)
    except ListEmbargoed:
        return None
    if not days:
        return None
    labels = [format_date(day.day, format="medium", locale=lang) for day in days]
    return DailyChart(svg=_bars(days, lang), days=list(zip(labels, days, strict=True)))


def _top(peak: int) -> int:
    """The value axis' end: the first of 1, 2 or 5 times a power of ten at or above `peak`."""
    magnitude = 10 ** (len(str(max(peak, 1))) - 1)
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= peak)


def _bars(days: list[Day], lang: str) -> Markup:
    first, last = days[0].day, days[-1].day
    span = (last - first).days + 1
    counts = {day.day: day.count for day in days}
    top = _top(max(counts.values()))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / span
    gap = slot * 0.2 if slot > 4 else 0

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    def short(day: dt.date) -> str:
        return format_skeleton("MMMd", day, locale=lang)

    peak = max(days, key=lambda day: day.count)
    desc = ngettext("%(num)s signature from %(first)s to %(last)s; the most in one day: "
                    "%(peak)s on %(day)s.",
                    "%(num)s signatures from %(first)s to %(last)s; the most in one day: "
                    "%(peak)s on %(day)s.", days[-1].total,
                    first=format_date(first, format="long", locale=lang),
                    last=format_date(last, format="long", locale=lang),
                    peak=format_decimal(peak.count, locale=lang),
                    day=format_date(peak.day, format="long", locale=lang))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'role="img" aria-labelledby="daily-chart-title daily-chart-desc" class="daily-chart">',
        f'<title id="daily-chart-title">{escape(_("Confirmed signatures per day"))}</title>',
        f'<desc id="daily-chart-desc">{escape(desc)}</desc>',
    ]
    for value in (0, top // 2, top) if top > 1 else (0, top):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
                     f'y2="{y(value):.1f}" stroke="{AXIS if value == 0 else GRID}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(value):.1f}" dy="0.35em" text-anchor="end" '
                     f'font-size="{FONT}" font-family="sans-serif" fill="{INK}">'
                     f'{escape(format_decimal(value, locale=lang))}</text>')
    for offset in range(span):
        day = first + dt.timedelta(days=offset)
        count = counts.get(day, 0)
        if count:
            x = LEFT + offset * slot + gap / 2
            parts.append(f'<rect x="{x:.1f}" y="{y(count):.1f}" width="{slot - gap:.1f}" '
                         f'height="{plot_h * count / top:.1f}" fill="{BAR}">'
                         f'<title>{escape(format_date(day, format="medium", locale=lang))}: '
                         f'{escape(format_decimal(count, locale=lang))}</title></rect>')
    ends = [(first, "start", LEFT)] if span == 1 else [
        (first, "start", LEFT), (last, "end", WIDTH - RIGHT)]
    for day, anchor, x in ends:
        parts.append(f'<text x="{x}" y="{HEIGHT - 10}" text-anchor="{anchor}" font-size="{FONT}" '
                     f'font-family="sans-serif" fill="{INK}">{escape(short(day))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
