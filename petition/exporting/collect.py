"""The hot loop of a list's build: every public signature of a letter read, turned into the
line the list shows, and put in its (signer type, country) bucket in reading order.

A letter of 100,000 signatures runs the loop 100,000 times after every change, so it is
written for speed: the database says in one small integer what kind of line a row makes
(no string per row to allocate and compare for the signer type and display), sends no name
or key for those not listed, and rows come a few thousand at a time (all at once would add
~30 MB to the build's peak, which Python rarely gives back to the system).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Select, case, func, literal, null, select

from petition.collation import cyrillic_first, is_cyrillic, stored_key
from petition.extensions import db
from petition.models import (
    FULL,
    INDIVIDUAL,
    INITIALS,
    ORGANIZATION,
    PETITION,
    Letter,
    Signature,
    initials,
)
from petition.text import clean

_BATCH = 5000
# A build in a thread of its own (press_cache) sets `pause` here: called between batches,
# it lets the requests its process serves meanwhile go first.
between_batches = threading.local()
# What a row makes: a name line (organisations and individuals shown in full), initials,
# or a count only (individuals not listed).
_ORGANIZATION, _FULL, _INITIALS, _UNLISTED = 0, 1, 2, 3


class Bucket:
    """One (signer type, country) group being collected: entries (key, line) to sort, those
    that go after them (Latin names for a Russian reader), and the unlisted count."""

    __slots__ = ("first", "then", "unlisted")

    def __init__(self) -> None:
        self.first: list[tuple[bytes, str]] = []
        self.then: list[tuple[bytes, str]] = []
        self.unlisted = 0

    def names(self) -> list[str]:
        """The lines in reading order: grouping.entry_order(), with the script flag as two
        lists (the flag in every tuple would make each comparison of the sort compare it)."""
        self.first.sort()
        self.then.sort()
        return [line for _, line in self.first] + [line for _, line in self.then]


def _rows(letter_id: int, signer_type: str | None) -> Iterator[tuple]:
    """(what, country, name, affiliation, key) of every public signature, `what` one of the
    codes above; name and key None for the unlisted, affiliation None unless shown."""
    table = Signature.__table__
    what = case((table.c.signer_type == ORGANIZATION, literal(_ORGANIZATION)),
                (table.c.display == FULL, literal(_FULL)),
                (table.c.display == INITIALS, literal(_INITIALS)), else_=literal(_UNLISTED))
    listed = (table.c.signer_type == ORGANIZATION) | table.c.display.in_((FULL, INITIALS))
    query = select(
        what,
        table.c.country,
        case((listed, table.c.name), else_=null()),
        case(((table.c.signer_type != ORGANIZATION) & (table.c.display == FULL),
               table.c.affiliation), else_=null()),
        case((listed, table.c.collation_key), else_=null()),
    ).where(table.c.letter_id == letter_id, Signature.is_public)
    if signer_type is not None:
        query = query.where(table.c.signer_type == signer_type)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        yield from _server_side(connection, query)
        return
    result = connection.execute(query)
    try:
        # Plain tuples from the driver: Row objects would add ~2 µs a row, 0.2 s for 100k.
        # Safe here: both drivers return these types (int, str, bytes) unconverted.
        while rows := result.cursor.fetchmany(_BATCH):
            yield from rows
            if (pause := getattr(between_batches, "pause", None)) is not None:
                pause()
    finally:
        result.close()


def _server_side(connection: Connection, query: Select[Any]) -> Iterator[tuple]:
    """The rows through a server-side cursor of the session's own connection (in its
    transaction): a client cursor would hold all 100,000 rows in libpq's memory before the
    first fetch, ~20 MB more at the build's peak. (SQLAlchemy's stream_results would do it,
    but its buffer takes rows from under the plain cursor read here.)"""
    compiled = query.compile(dialect=connection.dialect,
                             compile_kwargs={"render_postcompile": True})
    driver = connection.connection.dbapi_connection
    assert driver is not None  # the session's connection, open in its transaction
    cursor = driver.cursor(name="petition_press_rows")
    try:
        cursor.execute(str(compiled), compiled.params)
        while rows := cursor.fetchmany(_BATCH):
            yield from rows
            if (pause := getattr(between_batches, "pause", None)) is not None:
                pause()
    finally:
        cursor.close()


def collect(letter_id: int, lang: str,
            signer_type: str | None = None) -> dict[tuple[str, str], Bucket]:
    """Buckets per (signer type, country) of the letter's public signatures (of one signer
    type if given); the lines as grouping.listed_name() writes them.

    A petition's buckets hold counts only, organisations' too: every public reader of a
    list (page, country pages, name search, press files, exports that are not private)
    goes through here, so no name of a petition can reach one of them."""
    if _is_petition(letter_id):
        return _counted_only(letter_id, signer_type)
    by_script = cyrillic_first(lang)
    organizations: dict[str, Bucket] = {}
    individuals: dict[str, Bucket] = {}
    for what, country, name, affiliation, key in _rows(letter_id, signer_type):
        buckets = organizations if what == _ORGANIZATION else individuals
        bucket = buckets.get(country)
        if bucket is None:
            bucket = buckets[country] = Bucket()
        if what == _UNLISTED:
            bucket.unlisted += 1
            continue
        if what == _INITIALS:
            line = initials(clean(name))
            if key is None:  # a row written around the ORM (raw SQL): compute it now
                key = stored_key(line)
        else:
            line = clean(name)
            if affiliation:
                affiliation = clean(affiliation)
                if affiliation:
                    line = f"{line}, {affiliation}"
            if key is None:
                key = stored_key(name)
        if not by_script or is_cyrillic(line):
            bucket.first.append((key, line))
        else:
            bucket.then.append((key, line))
    found = {(ORGANIZATION, country): bucket for country, bucket in organizations.items()}
    found.update({(INDIVIDUAL, country): bucket for country, bucket in individuals.items()})
    return found


def _is_petition(letter_id: int) -> bool:
    # Read here rather than passed in: the kind never changes once created, and a caller
    # that forgot to pass it must not be able to list a petition's names.
    return db.session.scalar(select(Letter.kind).where(Letter.id == letter_id)) == PETITION


def _counted_only(letter_id: int, signer_type: str | None) -> dict[tuple[str, str], Bucket]:
    """A petition's buckets: every public signature counted, none named; no name is read."""
    table = Signature.__table__
    query = (select(table.c.signer_type, table.c.country, func.count())
             .where(table.c.letter_id == letter_id, Signature.is_public)
             .group_by(table.c.signer_type, table.c.country))
    if signer_type is not None:
        query = query.where(table.c.signer_type == signer_type)
    found: dict[tuple[str, str], Bucket] = {}
    for kind, country, count in db.session.execute(query):
        bucket = found[(kind, country)] = Bucket()
        bucket.unlisted = int(count)
    return found
