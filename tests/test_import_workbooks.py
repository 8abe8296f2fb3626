"""XLSX imports: a workbook is a zip, so a small file can hold what would exhaust a worker
(gigabytes unpacked, millions of cells); such a workbook, or a broken one, is refused with a
reason, before anything is read in full, and nothing is written."""
from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.models import Signature
from petition.signatures import import_files, importing
from tests.admin_helpers import signed_in_client
from tests.factories import make_letter
from tests.test_admin_imports import _problem_rows, _upload

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml."
HEADER = ('<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c>'
          '<c r="B1" t="inlineStr"><is><t>Country</t></is></c>'
          '<c r="C1" t="inlineStr"><is><t>Type</t></is></c></row>')
GOOD_ROW = ('<row r="2"><c r="A2" t="inlineStr"><is><t>Amnesty</t></is></c>'
            '<c r="B2" t="inlineStr"><is><t>FR</t></is></c>'
            '<c r="C2" t="inlineStr"><is><t>organisation</t></is></c></row>')


def workbook(sheet_data: str = HEADER + GOOD_ROW, strings: bytes | None = None, *,
             sheet: bytes | None = None, with_sheet: bool = True,
             extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal XLSX file: one sheet holding `sheet_data` (or the whole `sheet` part), and
    a shared string table if `strings` is given."""
    overrides = f'<Override PartName="/xl/workbook.xml" ContentType="{TYPE}sheet.main+xml"/>'
    relations = sheets = ""
    if with_sheet:
        overrides += (f'<Override PartName="/xl/worksheets/sheet1.xml" '
                      f'ContentType="{TYPE}worksheet+xml"/>')
        relations += (f'<Relationship Id="rId1" Type="{REL}/worksheet" '
                      'Target="worksheets/sheet1.xml"/>')
        sheets = '<sheet name="List" sheetId="1" r:id="rId1"/>'
    if strings is not None:
        overrides += (f'<Override PartName="/xl/sharedStrings.xml" '
                      f'ContentType="{TYPE}sharedStrings+xml"/>')
        relations += (f'<Relationship Id="rId2" Type="{REL}/sharedStrings" '
                      'Target="sharedStrings.xml"/>')
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f"{overrides}</Types>").encode(),
        "_rels/.rels": (f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" '
                        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
                        "</Relationships>").encode(),
        "xl/workbook.xml": (f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{sheets}'
                            "</sheets></workbook>").encode(),
        "xl/_rels/workbook.xml.rels": (f'<Relationships xmlns="{PACKAGE}">{relations}'
                                       "</Relationships>").encode(),
    }
    if with_sheet:
        parts["xl/worksheets/sheet1.xml"] = sheet if sheet is not None else (
            f'<worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>').encode()
    if strings is not None:
        parts["xl/sharedStrings.xml"] = strings
    parts.update(extra or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def far_right_cells(rows: int) -> bytes:
    """The review's first file: one cell in column XFD, the last, on every row (at 10,000
    rows, 51 kB that cost a worker 1.3 GB)."""
    return workbook(HEADER + "".join(f'<row r="{row}"><c r="XFD{row}"><v>1</v></c></row>'
                                     for row in range(2, rows + 2)))


def shared_strings(count: int) -> bytes:
    """The review's second file: a shared string table of `count` one-letter strings (at a
    million, 43 kB that cost 12 s of CPU)."""
    return workbook(strings=f'<sst xmlns="{MAIN}">'.encode() + b"<si><t>a</t></si>" * count
                    + b"</sst>")


def merged_cells(count: int) -> bytes:
    """A sheet declaring `count` merged ranges, each kept in memory by the reader."""
    return workbook(sheet=f'<worksheet xmlns="{MAIN}"><sheetData>{HEADER}</sheetData>'
                    "<mergeCells>".encode() + b'<mergeCell ref="D5:E6"/>' * count
                    + b"</mergeCells></worksheet>")


def _check(data: bytes, name: str = "list.xlsx") -> list[str]:
    """The problems a dry run of `data` reports."""
    return importing.import_file("appeal", data, name, dry_run=True).problems


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature))


@pytest.fixture
def letter(app):
    return make_letter("appeal")


def test_a_plain_workbook_still_imports(app, letter):
    """Import a workbook with shared strings, styled empty cells and a trailing empty row."""
    strings = (f'<sst xmlns="{MAIN}"><si><t>Nom</t></si><si><t>Pays</t></si><si><t>Type</t>'
               "</si><si><t>Amnesty</t></si><si><t>organisation</t></si></sst>").encode()
    data = workbook('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
                    '<c r="C1" t="s"><v>2</v></c></row>'
                    '<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="inlineStr"><is><t>FR'
                    '</t></is></c><c r="C2" t="s"><v>4</v></c><c r="D2" s="1"/></row>'
                    '<row r="5000" s="1" customFormat="1"/>', strings)
    report = importing.import_file("appeal", data, "list.xlsx")
    assert report.problems == [] and report.imported == 1 and _count() == 1


def test_a_cell_past_the_last_column_is_refused(app, letter):
    """Refuse a value past column AX before openpyxl pads every row to it."""
    assert _check(far_right_cells(200)) == [
        "list.xlsx: cell XFD2 is past column AX: an import reads a few columns; delete the "
        "others or save the list as CSV"]
    assert _count() == 0


def test_a_million_shared_strings_are_refused_unread(app, letter):
    """Refuse the review's million shared strings from the zip directory alone."""
    assert _check(shared_strings(1_000_000)) == [
        "list.xlsx: a part of the workbook unpacks to more than 100 times its packed size, as "
        "no list does; save the list as CSV"]


def test_more_shared_strings_than_cells_are_refused(app, letter, monkeypatch):
    """Refuse a shared string table larger than the cell budget."""
    monkeypatch.setattr(import_files, "MAX_CELLS", 1000)
    assert _check(shared_strings(1001)) == ["list.xlsx: more than 1000 cells; split the file"]


def test_a_workbook_unpacking_too_big_is_refused(app, letter, monkeypatch):
    """Refuse a workbook whose declared sizes pass the total or the per-part bound."""
    monkeypatch.setattr(import_files, "XLSX_MAX_BYTES", 1_000)
    assert _check(workbook()) == [
        "list.xlsx: the workbook unpacks to more than 0.001 MB; split the list or save it "
        "as CSV"]
    monkeypatch.undo()
    monkeypatch.setattr(import_files, "XLSX_MAX_PART_BYTES", 500)
    assert _check(workbook(sheet=b" " * 501 + b"<worksheet/>"))[0].startswith(
        "list.xlsx: the workbook unpacks to more than 0.0005 MB")


def test_too_many_cells_are_refused(app, letter, monkeypatch):
    """Refuse more cells, or more rows times columns, than the cell budget."""
    monkeypatch.setattr(import_files, "MAX_CELLS", 5)
    assert _check(workbook()) == ["list.xlsx: more than 5 cells; split the file"]
    monkeypatch.setattr(import_files, "MAX_CELLS", 1_000)
    # Rows times columns, as the reader fills the gaps: 400 rows of 3 columns.
    sparse = workbook(HEADER + '<row r="400"><c r="A400"><v>1</v></c></row>')
    assert _check(sparse) == ["list.xlsx: more than 1000 cells; split the file"]


def test_too_many_rows_are_refused_before_reading(app, letter, monkeypatch):
    """Refuse a value past the last row, and too many empty rows, before reading."""
    far = workbook(HEADER + '<row r="1048576"><c r="A1048576"><v>1</v></c></row>')
    assert _check(far) == ["list.xlsx: more than 100000 rows; split the file"]
    monkeypatch.setattr(import_files, "MAX_ROWS", 3)
    assert _check(workbook(HEADER + GOOD_ROW + "<row/>" * 3)) == [
        "list.xlsx: more than 3 rows; split the file"]  # empty, but each is kept in memory


def test_too_much_besides_the_cells_is_refused(app, letter, monkeypatch):
    """Refuse merged cells and the like past what a list needs."""
    assert _check(merged_cells(1_000_000))[0].startswith(
        "list.xlsx: a part of the workbook unpacks to more than 100 times")
    monkeypatch.setattr(import_files, "MAX_OTHER_ELEMENTS", 500)
    assert _check(merged_cells(500)) == [
        "list.xlsx: the workbook holds more than 500 XML elements besides its cells "
        "(formatting, links, merged cells…); save the list as CSV"]


def test_a_row_or_a_text_of_too_many_elements_is_refused(app, letter):
    """Refuse a row or a shared string too big to hold at once."""
    row = '<row r="2">' + '<c r="A2"/>' * 5_001 + "</row>"
    assert _check(workbook(HEADER + row)) == [
        "list.xlsx: a row or a text holds more than 5000 XML elements; save the list as CSV"]
    text = (f'<sst xmlns="{MAIN}"><si>'.encode() + b"<r><t>a</t></r>" * 3_000
            + b"</si></sst>")
    assert _check(workbook(strings=text)) == [
        "list.xlsx: a row or a text holds more than 5000 XML elements; save the list as CSV"]


def test_a_document_type_declaration_is_refused(app, letter):
    """Refuse a part declaring a DTD (entities) as unreadable."""
    sheet = (b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]>'
             + f'<worksheet xmlns="{MAIN}"><sheetData>{HEADER}</sheetData></worksheet>'.encode())
    assert _check(workbook(sheet=sheet)) == ["list.xlsx: not an XLSX workbook we can read"]


def test_a_part_in_an_encoding_the_check_cannot_read_is_refused(app, letter):
    """Refuse a part in an encoding expat cannot read, but skip images."""
    styles = '<?xml version="1.0" encoding="UTF-32"?><styleSheet/>'.encode("utf-32")
    assert _check(workbook(extra={"xl/styles.xml": styles})) == [
        "list.xlsx: not an XLSX workbook we can read"]
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    assert _check(workbook(extra={"xl/media/image1.png": image})) == []


@pytest.mark.parametrize("data, reason", [
    (workbook(with_sheet=False), "the workbook has no sheet"),
    (workbook(sheet=f'<worksheet xmlns="{MAIN}"><dimension ref="A1:C2"/><sheetData>{HEADER}'
              '<row r="2"><c r="A'.encode()), "not an XLSX workbook we can read"),
    (workbook(HEADER + '<row r="2"><c r="A2" t="s"><v>7</v></c></row>',
              f'<sst xmlns="{MAIN}"><si><t>a</t></si></sst>'.encode()),
     "not an XLSX workbook we can read"),
], ids=["no sheet", "truncated XML", "shared string out of range"])
def test_a_broken_workbook_is_refused_on_the_import_page(app, letter, data, reason):
    """Show a broken workbook's problem on the import page instead of a 500."""
    client = signed_in_client(app)
    response = _upload(client, data, "list.xlsx")
    assert response.status_code == 200
    assert _problem_rows(response.get_data(as_text=True)) == [("the file", "", reason)]
    assert _count() == 0


def test_the_command_line_tells_why(app, letter, tmp_path, runner):
    """Print the refusal of an oversized workbook from flask signatures import."""
    path = tmp_path / "wide.xlsx"
    path.write_bytes(far_right_cells(3))
    result = runner.invoke(args=["signatures", "import", "appeal", str(path)])
    assert result.exit_code == 1
    assert "wide.xlsx: cell XFD2 is past column AX" in result.output
    assert _count() == 0
