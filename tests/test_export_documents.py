"""docx, odt and pdf: opened with their readers, headings and names in order, text as text."""
from __future__ import annotations

import io

import docx
import pypdf
import pytest
from odf import teletype
from odf.opendocument import load as load_odt

from petition.exporting.pdf import FontMissing
from petition.models import INDIVIDUAL

from .export_helpers import FRENCH_PRESS, exported, sample_letter
from .factories import make_letter, make_signature

# The press list as (is heading, text), from the plain-text layout that is the reference.
PRESS_LINES = [line for line in FRENCH_PRESS.splitlines() if line]
MARKUP = "<b>Acme</b> & Co \x1b[0m"
MARKUP_AS_TEXT = "<b>Acme</b> & Co \u241b[0m"


def _docx(data: bytes) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in docx.Document(io.BytesIO(data)).paragraphs]


def test_docx_press(app):
    letter = sample_letter()
    make_signature(letter, country="DE", name=MARKUP)
    paragraphs = _docx(exported(letter, "docx"))
    assert paragraphs[:5] == [
        ("Heading 1", "Organisations"), ("Heading 2", "Allemagne"),
        ("Normal", MARKUP_AS_TEXT), ("Normal", "BAG Russischsprachige Linke"),
        ("Normal", "Campagne #FREE120"),
    ]
    # Same lines as the plain-text press list (where section headings are in capitals).
    assert [
        text.upper() if style == "Heading 1" else text
        for style, text in paragraphs if text != MARKUP_AS_TEXT
    ] == PRESS_LINES
    assert paragraphs[-1] == ("Normal", "et 1 autre signataire")


def test_docx_submission(app):
    document = docx.Document(io.BytesIO(exported(sample_letter(), "docx", layout="submission")))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert paragraphs[:4] == [
        ("Title", "Libérez le mathématicien"), ("Normal", "Nous demandons sa libération."),
        ("Normal", "Sans délai."), ("Normal", "Paris, le 21 mai 2026"),
    ]
    assert ("Heading 2", "Allemagne (2)") in paragraphs
    assert paragraphs[-3][1] == "Total : 9 signataires"
    assert paragraphs[-1][1].startswith("Empreinte SHA-256 de la liste : ")
    assert document.core_properties.title == "Libérez le mathématicien"
    assert document.core_properties.author == ""


def _odt(data: bytes) -> list[tuple[str, str]]:
    document = load_odt(io.BytesIO(data))
    return [
        (node.qname[1], teletype.extractText(node))
        for node in document.text.childNodes
        if node.qname[1] in ("h", "p")
    ]


def test_odt_press(app):
    letter = sample_letter()
    make_signature(letter, country="DE", name=MARKUP)
    blocks = _odt(exported(letter, "odt"))
    assert blocks[:3] == [("h", "Organisations"), ("h", "Allemagne"), ("p", MARKUP_AS_TEXT)]
    without = [(kind, text) for kind, text in blocks if text != MARKUP_AS_TEXT]
    assert [text.upper() if text in ("Organisations", "Signataires individuels") else text
            for _, text in without] == PRESS_LINES
    headings = [text for kind, text in blocks if kind == "h"]
    assert headings == ["Organisations", "Allemagne", "Égypte", "Etat espagnol", "Europe",
                        "International", "Signataires individuels", "France"]


def test_odt_submission_in_russian(app):
    letter = make_letter(lang="ru", title="Свободу Кагарлицкому", body="Мы требуем.")
    make_signature(letter, country="RU", name="Мемориал")
    blocks = _odt(exported(letter, "odt", "ru", "submission"))
    assert blocks[:5] == [
        ("h", "Свободу Кагарлицкому"), ("p", "Мы требуем."), ("h", "Подписанты"),
        ("h", "Россия (1)"), ("p", "Мемориал"),
    ]
    assert blocks[-3][1] == "Всего: 1 подписант"


def _pdf_lines(data: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    lines = []
    for page in reader.pages:
        lines.extend(line for line in page.extract_text().splitlines() if line.strip())
    return lines


def test_pdf_press_latin_and_cyrillic(app):
    letter = sample_letter()
    make_signature(letter, country="RU", name="Мемориал")
    make_signature(letter, country="DE", name=MARKUP.replace("\x1b[0m", ""))
    lines = [line for line in _pdf_lines(exported(letter, "pdf")) if " / " not in line]
    assert lines[:4] == ["Organisations", "Allemagne", "<b>Acme</b> & Co",
                         "BAG Russischsprachige Linke"]
    assert lines.index("Égypte") < lines.index("Etat espagnol") < lines.index("Russie")
    assert lines[lines.index("Russie") + 1] == "Мемориал"
    assert lines[-1] == "et 1 autre signataire"


def test_pdf_many_pages_long_names_and_page_numbers(app):
    letter = make_letter()
    long_name = "Internationale Arbeitsgemeinschaft " * 5  # 175 characters: two lines
    for number in range(130):
        make_signature(letter, country="DE", name=f"Gruppe {number:03d}", commit=False)
    make_signature(letter, country="DE", name=long_name.strip())
    reader = pypdf.PdfReader(io.BytesIO(exported(letter, "pdf", layout="submission")))
    assert len(reader.pages) >= 3
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert f"1 / {len(reader.pages)}" in text
    assert "Gruppe 000" in text and "Gruppe 129" in text
    # The long name wraps instead of running off the page; every word is still there.
    assert " ".join(text.split()).count("Internationale Arbeitsgemeinschaft") == 5
    assert long_name.strip() not in text.splitlines()


def test_pdf_characters_the_font_lacks_show_as_replacement(app):
    letter = make_letter()
    make_signature(letter, country="CN", name="中文 Group")
    lines = _pdf_lines(exported(letter, "pdf"))
    assert "\ufffd\ufffd Group" in lines


def test_pdf_without_fonts_says_what_to_install(app, tmp_path):
    app.config["PDF_FONT_DIR"] = str(tmp_path)
    with pytest.raises(FontMissing, match="fonts-dejavu-core"):
        exported(make_letter(), "pdf")


def test_individual_lines_in_documents(app):
    letter = make_letter()
    make_signature(letter, country="FR", name="Ada Lovelace", affiliation="<i>Analyst</i>",
                   signer_type=INDIVIDUAL)
    assert ("Normal", "Ada Lovelace, <i>Analyst</i>") in _docx(exported(letter, "docx"))
    assert ("p", "Ada Lovelace, <i>Analyst</i>") in _odt(exported(letter, "odt"))
