"""Plain text: the press layout (docs/architecture.md), UTF-8, LF line ends."""
from __future__ import annotations

from typing import BinaryIO

from .document import Document, blocks, text_lines

MEDIA_TYPE = "text/plain; charset=utf-8"


def render(document: Document, out: BinaryIO) -> None:
    """Write `document` as plain text."""
    # Every line ends with LF, so the press file hashes to the digest a submission prints.
    out.write("".join(f"{line}\n" for line in text_lines(blocks(document))).encode("utf-8"))
