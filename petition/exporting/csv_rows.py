"""CSV for spreadsheets: UTF-8 with a byte-order mark (Excel needs it to read accents).

Every text cell goes through text.cell(): one line, and never a formula. Every cell is quoted,
so that a reader splitting on "," keeps a name with a ";" whole; and text.cell() guards what
follows a ";" too, for a French or Russian spreadsheet that splits on ";" whatever the quotes.
"""
from __future__ import annotations

import csv
import io
from typing import BinaryIO

from petition import text
from petition.exporting.document import Document
from petition.exporting.rows import COLUMNS, iso, signature_rows

MEDIA_TYPE = "text/csv; charset=utf-8"


def render(document: Document, out: BinaryIO) -> None:
    """Write one row per confirmed signature."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(COLUMNS)
    cell = text.cell
    labels: dict[str, str] = {}
    for (id_, kind, name, affiliation, country, country_name, display, listed_as, moderation,
         source, language, signed_at, confirmed_at) in signature_rows(
             document.letter, document.lang, document.private):
        name_cell = cell(name)
        label = labels.get(country_name)
        if label is None:
            label = labels[country_name] = cell(country_name)
        writer.writerow((
            id_, kind, name_cell, cell(affiliation) if affiliation else "", country, label, display,
            name_cell if listed_as == name else cell(listed_as), moderation, source, language,
            iso(signed_at), iso(confirmed_at),
        ))
    out.write(buffer.getvalue().encode("utf-8-sig"))
