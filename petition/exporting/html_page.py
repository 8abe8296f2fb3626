"""A standalone HTML page: escaped text, no script, no style from elsewhere."""
from __future__ import annotations

from collections.abc import Iterator
from html import escape
from typing import BinaryIO

from petition.exporting.document import Document, Kind, blocks, press_chunks

MEDIA_TYPE = "text/html; charset=utf-8"
_TAGS = {
    Kind.TITLE: "h1",
    Kind.SECTION: "h2",
    Kind.GROUP: "h3",
    Kind.PARAGRAPH: "p",
    Kind.NOTE: 'p class="unlisted"',
    Kind.META: 'p class="meta"',
}


def _body(document: Document) -> Iterator[str]:
    in_list = False
    for kind, content in blocks(document):
        if kind is Kind.NAME:
            if not in_list:
                yield "<ul>"
                in_list = True
            yield f"<li>{escape(content)}</li>"
            continue
        if in_list:
            yield "</ul>"
            in_list = False
        tag = _TAGS[kind]
        yield f"<{tag}>{escape(content)}</{tag.split()[0]}>"
    if in_list:
        yield "</ul>"


def _head(document: Document) -> str:
    lang = document.lang.replace("_", "-")  # BCP 47, as HTML wants: pt_BR → pt-BR
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(document.title)}</title>\n</head>\n<body>"
    )


def render(document: Document, out: BinaryIO) -> None:
    """Write `document` as an HTML page."""
    if not document.is_submission:
        out.write(press(document).encode("utf-8"))
        return
    parts = [_head(document), *_body(document), "</body>\n</html>\n"]
    out.write("\n".join(parts).encode("utf-8"))


def press(document: Document) -> str:
    """The page of the press layout, exactly as render() writes it through _body(), a
    group's names escaped and tagged in one go (names are single lines: text.clean)."""
    parts = [_head(document)]
    for kind, heading, names, note in press_chunks(document.sections, document.lang):
        tag = "h2" if kind == "section" else "h3"
        parts.append(f"<{tag}>{escape(heading)}</{tag}>")
        if names:
            parts.append("<ul>\n<li>" + escape("\n".join(names)).replace("\n", "</li>\n<li>")
                         + "</li>\n</ul>")
        if note:
            parts.append(f'<p class="unlisted">{escape(note)}</p>')
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)
