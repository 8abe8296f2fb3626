"""Every export format of a list whose signatures hold the nasty values the rules accept
(markup, SQL, formulas at the start and after ";", look-alikes, decomposed accents) and a
few older rows holding what they no longer accept (line breaks, escape codes): each file
read back, each name found as text; no live HTML, no spreadsheet formula."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from html import unescape

import docx
import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from odf import teletype
from odf.opendocument import load as load_odt
from openpyxl import load_workbook
from sqlalchemy import select

from petition import text
from petition.extensions import db
from petition.models import FULL, INDIVIDUAL, INITIALS
from tests.export_helpers import exported
from tests.factories import make_letter, make_signature
from tests.test_export_sheets import FORMULA_CHARS, assert_no_formula_however_split

from .conftest import assert_no_500, once
from .payloads import ACCEPTED_NAMES, FORMULAS, HTML, WALL, assert_escaped, nasty_text, stored

# Rows written before today's rules, or by raw SQL: still printed safely.
LEGACY = ["Line\nbreak", "Tab\tname", "\x1b[31mred", "CR\rname", "=cmd\r\n=1+1", "a\u2028b"]
NAMES = [stored(name) for name in ACCEPTED_NAMES] + [n for n in FORMULAS + HTML if n.strip()]


@pytest.fixture
def nasty_letter(app):
    letter = make_letter(title="<wall-x>Libérez</wall-x> =1+1", body="**<wall-x>** ;=1+1")
    for number, name in enumerate(NAMES + LEGACY):
        if number % 3 == 0:
            make_signature(letter, country="FR", name=name, signer_type=INDIVIDUAL,
                           affiliation=name, display=FULL)
        elif number % 3 == 1:
            make_signature(letter, country="DE", name=name)
        else:
            make_signature(letter, country="RU", name=name, signer_type=INDIVIDUAL,
                           display=INITIALS)
    return letter


def _shown(name: str) -> str:
    return text.clean(name)


def _full_names() -> list[str]:
    """The names listed in full (the individuals by initials show other text)."""
    return [_shown(name) for number, name in enumerate(NAMES + LEGACY) if number % 3 != 2]


def _lines_hold_names(lines: list[str]) -> None:
    for name in _full_names():
        assert any(name in line for line in lines), name


@pytest.mark.parametrize("layout", ["press", "submission"])
def test_text_formats(nasty_letter, layout):
    """txt and md: one name a line (no forged line), md renders back to text, not HTML."""
    txt = exported(nasty_letter, "txt", "fr", layout).decode("utf-8")
    lines = txt.splitlines()
    _lines_hold_names(lines)
    for legacy in LEGACY:  # a line break inside a name forged no line of its own
        for piece in legacy.replace("\r", "\n").replace("\u2028", "\n").split("\n")[1:]:
            assert piece not in lines or piece == ""
    md = exported(nasty_letter, "md", "fr", layout).decode("utf-8")
    rendered = MarkdownIt("commonmark").render(md)
    assert_escaped(rendered)
    assert "<wall-x" not in rendered
    # The organisers' title may hold markup: the md writer escapes it like any name.
    html = exported(nasty_letter, "html", "fr", layout).decode("utf-8")
    assert_escaped(html)
    _lines_hold_names(unescape(html).splitlines())  # each name, as text


@pytest.mark.parametrize("layout", ["press", "submission"])
def test_documents(nasty_letter, layout):
    """docx, odt, pdf: valid files whose paragraphs hold the names as text."""
    document = docx.Document(io.BytesIO(exported(nasty_letter, "docx", "fr", layout)))
    _lines_hold_names([p.text for p in document.paragraphs])
    odt = load_odt(io.BytesIO(exported(nasty_letter, "odt", "fr", layout)))
    _lines_hold_names([teletype.extractText(node) for node in odt.text.childNodes])
    data = exported(nasty_letter, "pdf", "fr", layout)
    reader = pypdf.PdfReader(io.BytesIO(data))
    pdf_text = "\n".join(page.extract_text() for page in reader.pages)
    assert "<wall-x onerror=alert(1)>" in pdf_text and "{{ 7*7 }}" in pdf_text
    # No XML of the name leaked into the document's own markup.
    with zipfile.ZipFile(io.BytesIO(exported(nasty_letter, "docx", "fr", layout))) as archive:
        body = archive.read("word/document.xml").decode("utf-8")
    assert "<wall-x" not in body


@pytest.mark.parametrize("private", [False, True])
@pytest.mark.parametrize("layout", ["press", "submission"])
def test_sheets_and_json(nasty_letter, layout, private):
    """csv, xlsx: no cell starts a formula however a spreadsheet splits it; json: the
    names as strings, exactly as printed."""
    data = exported(nasty_letter, "csv", "fr", layout, private)
    assert_no_formula_however_split(data)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    for row in rows:
        assert text.uncell(row["name"]) in {_shown(n) for n in NAMES + LEGACY} | {
            r["listed_as"] for r in rows} | {""} or row["display"] != "full", row
    workbook = load_workbook(io.BytesIO(exported(nasty_letter, "xlsx", "fr", layout, private)))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.value
                if isinstance(cell.value, str):
                    for separator in ";,\t|":
                        for piece in cell.value.split(separator):
                            assert not piece.lstrip(' "').startswith(FORMULA_CHARS), cell.value
    listing = json.loads(exported(nasty_letter, "json", "fr", layout, private))
    flat = json.dumps(listing, ensure_ascii=False)
    for name in _full_names():
        assert json.dumps(name, ensure_ascii=False)[1:-1] in flat, name


def test_public_press_lists_and_pages(app, client, nasty_letter):
    """The public press list in txt, md, html, the JSON, the page, the widget and the
    search: the names as text."""
    for path in ("/letters/appeal/signatories.txt", "/letters/appeal/signatories.md",
                 "/letters/appeal/signatories.html", "/letters/appeal.json",
                 "/letters/appeal", "/letters/appeal/widget", "/letters/appeal/signatories/FR",
                 "/letters/appeal/search", "/api/v1/letters/appeal", "/"):
        for lang in ("en", "fr", "ru"):
            response = client.get(path, query_string={"lang": lang, "q": "wall"})
            body = assert_no_500(response)
            assert response.status_code == 200, (path, response.status_code)
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            # Text and JSON hold the names as typed, served as what they are (nosniff).
            if path.endswith((".txt", ".md", ".json")) or path.startswith("/api/"):
                assert response.mimetype != "text/html"
            else:
                assert_escaped(body)


def _check_sheets(letter) -> None:
    assert_no_formula_however_split(exported(letter, "csv", "fr", "press", True))
    workbook = load_workbook(io.BytesIO(exported(letter, "xlsx", "fr", "press", True)))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.value
                if isinstance(cell.value, str):
                    for separator in ";,\t|":
                        for piece in cell.value.split(separator):
                            assert not piece.lstrip(' "').startswith(FORMULA_CHARS), cell.value


@WALL
@given(names=st.lists(nasty_text.filter(lambda name: name.strip()), min_size=1, max_size=3))
def test_any_stored_name_exports_safely(app, names):
    """Whatever a row holds (today's rules bypassed, as raw SQL or an old import would): every
    format exports it, HTML and rendered Markdown without live markup, sheets without a
    formula, text one name a line."""
    once(app, make_letter)
    from petition.models import Letter

    letter = db.session.scalars(select(Letter)).one()
    for name in names:
        # What the columns can hold: 200 characters, no NUL (PostgreSQL refuses it).
        kept = name.replace("\x00", "")[:200]
        make_signature(letter, country="FR", name=kept, signer_type=INDIVIDUAL, affiliation=kept)
    assert_escaped(exported(letter, "html", "fr").decode("utf-8"))
    assert_escaped(MarkdownIt("commonmark").render(exported(letter, "md", "fr").decode("utf-8")))
    _check_sheets(letter)
    json.loads(exported(letter, "json", "fr"))
    for fmt in ("txt", "docx", "odt", "pdf"):
        assert exported(letter, fmt, "fr")
