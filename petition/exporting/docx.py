"""Word (python-docx): the default template's Title and Heading styles, one paragraph a name.

python-docx's add_paragraph() walks the body on every call (quadratic: minutes for 100k
names), so paragraphs are appended as XML elements, which the same library reads back.
"""
from __future__ import annotations

from typing import BinaryIO

import docx
from docx.oxml.ns import qn
from lxml import etree

from .document import Document, Kind, blocks

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


def render(document: Document, out: BinaryIO) -> None:
    """Write `document` as a .docx file."""
    word = docx.Document()
    properties = word.core_properties
    properties.title = document.title[:255]
    properties.language = document.lang
    properties.author = ""  # the template says "python-docx"
    properties.created = properties.modified = document.exported_at
    body = word.element.body
    section_properties = body.sectPr
    body.remove(section_properties)  # page settings must stay the body's last child
    for kind, text in blocks(document):
        _paragraph(body, kind, text)
    body.append(section_properties)
    word.save(out)
