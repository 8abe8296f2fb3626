"""Excel workbook: sheet "Signatures" (one row per confirmed signature) and sheet "Summary"
(the list's count per group, total and digest).

The SpreadsheetML is written here rather than by openpyxl: openpyxl spends ~10 µs a cell,
14 s for 100k rows of 13 columns on the reference machine, over the 10 s budget; plain
inline-string rows take a second. openpyxl reads the result back in the tests. Text cells
go through text.cell(), so none is ever a formula even once re-saved as CSV.
"""
from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable, Iterator
from typing import BinaryIO
from xml.sax.saxutils import escape

from petition import text
from petition.exporting.document import Document, section_title
from petition.exporting.rows import COLUMNS, TEXT_COLUMNS, TIME_COLUMNS, signature_rows, timestamp

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_BOLD, _TIME, _DATE = 1, 2, 3  # cellXfs indexes in _STYLES
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_EPOCH = dt.datetime(1899, 12, 30)
_WIDTHS = {"name": 40, "affiliation": 30, "country_name": 24, "listed_as": 40,
           "signed_at": 20, "confirmed_at": 20}


def _letters(count: int) -> list[str]:
    return [chr(ord("A") + index) for index in range(count)]  # up to 26 columns is plenty


def _cell(ref: str, value: str | float | dt.date | None, style: int = 0) -> str:
    """One <c> element; `value` is str (inline string), int/float, datetime (naive UTC) or
    date (a day, shown without a time)."""
    styled = f' s="{style}"' if style else ""
    if value is None or value == "":
        return f'<c r="{ref}"{styled}/>' if style else ""
    if isinstance(value, str):
        return (f'<c r="{ref}" t="inlineStr"{styled}>'
                f'<is><t xml:space="preserve">{escape(value)}</t></is></c>')
    if isinstance(value, dt.datetime):
        serial = (value.replace(microsecond=0) - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{style or _TIME}"><v>{serial!r}</v></c>'
    if isinstance(value, dt.date):
        serial = (value - _EPOCH.date()).days
        return f'<c r="{ref}" s="{style or _DATE}"><v>{serial}</v></c>'
    return f'<c r="{ref}"{styled}><v>{value}</v></c>'


def _row(number: int, letters: list[str], values: Iterable, style: int = 0) -> str:
    cells = "".join(_cell(f"{letter}{number}", value, style)
                    for letter, value in zip(letters, values, strict=False))
    return f'<row r="{number}">{cells}</row>'


def _sheet(out: zipfile.ZipFile, name: str, widths: list[int], rows: Iterator[str],
           frozen: bool) -> None:
    with out.open(name, "w", force_zip64=True) as part:
        pane = (
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            if frozen else ""
        )
        cols = "".join(
            f'<col min="{index}" max="{index}" width="{width}" customWidth="1"/>'
            for index, width in enumerate(widths, start=1)
        )
        part.write(
            f'{_HEAD}<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0">{pane}'
            f"</sheetView></sheetViews><cols>{cols}</cols><sheetData>".encode()
        )
        batch: list[str] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 2000:
                part.write("".join(batch).encode("utf-8"))
                batch.clear()
        part.write(("".join(batch) + "</sheetData></worksheet>").encode("utf-8"))


def _signature_rows(document: Document) -> Iterator[str]:
    letters = _letters(len(COLUMNS))
    yield _row(1, letters, COLUMNS, _BOLD)
    texts = [index for index, column in enumerate(COLUMNS) if column in TEXT_COLUMNS]
    times = [index for index, column in enumerate(COLUMNS) if column in TIME_COLUMNS]
    for number, row in enumerate(signature_rows(document.letter, document.lang, document.private),
                                 start=2):
        values = list(row)
        for index in texts:
            values[index] = text.cell(values[index])
        for index in times:
            values[index] = timestamp(values[index])
        yield _row(number, letters, values)


def _summary_rows(document: Document) -> Iterator[str]:
    letters = _letters(3)
    yield _row(1, letters, ("section", "group", "count"), _BOLD)
    number = 1
    for section in document.sections:
        title = text.cell(section_title(section.signer_type, document.lang))
        for group in section.groups:
            number += 1
            yield _row(number, letters, (title, text.cell(group.label), group.count))
    yield _row(number + 1, letters, ("", text.cell(document.texts["total"]), document.total))
    yield _row(number + 2, letters, (text.cell(document.texts["digest"]),))
    yield _row(number + 3, letters, (text.cell(document.title),))


def _package(out: zipfile.ZipFile, document: Document) -> None:
    sheets = ("Signatures", "Summary")
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_CT}.worksheet+xml"/>'
        for n in range(1, len(sheets) + 1)
    )
    out.writestr("[Content_Types].xml", (
        f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>{overrides}</Types>'
    ))
    out.writestr("_rels/.rels", (
        f'{_HEAD}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ))
    entries = "".join(
        f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>'
        for n, name in enumerate(sheets, start=1)
    )
    out.writestr("xl/workbook.xml", (
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{entries}</sheets></workbook>'
    ))
    links = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, len(sheets) + 1)
    )
    out.writestr("xl/_rels/workbook.xml.rels", (
        f'{_HEAD}<Relationships xmlns="{_PKG_REL}">{links}<Relationship Id="rId{len(sheets) + 1}" '
        f'Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
    ))
    out.writestr("xl/styles.xml", _STYLES)


def render(document: Document, out: BinaryIO) -> None:
    """Write the Signatures and Summary sheets."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        _package(package, document)
        widths = [_WIDTHS.get(column, 12) for column in COLUMNS]
        _sheet(package, "xl/worksheets/sheet1.xml", widths, _signature_rows(document), True)
        _sheet(package, "xl/worksheets/sheet2.xml", [30, 40, 12], _summary_rows(document), True)
