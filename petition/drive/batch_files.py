"""The files a batch is sent from: a PDF to print (each letter on its own A4 pages), a ZIP of
one UTF-8 .txt per letter to paste into the prison service's form, and a CSV manifest whose
page counts come from the PDF's own layout.

fpdf2's multi_cell() costs far too much for a thousand letters (see exporting/pdf.py): the
lines are measured with the font's widths, wrapped and paginated here, then placed with
text(). The same layout, without drawing, gives the manifest its page counts. Nothing in
the files depends on when they are made: two downloads of one batch are the same bytes.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass

from fpdf import FPDF
from fpdf.fonts import TTFFont

from petition import text as cells
from petition.dates import long_date
from petition.drive.batches import BatchContents, PrintedLetter
from petition.drive.values import DriveError
from petition.exporting.pdf import FontMissing, font_files

FORMATS = ("pdf", "zip", "csv")
MEDIA_TYPES = {"pdf": "application/pdf", "zip": "application/zip",
               "csv": "text/csv; charset=utf-8"}
CSV_COLUMNS = ("public_id", "signature", "country", "language", "translator", "characters",
               "pages")

# A4 in millimetres; the bottom margin holds the page number.
_PAGE_W, _PAGE_H = 210.0, 297.0
_LEFT, _RIGHT, _TOP, _BOTTOM = 25.0, 20.0, 20.0, 20.0
_SIZE, _FOOTER_SIZE = 11.0, 9.0  # points
_MM_PER_PT = 25.4 / 72
_LINE = _SIZE * _MM_PER_PT * 1.4  # the distance between baselines
_PER_PAGE = int((_PAGE_H - _TOP - _BOTTOM) // _LINE)
_WIDTH = _PAGE_W - _LEFT - _RIGHT
# Glyph widths are in thousandths of the font size: the line's width in those units.
_WIDTH_UNITS = _WIDTH / (_SIZE * _MM_PER_PT / 1000)
_REGULAR, _BOLD = "", "B"


@dataclass(frozen=True)
class _Line:
    text: str
    style: str = _REGULAR
    right: bool = False  # aligned to the right margin (the date)


def _date(contents: BatchContents) -> str:
    """The batch's date, as the delivery language writes it ("15 февраля 2026 г.")."""
    return long_date(contents.batch.created_at.date(), contents.drive.delivery_lang)


def _header(contents: BatchContents) -> list[str]:
    """Whom the letters go to: the recipient's name, then the address, line by line."""
    address = (contents.drive.recipient_address or "").splitlines()
    return [contents.drive.recipient_name, *(line for line in address if line.strip())]


class _Metrics:
    """DejaVu's glyph widths and coverage: what a line holds, before anything is drawn."""

    def __init__(self, pdf: FPDF) -> None:
        self.widths: dict[str, dict[int, float]] = {}
        self.cmaps: dict[str, dict[int, str]] = {}
        for style in (_REGULAR, _BOLD):
            pdf.set_font("DejaVu", style, _SIZE)
            font = pdf.current_font
            assert isinstance(font, TTFFont)  # add_font() gave a TrueType font
            self.widths[style], self.cmaps[style] = font.cw, font.cmap
        self.words: dict[tuple[str, str], float] = {}
        self.covered: set[str] = set()
        self.lacking: dict[int, str] = {}  # for str.translate: each to U+FFFD

    def clean(self, line: str) -> str:
        """`line` with the characters the font lacks as U+FFFD, visibly (CJK, emoji)."""
        chars = set(line)
        if chars <= self.covered:
            return line
        cmap = self.cmaps[_REGULAR]
        for char in chars - self.covered:
            if ord(char) in cmap or char.isspace():
                self.covered.add(char)
            else:
                self.lacking[ord(char)] = "\ufffd"
        return line.translate(self.lacking) if self.lacking else line

    def width(self, word: str, style: str = _REGULAR) -> float:
        """`word`'s width in thousandths of the font size."""
        key = (style, word)
        found = self.words.get(key)
        if found is None:
            widths = self.widths[style]
            found = self.words[key] = sum(widths[ord(char)] for char in word)
        return found

    def _cut(self, word: str, style: str) -> list[str]:
        """A word wider than the line, in pieces that fit."""
        pieces = []
        while self.width(word, style) > _WIDTH_UNITS:
            cut = len(word) - 1
            while cut > 1 and self.width(word[:cut], style) > _WIDTH_UNITS:
                cut -= 1
            pieces.append(word[:cut])
            word = word[cut:]
        return [*pieces, word]

    def wrap(self, paragraph: str, style: str = _REGULAR) -> list[str]:
        """`paragraph` (one line of the text) in lines no wider than the page, broken at
        spaces."""
        space = self.width(" ", style)
        lines: list[str] = []
        current: list[str] = []
        used = 0.0
        for word in self.clean(paragraph).split(" "):
            width = self.width(word, style)
            if current and used + space + width > _WIDTH_UNITS:
                lines.append(" ".join(current))
                current, used = [], 0.0
            if current:
                current.append(word)
                used += space + width
                continue
            if width > _WIDTH_UNITS:
                *full, word = self._cut(word, style)
                lines.extend(full)
                width = self.width(word, style)
            current, used = [word], width
        lines.append(" ".join(current))
        return lines


def _lines(letter: PrintedLetter, header: list[str], date: str,
           metrics: _Metrics) -> list[_Line]:
    """The letter top to bottom: the recipient (name in bold), the date on the right, the
    text as written (its line breaks kept), and the signature."""
    lines = [_Line(line, _BOLD) for line in metrics.wrap(header[0], _BOLD)]
    for row in header[1:]:
        lines.extend(_Line(line) for line in metrics.wrap(row))
    lines += [_Line(""), _Line(metrics.clean(date), right=True), _Line("")]
    for paragraph in letter.text.split("\n"):
        lines.extend(_Line(line) for line in metrics.wrap(paragraph))
    lines.append(_Line(""))
    lines.extend(_Line(line) for line in metrics.wrap(letter.signature))
    return lines


def _pages(lines: list[_Line]) -> list[list[_Line]]:
    """The lines in A4 pages; a page the letter runs on to starts with text, not a gap."""
    pages: list[list[_Line]] = []
    page: list[_Line] = []
    for line in lines:
        if len(page) == _PER_PAGE:
            pages.append(page)
            page = []
        if not page and pages and not line.text:
            continue
        page.append(line)
    pages.append(page)
    return pages


def _pdf() -> FPDF:
    """An A4 document with DejaVu Sans (regular and bold, embedded as subsets)."""
    try:
        fonts = font_files()
    except FontMissing as error:
        raise DriveError(str(error)) from None
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    for style in (_REGULAR, _BOLD):
        pdf.add_font("DejaVu", style, str(fonts[style]))
    pdf.set_margins(_LEFT, _TOP, _RIGHT)
    pdf.set_auto_page_break(False, margin=_BOTTOM)  # _pages() breaks pages itself
    return pdf


def _laid_out(contents: BatchContents, metrics: _Metrics) -> list[list[list[_Line]]]:
    """Each letter's pages."""
    header, date = _header(contents), _date(contents)
    return [_pages(_lines(letter, header, date, metrics)) for letter in contents.letters]


def _close(pdf: FPDF) -> None:
    """Close the font files fontTools keeps open (lazily read) until the PDF is collected."""
    for font in pdf.fonts.values():
        if isinstance(font, TTFFont):
            font.ttfont.close()


def page_counts(contents: BatchContents) -> list[int]:
    """How many A4 pages each letter takes in the batch's PDF."""
    pdf = _pdf()
    try:
        return [len(pages) for pages in _laid_out(contents, _Metrics(pdf))]
    finally:
        _close(pdf)


def _draw(pdf: FPDF, pages: list[list[_Line]], metrics: _Metrics) -> None:
    """One letter's pages, each with its number in the letter ("1/2") at the foot."""
    right_edge = _PAGE_W - _RIGHT
    units_to_mm = _SIZE * _MM_PER_PT / 1000
    footer_units_to_mm = _FOOTER_SIZE * _MM_PER_PT / 1000
    for number, page in enumerate(pages, start=1):
        pdf.add_page()
        style = None
        # text() places the baseline; the first sits one font size below the top margin.
        y = _TOP + _SIZE * _MM_PER_PT
        for line in page:
            if line.text:
                if line.style != style:
                    pdf.set_font("DejaVu", line.style, _SIZE)
                    style = line.style
                x = (right_edge - metrics.width(line.text, line.style) * units_to_mm
                     if line.right else _LEFT)
                pdf.text(x, y, line.text)
            y += _LINE
        folio = f"{number}/{len(pages)}"
        pdf.set_font("DejaVu", _REGULAR, _FOOTER_SIZE)
        pdf.text((_PAGE_W - metrics.width(folio) * footer_units_to_mm) / 2,
                 _PAGE_H - _BOTTOM / 2, folio)


def _render_pdf(contents: BatchContents) -> bytes:
    pdf = _pdf()
    try:
        batch = contents.batch
        # No personal data in the metadata: the drive's slug and the batch's id.
        pdf.set_title(f"{batch.letter.slug}, batch {batch.public_id}")
        pdf.set_lang(contents.drive.delivery_lang.replace("_", "-"))
        pdf.set_creator("petition")
        # The batch's own time, not now: two downloads of a batch are the same bytes.
        pdf.set_creation_date(batch.created_at.replace(tzinfo=dt.UTC))
        metrics = _Metrics(pdf)
        for pages in _laid_out(contents, metrics):
            _draw(pdf, pages, metrics)
        return bytes(pdf.output())
    finally:
        _close(pdf)


def _letter_text(letter: PrintedLetter, header: list[str], date: str) -> str:
    """One letter as plain text: what is pasted into the prison service's form."""
    return "\n".join([*header, "", date, "", letter.text, "", letter.signature]) + "\n"


def _entry_names(contents: BatchContents) -> list[str]:
    """NNN-<public id>.txt in batch order, numbered wide enough to sort as listed."""
    digits = max(3, len(str(len(contents.letters))))
    return [f"{number:0{digits}d}-{letter.public_id}.txt"
            for number, letter in enumerate(contents.letters, start=1)]


def _render_zip(contents: BatchContents) -> bytes:
    header, date = _header(contents), _date(contents)
    # The batch's own time on every entry, so that two downloads are the same bytes.
    stamp = contents.batch.created_at.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, letter in zip(_entry_names(contents), contents.letters, strict=True):
            entry = zipfile.ZipInfo(name, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, _letter_text(letter, header, date).encode("utf-8"))
    return buffer.getvalue()


def _render_csv(contents: BatchContents) -> bytes:
    """The manifest: UTF-8 with a byte-order mark, every cell quoted, text through
    text.cell() (a signature never runs as a formula), as the project's other CSV files."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    for letter, pages in zip(contents.letters, page_counts(contents), strict=True):
        writer.writerow((letter.public_id, cells.cell(letter.signature), letter.country,
                         letter.letter_lang, cells.cell(letter.translator or ""),
                         letter.characters, pages))
    return buffer.getvalue().encode("utf-8-sig")


_RENDERERS = {"pdf": _render_pdf, "zip": _render_zip, "csv": _render_csv}


def file_name(contents: BatchContents, fmt: str) -> str:
    return f"{contents.batch.letter.slug}-batch-{contents.batch.public_id}.{fmt}"


def render(contents: BatchContents, fmt: str) -> tuple[bytes, str, str]:
    """The batch as `fmt` ("pdf", "zip" or "csv"): (data, media type, file name)."""
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise DriveError("Unknown format %(fmt)s; choose one of %(formats)s.",
                         fmt=fmt, formats=", ".join(FORMATS))
    return renderer(contents), MEDIA_TYPES[fmt], file_name(contents, fmt)
