"""Word (python-docx): the default template's Title and Heading styles, one paragraph a name.

The template is US Letter in en-US: the page and the language come from the document instead.

python-docx's add_paragraph() walks the body on every call (quadratic: minutes for 100k
names), so paragraphs are appended as XML elements, which the same library reads back.
"""
from __future__ import annotations

from typing import BinaryIO

import docx
from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Mm
from lxml import etree

from petition.exporting.document import Document, Kind, PageSetup, blocks

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_STYLE_IDS = {Kind.TITLE: "Title", Kind.SECTION: "Heading1", Kind.GROUP: "Heading2"}
_P, _PPR, _PSTYLE, _R, _RPR, _I, _T = (
    qn(tag) for tag in ("w:p", "w:pPr", "w:pStyle", "w:r", "w:rPr", "w:i", "w:t")
)
_VAL = qn("w:val")
_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def _paragraph(body: etree._Element, kind: Kind, text: str) -> None:
    paragraph = etree.SubElement(body, _P)
    style = _STYLE_IDS.get(kind)
    if style:
        etree.SubElement(etree.SubElement(paragraph, _PPR), _PSTYLE).set(_VAL, style)
    run = etree.SubElement(paragraph, _R)
    if kind is Kind.NOTE:
        etree.SubElement(etree.SubElement(run, _RPR), _I)
    node = etree.SubElement(run, _T)
    node.text = text  # lxml escapes; text.clean() already removed what XML forbids
    node.set(_SPACE, "preserve")


def _page(word: WordDocument, page: PageSetup) -> None:
    section = word.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(page.width), Mm(page.height)
    section.top_margin, section.bottom_margin = Mm(page.top), Mm(page.bottom)
    section.left_margin, section.right_margin = Mm(page.left), Mm(page.right)


def _child(parent: etree._Element, tag: str) -> etree._Element:
    node = parent.find(qn(tag))
    return node if node is not None else etree.SubElement(parent, qn(tag))


def _language(word: WordDocument, tag: str) -> None:
    """Declare `tag` as the language of every run, through the document defaults.

    No style of the template sets its own w:lang and no run here does, so all text inherits
    it; Word shows it in the status bar and checks spelling with it.
    """
    defaults = _child(_child(_child(word.styles.element, "w:docDefaults"), "w:rPrDefault"), "w:rPr")
    _child(defaults, "w:lang").set(_VAL, tag)
    # Which language the theme fonts are picked for; the template says en-US there too.
    _child(word.settings.element, "w:themeFontLang").set(_VAL, tag)


def render(document: Document, out: BinaryIO) -> None:
    """Write `document` as a .docx file."""
    word = docx.Document()
    properties = word.core_properties
    properties.title = document.title[:255]
    properties.language = document.language.tag
    properties.author = ""  # the template says "python-docx"
    properties.created = properties.modified = document.exported_at
    _page(word, document.page)
    _language(word, document.language.tag)
    body = word.element.body
    section_properties = body.sectPr
    body.remove(section_properties)  # page settings must stay the body's last child
    for kind, text in blocks(document):
        _paragraph(body, kind, text)
    body.append(section_properties)
    word.save(out)
