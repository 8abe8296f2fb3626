"""An import's file read: rows of text from a CSV or XLSX file, bounded in size, and an XLSX
workbook checked before it is parsed (its problems go into import_report's types;
importing.py checks the rows).
"""
from __future__ import annotations

import csv
import functools
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from petition.signatures.import_report import HEADER_ROW, N_, ImportFailed, Problem, column_letter

MAX_ROWS = 100_000  # more is a mistake or a bomb (a small XLSX can hold millions of rows)

# An XLSX file is a zip of XML parts, so a small upload can unpack to far more than it shows:
# a 51 kB workbook with one cell in the last column (XFD) of each row cost a worker 1.3 GB, one
# of 43 kB holding a million shared strings 12 s of CPU. So the zip's directory, then every
# XML part, streamed in constant memory, are checked against these bounds before openpyxl
# reads anything, and openpyxl is told where the cells end. They leave room for MAX_ROWS rows
# of a list from any spreadsheet (openpyxl writes 100,000 rows of 6 columns as a 40 MB sheet).
XLSX_MAX_BYTES = 64_000_000  # all parts unpacked, as the zip's directory declares them
XLSX_MAX_PART_BYTES = 48_000_000  # one part (zipfile never unpacks more than it declares)
# Spreadsheet XML packs 5 to 20 times, a bomb hundreds or thousands of times; 100 is also
# Apache POI's limit. Parts smaller than XLSX_RATIO_FROM_BYTES are harmless whatever their ratio.
XLSX_MAX_RATIO = 100
XLSX_RATIO_FROM_BYTES = 1_000_000
MAX_COLUMNS = 50  # column AX: a list has a handful (name, type, country, affiliation...)
# Cells in the sheets, strings in the shared table, and rows times columns read (openpyxl
# fills the gaps): MAX_ROWS rows of 10 columns.
MAX_CELLS = 1_000_000
MAX_XML_ELEMENTS = 4_000_000  # within rows and strings: a cell is 2 to 4, rich text more
MAX_ELEMENTS_IN_ONE = 5_000  # within one row or one string, which openpyxl holds at once
# Elements outside rows and strings (styles, merged cells, links...) stay in openpyxl's memory
# (a million merged cells, 600 MB); a real workbook has a few thousand.
MAX_OTHER_ELEMENTS = 100_000


def read_table(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    """The file's rows as lists of strings (CSV of any common delimiter, or XLSX)."""
    return read_data(path.read_bytes(), path.suffix, encoding)


def read_data(data: bytes, suffix: str, encoding: str = "utf-8-sig") -> list[list[str]]:
    """As read_table, from the bytes of a file whose name ends with `suffix` (an upload)."""
    if suffix.lower() in (".xlsx", ".xlsm"):
        return _read_workbook(data)
    try:
        content = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ImportFailed([Problem(None, None, N_(
            "not %(encoding)s text (byte %(byte)s); save it as 'CSV UTF-8' or choose its "
            "encoding (--encoding)"), {"encoding": encoding, "byte": error.start})]) from None
    except LookupError:
        raise ImportFailed([Problem(None, None, N_("unknown encoding %(encoding)s"),
                                    {"encoding": encoding})]) from None
    try:
        dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    try:
        for row in csv.reader(io.StringIO(content, newline=""), dialect):
            rows.append(row)
            _check_size(rows)
    except csv.Error as error:
        raise ImportFailed([Problem(None, None, N_("not a CSV file we can read (%(error)s)"),
                                    {"error": str(error)})]) from None
    return rows


def _unreadable() -> ImportFailed:
    return ImportFailed([Problem(None, None, N_("not an XLSX workbook we can read"))])


def _refused(message: str, **params: object) -> ImportFailed:
    return ImportFailed([Problem(None, None, message, params)])


def _read_workbook(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    extent = _check_workbook(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises a zoo of errors (zip, XML, KeyError) for a bad file
        raise _unreadable() from None
    try:
        if not workbook.worksheets:
            raise _refused(N_("the workbook has no sheet"))
        rows: list[list[str]] = []
        # Bounded by the cells found, never by the sheet's <dimension>, which may say XFD.
        for row in workbook.worksheets[0].iter_rows(max_row=max(extent.last_row, 1),
                                                    max_col=max(extent.last_column, 1),
                                                    values_only=True):
            rows.append(["" if value is None else str(value) for value in row])
            _check_size(rows)
        return rows
    except ImportFailed:
        raise
    except Exception:  # a part cut short, a shared string that is not there...
        raise _unreadable() from None
    finally:
        workbook.close()


def _check_workbook(data: bytes) -> _Extent:
    """Refuse a workbook past the bounds above, reading its zip directory, then its XML."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception:
        raise _unreadable() from None
    with archive:
        total = 0
        for info in archive.infolist():
            total += info.file_size
            if info.file_size > XLSX_MAX_PART_BYTES or total > XLSX_MAX_BYTES:
                limit = XLSX_MAX_BYTES if total > XLSX_MAX_BYTES else XLSX_MAX_PART_BYTES
                raise _refused(N_("the workbook unpacks to more than %(max)s MB; split the "
                                  "list or save it as CSV"), max=f"{limit / 1_000_000:g}")
            if (info.file_size > XLSX_RATIO_FROM_BYTES
                    and info.file_size > XLSX_MAX_RATIO * info.compress_size):
                raise _refused(N_("a part of the workbook unpacks to more than %(ratio)s times "
                                  "its packed size, as no list does; save the list as CSV"),
                               ratio=XLSX_MAX_RATIO)
        try:
            extent = _scan_parts(archive)
        except ImportFailed:
            raise
        except Exception:  # bad CRC, unknown compression, encryption...
            raise _unreadable() from None
    if extent.last_row > MAX_ROWS + HEADER_ROW:
        raise _refused(N_("more than %(max)s rows; split the file"), max=MAX_ROWS)
    if extent.last_row * extent.last_column > MAX_CELLS:
        raise _refused(N_("more than %(max)s cells; split the file"), max=MAX_CELLS)
    return extent


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "  # expat: "uri name"
_ROW, _CELL, _STRING, _VALUE, _INLINE = (_MAIN + name for name in ("row", "c", "si", "v", "is"))
_OPENERS = frozenset((_ROW, _STRING))  # what openpyxl reads one at a time, then forgets
_VALUES = frozenset((_VALUE, _INLINE))
_COLUMN_LETTERS = re.compile(r"\$?([A-Za-z]{1,3})\$?")  # as openpyxl's cell reference
_DIGITS = "0123456789"
_BYTE_ORDER_MARKS = (b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe", b"\x00\x00\xfe\xff")
_EBCDIC_XML = b"\x4c\x6f\xa7\x94"  # "<?xm" in EBCDIC, which some builds of lxml read


def _looks_like_xml(head: bytes) -> bool:
    """Whether some XML parser would read a part starting with `head`: images and other
    binary parts are skipped, but not a part in UTF-16, UTF-32 (which openpyxl's lxml reads
    and expat does not: it is refused) or EBCDIC."""
    if head.startswith(_BYTE_ORDER_MARKS):
        return True
    start = head[:64].replace(b"\x00", b"").lstrip()
    return start.startswith((b"<", _EBCDIC_XML))


@dataclass
class _Extent:
    """Where the cells holding a value end, in any sheet, as openpyxl numbers rows and
    columns (from 1)."""

    last_row: int = 0
    last_column: int = 0


def _scan_parts(archive: zipfile.ZipFile) -> _Extent:
    """Count what the workbook's XML parts hold as expat streams through them (nothing of
    what openpyxl would build is built), refusing as soon as a bound is passed."""
    extent = _Extent()
    rows = cells = strings = elements = others = 0
    # In the part being read: how deep in rows and strings expat is (0: outside any), how many
    # elements the outermost holds, openpyxl's row and column counters, and whether the cell
    # being read was seen to hold a value.
    opened = within = row = column = 0
    valued = True
    # Read once: the handlers below run for every element of the workbook (a sheet of
    # 100,000 rows is 2 million), so they read locals of this function, the cells' path first.
    max_in_one, max_elements, max_cells = MAX_ELEMENTS_IN_ONE, MAX_XML_ELEMENTS, MAX_CELLS
    max_columns, max_others = MAX_COLUMNS, MAX_OTHER_ELEMENTS
    # Empty rows too: openpyxl keeps every row it has read (emptied) until the sheet's end.
    max_rows = MAX_ROWS + HEADER_ROW

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal rows, cells, strings, elements, others, opened, within, row, column, valued
        if opened:
            within += 1
            elements += 1
            if within > max_in_one:
                raise _refused(N_("a row or a text holds more than %(max)s XML elements; "
                                  "save the list as CSV"), max=MAX_ELEMENTS_IN_ONE)
            if elements > max_elements:
                raise _refused(N_("the workbook's cells hold more than %(max)s XML "
                                  "elements; split the file"), max=MAX_XML_ELEMENTS)
            if name == _CELL:
                cells += 1
                if cells > max_cells:
                    raise _refused(N_("more than %(max)s cells; split the file"), max=MAX_CELLS)
                reference = attributes.get("r")
                column = _column_number(reference.rstrip(_DIGITS)) if reference else column + 1
                valued = False
                return
            if name in _VALUES:
                if not valued:
                    valued = True
                    if column > max_columns:
                        raise _refused(
                            N_("cell %(cell)s is past column %(last)s: an import reads a few "
                               "columns; delete the others or save the list as CSV"),
                            cell=f"{column_letter(column - 1)}{row}",
                            last=column_letter(MAX_COLUMNS - 1))
                    if column > extent.last_column:
                        extent.last_column = column
                    if row > extent.last_row:
                        extent.last_row = row
                return
            if name not in _OPENERS:
                return
            opened += 1
        elif name in _OPENERS:
            opened, within = 1, 0
            elements += 1
        else:
            others += 1
            if others > max_others:
                raise _refused(N_("the workbook holds more than %(max)s XML elements besides "
                                  "its cells (formatting, links, merged cells…); save the "
                                  "list as CSV"), max=MAX_OTHER_ELEMENTS)
            return
        if name == _ROW:
            rows += 1
            if rows > max_rows:
                raise _refused(N_("more than %(max)s rows; split the file"), max=MAX_ROWS)
            reference = attributes.get("r")
            row = row + 1 if reference is None else _row_of(reference)
            column, valued = 0, True
        else:
            strings += 1
            if strings > max_cells:
                raise _refused(N_("more than %(max)s cells; split the file"), max=MAX_CELLS)

    def end(name: str) -> None:
        nonlocal opened
        if name in _OPENERS:
            opened -= 1

    def doctype(*_declaration: object) -> None:
        raise _unreadable()  # entities: none in a real workbook, a bomb in a crafted one

    for info in archive.infolist():
        if info.is_dir():
            continue
        with archive.open(info) as part:
            chunk = part.read(1 << 16)
            if not _looks_like_xml(chunk):
                continue
            opened = within = row = column = 0
            valued = True
            parser = expat.ParserCreate(namespace_separator=" ")
            parser.StartElementHandler = start
            parser.EndElementHandler = end
            parser.StartDoctypeDeclHandler = doctype
            try:
                while chunk:
                    parser.Parse(chunk, False)
                    chunk = part.read(1 << 16)
                parser.Parse(b"", True)
            except expat.ExpatError:  # every parser openpyxl uses would stop there too
                raise _unreadable() from None
    return extent


def _row_of(reference: str) -> int:
    """A row's number, read as openpyxl reads it ("7", or "7.0")."""
    try:
        return int(reference)
    except ValueError:
        pass
    try:
        number = float(reference)
    except ValueError:
        raise _unreadable() from None
    if not number.is_integer():
        raise _unreadable()
    return int(number)


@functools.lru_cache(maxsize=1024)
def _column_number(letters: str) -> int:
    """The column of a cell reference's letters, as openpyxl reads them: "C" → 3, "$AA" → 27
    (the inverse of column_letter, counted from 1)."""
    match = _COLUMN_LETTERS.fullmatch(letters)
    if match is None:
        raise _unreadable()
    number = 0
    for letter in match[1].upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _check_size(rows: list) -> None:
    if len(rows) > MAX_ROWS + 1:
        raise ImportFailed([Problem(None, None, N_("more than %(max)s rows; split the file"),
                                    {"max": MAX_ROWS})])
