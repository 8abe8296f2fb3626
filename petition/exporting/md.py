"""Markdown (CommonMark): headings, one list item per name; names escaped to stay text."""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from petition import text
from petition.exporting.document import Document, Kind, blocks, press_chunks

MEDIA_TYPE = "text/markdown; charset=utf-8"
_PREFIX = {Kind.TITLE: "# ", Kind.SECTION: "## ", Kind.GROUP: "### "}


def lines(document: Document) -> Iterator[str]:
    """The Markdown source, line by line."""
    previous = None
    for kind, content in blocks(document):
        escaped = text.markdown(content)
        # Names are one list; everything else is its own block, set off by a blank line.
        if previous is not None and not (kind is previous is Kind.NAME):
            yield ""
        if kind is Kind.NAME:
            yield f"- {escaped}"
        elif kind is Kind.NOTE:
            yield f"*{escaped}*"
        else:
            yield _PREFIX.get(kind, "") + escaped
        previous = kind


def render(document: Document, out: BinaryIO) -> None:
    """Write `document` as Markdown."""
    if not document.is_submission:
        out.write(press(document).encode("utf-8"))
        return
    out.write(("\n".join(lines(document)) + "\n").encode("utf-8"))


def press(document: Document) -> str:
    """The press layout, exactly as lines() writes it, a group's names escaped in one go
    (names are single lines: text.clean made sure)."""
    parts = []
    for kind, heading, names, note in press_chunks(document.sections, document.lang):
        parts.append(_PREFIX[Kind.SECTION if kind == "section" else Kind.GROUP]
                     + text.markdown(heading))
        if names:
            parts.append("- " + text.markdown_lines("\n".join(names)).replace("\n", "\n- "))
        if note:
            parts.append(f"*{text.markdown(note)}*")
    return "\n\n".join(parts) + "\n"
