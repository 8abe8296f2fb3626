"""One row per confirmed signature, for the organiser's spreadsheets (csv, xlsx).

Every moderation state is included, with its column, so held organisations can be reviewed.
Rows come in the order of the list (grouping.entry_order), the unlisted after the listed in
random order: sorting by a hidden name would tell where it falls in the alphabet. The `id`
column is the signature's random public id, never the sequential row id.
Individuals who asked to appear as initials or not at all keep that choice here too (name
as listed, affiliation blank) unless the organiser asks for `private` rows, which decrypt
their real name and affiliation (hidden_names): a spreadsheet gets forwarded, and these
signatories may be at risk. No email column:
addresses are never stored in plain text, and are deleted once a signature is confirmed.
The unlisted ("counted only") keep only the UTC day they signed and confirmed, never the
time: a time to the second would match the row to the confirmation mail someone received.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from sqlalchemy import select

from petition import countries
from petition.collation import cyrillic_first, sort_key
from petition.exporting.grouping import entry_order, listed_name
from petition.extensions import db
from petition.models import CONFIRMED, FULL, ORGANIZATION, Letter, Signature, list_key
from petition.privacy import hidden_names

COLUMNS = (
    "id", "type", "name", "affiliation", "country", "country_name", "display", "listed_as",
    "moderation", "source", "language", "signed_at", "confirmed_at",
)
# What people typed, or labels organisers typed: the cells that need text.cell(). The others
# hold numbers, times or the app's own codes.
TEXT_COLUMNS = frozenset({"name", "affiliation", "country_name", "listed_as"})
TIME_COLUMNS = frozenset({"signed_at", "confirmed_at"})


def _fetch(letter_id: int) -> Sequence[tuple]:
    table = Signature.__table__
    query = select(
        table.c.public_id, table.c.signer_type, table.c.name, table.c.affiliation,
        table.c.country, table.c.display, table.c.moderation, table.c.source, table.c.lang,
        table.c.created_at, table.c.confirmed_at, table.c.collation_key,
        table.c.private_encrypted,
    ).where(
        table.c.letter_id == letter_id, table.c.status == CONFIRMED
    ).order_by(
        # The database sorts by the stored keys (plain byte order in SQLite and PostgreSQL)
        # far faster than Python, so the sort in Python below finds runs already in order;
        # the unlisted (no key) last, by random public id.
        table.c.signer_type, table.c.country, table.c.collation_key.is_(None),
        table.c.collation_key, table.c.public_id,
    )
    result = db.session.connection().execute(query)
    try:
        return result.cursor.fetchall()  # plain tuples: see collect._rows
    finally:
        result.close()


def timestamp(value: str | dt.date | None) -> dt.date | None:
    """A stored time as a datetime: SQLite's driver returns text, PostgreSQL's a datetime.
    A day (an unlisted row's, see day()) stays a date."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.datetime.fromisoformat(value)


def day(value: str | dt.datetime | None) -> dt.date | None:
    """The UTC day of a stored time (stored times are naive UTC), without the time of day."""
    if not value:
        return None
    if isinstance(value, str):  # SQLite: "2026-05-21 09:30:00.123456"
        return dt.date.fromisoformat(value[:10])
    return value.date()


def iso(value: str | dt.date | None) -> str:
    """"2026-05-21T09:30:00Z" (stored times are naive UTC); a day: "2026-05-21"."""
    if not value:
        return ""
    if isinstance(value, str):  # SQLite: "2026-05-21 09:30:00.123456", no need to parse
        return f"{value[:10]}T{value[11:19]}Z"
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    return value.isoformat(timespec="seconds") + "Z"


def _runs(rows: Sequence[tuple]) -> dict[tuple[str, str], list[tuple]]:
    """Consecutive rows of one (signer type, country), as the query ordered them."""
    runs: dict[tuple[str, str], list[tuple]] = {}
    current: tuple[str, str] | None = None
    run: list[tuple] = []  # replaced by the first row's run before any append
    for row in rows:
        if (row[1], row[4]) != current:
            current = (row[1], row[4])
            run = runs.setdefault(current, [])
        run.append(row)
    return runs


def signature_rows(letter: Letter, lang: str, private: bool = False) -> Iterator[tuple]:
    """Tuples in COLUMNS order, in the order of the list: organisations, then individuals,
    by heading, by name. Text is raw: formats apply text.cell(); times are raw too (iso()),
    except an unlisted row's, which are its UTC days (dates, see day()).
    """
    runs = _runs(_fetch(letter.id))
    overrides = letter.labels_for(lang)
    labels = {code: countries.display_name(code, lang, overrides) for _, code in runs}
    order = sorted(runs, key=lambda kind_code: (
        kind_code[0] != ORGANIZATION, countries.group_rank(kind_code[1]),
        sort_key(labels[kind_code[1]], lang), kind_code[1],
    ))
    by_script = cyrillic_first(lang)
    # A petition lists nobody: every row is counted only, and names (organisations' too)
    # are in private rows alone.
    petition = letter.is_petition
    for kind_code in order:
        run = runs[kind_code]
        listed = {row[0]: None if petition else _listed(row) for row in run}
        # Stable, and nearly free on the database's order: ties and the Russian reader's
        # Cyrillic-first are settled exactly as on the page.
        run.sort(key=lambda row: _order(row, listed[row[0]], by_script))
        label = labels[kind_code[1]]
        for (public_id, signer_type, name, affiliation, country, display, moderation, source,
             language, created_at, confirmed_at, _key, private_encrypted) in run:
            line = listed[public_id]
            if private:
                name, affiliation = hidden_names.unseal(name, affiliation, private_encrypted)
            elif petition:
                name, affiliation = "", None
            elif signer_type != ORGANIZATION and display != FULL:
                # Stored so already (hidden_names); said again for rows written around it.
                name, affiliation = line or "", None
            if line is None:
                # Counted only: rounded to the UTC date, so that the row cannot be matched
                # to the time of a confirmation mail (private rows too: such a file still
                # gets forwarded). Listed rows keep the second.
                created_at, confirmed_at = day(created_at), day(confirmed_at)
            yield (
                public_id, signer_type, name, affiliation or "", country, label, display,
                line or "", moderation, source, language, created_at, confirmed_at,
            )


def _listed(row: tuple) -> str | None:
    signer_type, name, affiliation, display = row[1], row[2], row[3], row[5]
    if signer_type == ORGANIZATION:
        return name
    return listed_name(signer_type, name, affiliation, display)


def _order(row: tuple, line: str | None, by_script: bool) -> tuple:
    if line is None:
        return (1, (), row[0])  # unlisted: after the listed, by random public id
    key = row[11] if row[11] is not None else list_key(row[1], row[2], row[5])
    assert key is not None  # a listed row (line is not None) has a sort key
    return (0, entry_order(line, key, by_script), "")
