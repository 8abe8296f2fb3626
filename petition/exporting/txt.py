"""Plain text: the press layout of ARCHITECTURE.md, UTF-8, LF line ends."""
from __future__ import annotations

from typing import BinaryIO

from .document import Document, blocks, text_lines

MEDIA_TYPE = "text/plain; charset=utf-8"


def render(document: Document, out: BinaryIO) -> None:
    """Write `document` as plain text."""
    out.write(("\n".join(text_lines(blocks(document))) + "\n").encode("utf-8"))
