"""A letter's share image: the 1200 × 630 PNG that link previews (Open Graph, Twitter cards)
show, drawn here with Pillow from plain, already localized values: no request, no third-party
service. The view builds the Card in the reader's language; the press cache keeps the bytes
per state of the list and language.

DejaVu Sans, as the PDF export uses (exporting.pdf.font_files()): Latin, Greek and Cyrillic.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import PIL
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 630  # what Facebook, X, Telegram and LinkedIn all crop least
MEDIA_TYPE = "image/png"
FORMAT = "share.png"  # the press cache's "format" of this file

# The site's colours (static/css/site.css: --bg, --ink, --muted, --accent, --line, --tint).
_BG, _INK, _MUTED = "#fcfcfa", "#1d1d1f", "#54545f"
_ACCENT, _LINE, _TINT = "#8a1c1c", "#d9d9e0", "#f6f1ef"
_MARGIN = 60
_TEXT_WIDTH = WIDTH - 2 * _MARGIN
_TITLE_SIZES = (64, 56, 50, 44)  # the largest at which the title fits in _TITLE_LINES
_TITLE_LINES = 3
_ELLIPSIS = "…"
_STATUS_WIDTH = 400  # the "Closed" label, top right


@dataclass(frozen=True)
class Card:
    """What the image says, every string already in the reader's language."""

    title: str
    site_name: str
    count_line: str | None = None  # "70 000 signatures"; None while the count is embargoed
    goal_line: str | None = None  # "Goal: 100 000 · 70 % of the goal"; None without a goal
    progress: float | None = None  # count / goal (0 to 1); None without a goal or a count
    status_line: str | None = None  # "Closed", for a letter that takes no more signatures


@dataclass(frozen=True)
class Fonts:
    regular: Path
    bold: Path


def draw(card: Card, fonts: Fonts) -> bytes:
    """The PNG's bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), _BG)
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, 0, WIDTH, 14), fill=_ACCENT)  # the site's colour, as its header

    site = _font(fonts.bold, 30)
    beside = _TEXT_WIDTH - (_STATUS_WIDTH + 40 if card.status_line else 0)  # clear of the label
    pen.text((_MARGIN, 52), _shortened(card.site_name, site, beside), font=site, fill=_ACCENT)

    size, lines = _title_lines(card.title, fonts.bold)
    title = _font(fonts.bold, size)
    y = 120
    for line in lines:
        pen.text((_MARGIN, y), line, font=title, fill=_INK)
        y += round(size * 1.22)

    # The figures sit at the bottom, whatever the title's height.
    bottom = HEIGHT - _MARGIN
    if card.goal_line is not None and card.progress is not None:
        small = _font(fonts.regular, 28)
        pen.text((_MARGIN, bottom), _shortened(card.goal_line, small, _TEXT_WIDTH),
                 font=small, fill=_MUTED, anchor="ls")
        bar_bottom = bottom - 48
        _bar(pen, (_MARGIN, bar_bottom - 30, WIDTH - _MARGIN, bar_bottom), card.progress)
        bottom = bar_bottom - 52
    if card.count_line is not None:
        big = _font(fonts.bold, 60)
        pen.text((_MARGIN, bottom), _shortened(card.count_line, big, _TEXT_WIDTH), font=big,
                 fill=_ACCENT, anchor="ls")
    if card.status_line:
        label = _font(fonts.bold, 28)
        text = _shortened(card.status_line, label, _STATUS_WIDTH - 36)
        right = WIDTH - _MARGIN
        width = label.getlength(text)
        pen.rounded_rectangle((right - width - 36, 40, right, 92), radius=26, fill=_TINT,
                              outline=_LINE, width=2)
        pen.text((right - 18, 66), text, font=label, fill=_INK, anchor="rm")

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _bar(pen: ImageDraw.ImageDraw, box: tuple[int, int, int, int], progress: float) -> None:
    left, top, right, bottom = box
    radius = (bottom - top) // 2
    pen.rounded_rectangle(box, radius=radius, fill="#ffffff", outline="#6e6e7a", width=2)
    share = min(max(progress, 0.0), 1.0)
    if share > 0:
        # At least a circle's width, so a letter that has started shows it.
        filled = max(left + 2 * radius, round(left + (right - left) * share))
        pen.rounded_rectangle((left, top, filled, bottom), radius=radius, fill=_ACCENT)


def _title_lines(title: str, bold: Path) -> tuple[int, list[str]]:
    """The largest size at which the title fits; at the smallest, its end cut with "…"."""
    for size in _TITLE_SIZES:
        lines = _wrapped(title, _font(bold, size), _TEXT_WIDTH)
        if len(lines) <= _TITLE_LINES:
            return size, lines
    font = _font(bold, _TITLE_SIZES[-1])
    lines = _wrapped(title, font, _TEXT_WIDTH)
    kept = lines[:_TITLE_LINES]
    kept[-1] = _shortened(kept[-1] + " " + lines[_TITLE_LINES] + _ELLIPSIS, font, _TEXT_WIDTH)
    return _TITLE_SIZES[-1], kept


def _wrapped(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines no wider than `width`, broken at spaces; a word too long for a line is broken
    where it must."""
    lines: list[str] = []
    line = ""
    for word in " ".join(text.split()).split(" "):
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while font.getlength(word) > width:  # one word wider than the image
            cut = _fitting(word, font, width)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines or [""]


def _fitting(text: str, font: ImageFont.FreeTypeFont, width: float) -> int:
    """How many characters of `text` fit in `width` (at least one)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if font.getlength(text[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _shortened(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """`text` on one line, its end replaced by "…" if it is too wide."""
    text = " ".join(text.split())
    if font.getlength(text) <= width:
        return text
    if text.endswith(_ELLIPSIS):
        text = text[:-1]
    cut = _fitting(text, font, width - font.getlength(_ELLIPSIS))
    return text[:cut].rstrip() + _ELLIPSIS


@lru_cache(maxsize=32)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


@lru_cache(maxsize=1)
def code_version() -> str:
    """What the bytes depend on besides the card: this drawing code and Pillow. Part of the
    cache key and the ETag, so a deploy that changes either draws afresh."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(PIL.__version__.encode())
    return digest.hexdigest()[:12]
