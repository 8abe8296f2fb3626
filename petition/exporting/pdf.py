"""PDF (fpdf2) with DejaVu Sans, which covers Latin, Greek and Cyrillic.

fpdf2's cell() and multi_cell() cost 50 to 500 µs a line; the list is laid out here
instead (measure, wrap, place with text()), which brings 100k names to a few seconds.
Characters the font lacks (CJK, emoji) print as U+FFFD rather than vanish silently; the
other formats carry every character.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from fpdf import FPDF
from fpdf.fonts import TTFFont

from petition.exporting.document import Document, Kind, blocks
from petition.exporting.formats import ExportError

MEDIA_TYPE = "application/pdf"
DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu"
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
_MM_PER_PT = 25.4 / 72


class FontMissing(ExportError):
    """The TTF fonts the PDF export needs are not installed."""


@dataclass(frozen=True)
class _Look:
    style: str  # "", "B" or "I"
    size: float  # points
    before: float  # space above, mm


_LOOKS = {
    Kind.TITLE: _Look("B", 16, 0),
    Kind.SECTION: _Look("B", 14, 6),
    Kind.GROUP: _Look("B", 12, 4),
    Kind.PARAGRAPH: _Look("", 11, 2),
    Kind.NAME: _Look("", 10, 0),
    Kind.NOTE: _Look("I", 10, 0.5),
    Kind.META: _Look("", 9, 1),
}
_HEADINGS = (Kind.TITLE, Kind.SECTION, Kind.GROUP)


# The total page count is filled in at the end into the space this alias takes: long
# enough for thousands of pages.
_PAGES = "{total-pages}"


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)  # inside the bottom margin, under the text
        self.set_font("DejaVu", "", 8)
        self.cell(0, 5, f"{self.page_no()} / {_PAGES}", align="C")


class _Layout:
    """Places blocks top to bottom, wrapping on spaces, starting pages as needed."""

    def __init__(self, pdf: _Pdf) -> None:
        self.pdf = pdf
        self.y = pdf.t_margin
        self.bottom = pdf.h - pdf.b_margin
        self.width = pdf.w - pdf.l_margin - pdf.r_margin
        self.look: _Look | None = None
        self.glyphs: dict[str, bool] = {}

    def _use(self, look: _Look) -> None:
        if look != self.look:
            self.pdf.set_font("DejaVu", look.style, look.size)
            self.look = look

    def _printable(self, text: str) -> str:
        if text.isascii():
            return text
        font = self.pdf.current_font
        assert isinstance(font, TTFFont)  # _use() set DejaVu, a TrueType font
        cmap = font.cmap
        for char in set(text):
            if char not in self.glyphs:
                self.glyphs[char] = ord(char) in cmap or char.isspace()
        return "".join(char if self.glyphs[char] else "\ufffd" for char in text)

    def _text_width(self, text: str) -> float:
        font, look = self.pdf.current_font, self.look
        assert isinstance(font, TTFFont) and look is not None  # _use() came first: DejaVu
        widths = font.cw
        return sum(widths[ord(char)] for char in text) * look.size * 0.001 * _MM_PER_PT

    def _wrap(self, text: str) -> list[str]:
        if self._text_width(text) <= self.width:
            return [text]
        lines, current = [], ""
        for word in text.split(" "):
            candidate = f"{current} {word}" if current else word
            if self._text_width(candidate) <= self.width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = word
            while self._text_width(current) > self.width:  # a word wider than the page
                cut = len(current) - 1
                while cut > 1 and self._text_width(current[:cut]) > self.width:
                    cut -= 1
                lines.append(current[:cut])
                current = current[cut:]
        lines.append(current)
        return lines

    def add(self, kind: Kind, text: str) -> None:
        look = _LOOKS[kind]
        self._use(look)
        height = look.size * _MM_PER_PT * 1.3
        lines = self._wrap(self._printable(text))
        # Keep a heading with at least one line under it.
        needed = look.before + height * (len(lines) + (1 if kind in _HEADINGS else 0))
        if self.y + needed > self.bottom and self.y > self.pdf.t_margin:
            self.pdf.add_page()
            self._use(look)
            self.y = self.pdf.t_margin
        elif self.y > self.pdf.t_margin:
            self.y += look.before
        for line in lines:
            if self.y + height > self.bottom:
                self.pdf.add_page()
                self._use(look)
                self.y = self.pdf.t_margin
            # text() places the baseline; a line's baseline sits at about 80% of its height.
            self.pdf.text(self.pdf.l_margin, self.y + height * 0.8, line)
            self.y += height


def _font_dir() -> Path:
    return Path(current_app.config.get("PDF_FONT_DIR") or DEFAULT_FONT_DIR)


def font_files() -> dict[str, Path]:
    """The DejaVu Sans files by style ("", "B", "I"); FontMissing if one is not installed."""
    font_dir = _font_dir()
    missing = [name for name in _FONT_FILES.values() if not (font_dir / name).is_file()]
    if missing:
        raise FontMissing(
            f"the PDF export needs {', '.join(missing)} in {font_dir} "
            "(Debian package fonts-dejavu-core, or set PDF_FONT_DIR)"
        )
    return {style: font_dir / name for style, name in _FONT_FILES.items()}


def render(document: Document, out: BinaryIO) -> None:
    """Write `document` as a PDF file."""
    fonts = font_files()
    page = document.page
    pdf = _Pdf(orientation="portrait", unit="mm", format=(page.width, page.height))
    pdf.alias_nb_pages(_PAGES)
    for style, path in fonts.items():
        pdf.add_font("DejaVu", style, str(path))
    pdf.set_margins(page.left, page.top, page.right)
    pdf.set_auto_page_break(False, margin=page.bottom)  # _Layout breaks pages itself
    pdf.set_title(document.title)
    pdf.set_lang(document.language.tag)
    pdf.set_creator("petition")
    pdf.set_creation_date(document.exported_at)
    pdf.add_page()
    layout = _Layout(pdf)
    for kind, text in blocks(document):
        layout.add(kind, text)
    out.write(bytes(pdf.output()))
