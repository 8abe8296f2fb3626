"""JSON: the grouped list as data (sections, groups, names), plus the submission details."""
from __future__ import annotations

import datetime as dt
import json
from typing import BinaryIO

from petition.exporting.document import Document, body_paragraphs, section_title

MEDIA_TYPE = "application/json"


def data(document: Document) -> dict:
    """The document as JSON-ready data."""
    result = {
        "slug": document.letter.slug,
        "lang": document.lang,
        "layout": document.layout,
        "title": document.title,
        "total": document.total,
        "sections": [
            {
                "signer_type": section.signer_type,
                "title": section_title(section.signer_type, document.lang),
                "count": section.count,
                "groups": [
                    {
                        "code": group.code,
                        "label": group.label,
                        "count": group.count,
                        "names": group.names,
                        "unlisted": group.unlisted,
                    }
                    for group in section.groups
                ],
            }
            for section in document.sections
        ],
    }
    if document.is_submission:
        letter = document.letter
        result.update(
            text=body_paragraphs(document.body),
            place=document.place,
            date=letter.date.isoformat() if letter.date else None,
            exported_at=document.exported_at.replace(tzinfo=dt.UTC).isoformat(timespec="seconds"),
            sha256=document.digest,
        )
    return result


def render(document: Document, out: BinaryIO) -> None:
    """Write the document as UTF-8 JSON."""
    out.write(json.dumps(data(document), ensure_ascii=False, indent=1).encode("utf-8"))
    out.write(b"\n")
