"""docx, odt and pdf print on the same page (A4, 2 cm margins) and declare the export's language.

Each file is opened with its own reader (python-docx, the ODF package's XML, pypdf) and the
page size, margins and language are read back from what a word processor would read.
"""
from __future__ import annotations

import io
import zipfile

import docx
import pypdf
import pytest
from docx.oxml.ns import qn
from lxml import etree

from petition.exporting.document import A4, document_language

from .export_helpers import exported
from .factories import make_letter, make_signature

LETTERS = {
    "en": ("Free the mathematician", "We demand his release.", "Memorial"),
    "fr": ("Libérez le mathématicien", "Nous demandons sa libération.", "Émile Zola"),
    "ru": ("Свободу математику", "Мы требуем его освобождения.", "Мемориал"),
}
TAGS = {"en": "en-GB", "fr": "fr-FR", "ru": "ru-RU"}
MM_PER_PT = 25.4 / 72
ODF = {
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
}


def _export(lang: str, fmt: str) -> bytes:
    title, body, name = LETTERS[lang]
    letter = make_letter(lang=lang, title=title, body=body)
    make_signature(letter, country="DE", name=name)
    return exported(letter, fmt, lang, "submission")


@pytest.mark.parametrize("lang", sorted(LETTERS))
def test_docx_is_a4_in_the_export_language(app, lang):
    data = _export(lang, "docx")
    word = docx.Document(io.BytesIO(data))
    section = word.sections[0]
    # Word stores twentieths of a point: 210 mm comes back as 210.008 mm.
    assert section.page_width.mm == pytest.approx(210, abs=0.05)
    assert section.page_height.mm == pytest.approx(297, abs=0.05)
    for margin in (section.top_margin, section.bottom_margin,
                   section.left_margin, section.right_margin):
        assert margin.mm == pytest.approx(20, abs=0.05)
    styles = word.styles.element
    languages = styles.findall(".//" + qn("w:lang"))
    # One declaration, the document default: no style (hence no run) says otherwise.
    assert len(languages) == 1
    assert languages[0].getparent().getparent().tag == qn("w:rPrDefault")
    assert languages[0].get(qn("w:val")) == TAGS[lang]
    assert word.settings.element.find(qn("w:themeFontLang")).get(qn("w:val")) == TAGS[lang]
    assert word.core_properties.language == TAGS[lang]
    # And no paragraph run carries a language of its own that would beat the default.
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert b"w:lang" not in package.read("word/document.xml")
    assert LETTERS[lang][2] in [paragraph.text for paragraph in word.paragraphs]


@pytest.mark.parametrize("lang", sorted(LETTERS))
def test_odt_is_a4_in_the_export_language(app, lang):
    with zipfile.ZipFile(io.BytesIO(_export(lang, "odt"))) as package:
        styles = etree.fromstring(package.read("styles.xml"))
        meta = etree.fromstring(package.read("meta.xml"))
    # The page LibreOffice uses for text without a page style of its own: "Standard".
    master = styles.find(".//style:master-page[@style:name='Standard']", ODF)
    layout_name = master.get(f"{{{ODF['style']}}}page-layout-name")
    layout = styles.find(f".//style:page-layout[@style:name='{layout_name}']", ODF)
    properties = {
        etree.QName(key).localname: value
        for key, value in layout.find("style:page-layout-properties", ODF).attrib.items()
    }
    assert properties["page-width"] == "210mm" and properties["page-height"] == "297mm"
    for side in ("top", "bottom", "left", "right"):
        assert properties[f"margin-{side}"] == "20mm"
    text = styles.find(
        ".//style:default-style[@style:family='paragraph']/style:text-properties", ODF
    )
    language, country = TAGS[lang].split("-")
    assert text.get(f"{{{ODF['fo']}}}language") == language
    assert text.get(f"{{{ODF['fo']}}}country") == country
    assert meta.find(".//dc:language", ODF).text == TAGS[lang]


def _text_positions(page: pypdf.PageObject) -> list[tuple[float, float, str]]:
    """(x, y) in points from the page's lower left, of each piece of text pypdf reads."""
    found = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            found.append((tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5], text.strip()))

    page.extract_text(visitor_text=visit)
    return found


@pytest.mark.parametrize("lang", sorted(LETTERS))
def test_pdf_is_a4_in_the_export_language(app, lang):
    reader = pypdf.PdfReader(io.BytesIO(_export(lang, "pdf")))
    assert reader.trailer["/Root"]["/Lang"] == TAGS[lang]
    page = reader.pages[0]
    box = page.mediabox
    assert float(box.width) * MM_PER_PT == pytest.approx(210, abs=0.05)
    assert float(box.height) * MM_PER_PT == pytest.approx(297, abs=0.05)
    positions = _text_positions(page)
    body = [(x, y) for x, y, text in positions if " / " not in text]  # not the page number
    # Text starts at the left margin and its first line just under the top one.
    assert min(x for x, _ in body) * MM_PER_PT == pytest.approx(A4.left, abs=0.1)
    top_baseline = (float(box.height) - max(y for _, y in body)) * MM_PER_PT
    assert A4.top < top_baseline < A4.top + 8  # one 16 pt title line below the margin
    number = [y for x, y, text in positions if " / " in text]
    assert number and number[0] * MM_PER_PT < A4.bottom  # in the bottom margin


def test_language_tags_for_other_locales():
    # A region the locale names wins; otherwise the likely one for the language and script.
    assert document_language("pt_BR").tag == "pt-BR"
    assert document_language("de").tag == "de-DE"
    assert document_language("sr_Latn").tag == "sr-Latn-RS"
    assert document_language("zh_Hant").tag == "zh-Hant-TW"
    # Esperanto's likely region is the world ("001"), which ODF's fo:country cannot say.
    assert document_language("eo").country is None and document_language("eo").tag == "eo"
