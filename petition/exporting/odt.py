"""OpenDocument text (odfpy): headings with outline levels, one paragraph a name.

The page is the document's (an A4 "Standard" master page, the one LibreOffice applies by
default), and the language is set on the default paragraph style, which every style here
inherits: without it LibreOffice takes the reader's own locale.
"""
from __future__ import annotations

from typing import BinaryIO

from odf.dc import Language, Title
from odf.opendocument import OpenDocumentText
from odf.style import (
    DefaultStyle,
    MasterPage,
    PageLayout,
    PageLayoutProperties,
    ParagraphProperties,
    Style,
    TextProperties,
)
from odf.text import H, P

from petition.exporting.document import Document, DocumentLanguage, Kind, PageSetup, blocks

MEDIA_TYPE = "application/vnd.oasis.opendocument.text"


def _styles(odt: OpenDocumentText) -> dict[Kind, Style]:
    def add(name: str, size: str, bold: bool = False, italic: bool = False,
            space: str = "0cm") -> Style:
        style = Style(name=name, family="paragraph")
        properties = {"fontsize": size}
        if bold:
            properties["fontweight"] = "bold"
        if italic:
            properties["fontstyle"] = "italic"
        style.addElement(TextProperties(**properties))
        style.addElement(ParagraphProperties(margintop=space, marginbottom="0.1cm"))
        odt.styles.addElement(style)
        return style

    return {
        Kind.TITLE: add("Title", "18pt", bold=True),
        Kind.SECTION: add("Heading 1", "15pt", bold=True, space="0.5cm"),
        Kind.GROUP: add("Heading 2", "13pt", bold=True, space="0.4cm"),
        Kind.PARAGRAPH: add("Text body", "11pt", space="0.2cm"),
        Kind.NAME: add("Signatory", "11pt"),
        Kind.NOTE: add("Unlisted", "11pt", italic=True),
        Kind.META: add("Meta", "9pt", space="0.2cm"),
    }


def _mm(value: float) -> str:
    return f"{value:g}mm"


def _page(odt: OpenDocumentText, page: PageSetup) -> None:
    # odfpy writes an automatic style into styles.xml when a master page uses it.
    layout = PageLayout(name="Page")
    layout.addElement(PageLayoutProperties(
        pagewidth=_mm(page.width), pageheight=_mm(page.height), printorientation="portrait",
        margintop=_mm(page.top), marginbottom=_mm(page.bottom),
        marginleft=_mm(page.left), marginright=_mm(page.right),
    ))
    odt.automaticstyles.addElement(layout)
    odt.masterstyles.addElement(MasterPage(name="Standard", pagelayoutname=layout))


def _language(odt: OpenDocumentText, language: DocumentLanguage) -> None:
    properties = {"language": language.language, "country": language.country or "none"}
    if language.script:
        properties["script"] = language.script
    default = DefaultStyle(family="paragraph")
    default.addElement(TextProperties(**properties))
    odt.styles.addElement(default)


def render(document: Document, out: BinaryIO) -> None:
    """Write `document` as an .odt file."""
    odt = OpenDocumentText()
    odt.meta.addElement(Title(text=document.title))
    odt.meta.addElement(Language(text=document.language.tag))
    _page(odt, document.page)
    _language(odt, document.language)
    styles = _styles(odt)
    levels = {Kind.TITLE: 1, Kind.SECTION: 1, Kind.GROUP: 2}
    add = odt.text.addElement
    for kind, text in blocks(document):
        if kind in levels:
            add(H(outlinelevel=levels[kind], stylename=styles[kind], text=text))
        else:
            add(P(stylename=styles[kind], text=text))
    odt.write(out)
