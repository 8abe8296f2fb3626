"""Public counts: confirmed signatures that moderation lets through (Signature.is_public).

Kept per letter, country and signer type in letter_count and changed in the transaction of
every change to what the public sees (as e-petitions' journals do): the page, the JSON and
the index read a few rows per letter, never a count over its signatures. `changed()` is the
one way to write them; `rebuild()` recounts from the rows and reports any drift.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import cast

from sqlalchemy import Integer, String, Table, bindparam, case, func, select, text, update
from sqlalchemy.sql.elements import TextClause

from petition.core.pipelining import Together, written_here
from petition.extensions import db
from petition.letters import milestones
from petition.letters.operations import bump_list_version
from petition.models import (
    ANONYMOUS,
    INDIVIDUAL,
    ORGANIZATION,
    PUBLIC_MODERATION,
    Letter,
    LetterCount,
    Signature,
    new_list_token,
    utcnow,
)

# What one public signature adds to its letter's counts: (country, signer type, listed).
Entry = tuple[str, str, bool]


def is_listed(signer_type: str, display: str) -> bool:
    """Whether the list names the signatory (by name or initials) or only counts them."""
    return signer_type == ORGANIZATION or display != ANONYMOUS


def entry(signature: Signature) -> Entry | None:
    """What `signature` adds to the public counts as it stands now; None if not public."""
    if not signature.is_public:
        return None
    return (signature.country, signature.signer_type,
            is_listed(signature.signer_type, signature.display))


def entry_of(columns: dict) -> Entry:
    """The entry of a public signature given as stored columns (an UPDATE or bulk insert)."""
    return (columns["country"], columns["signer_type"],
            is_listed(columns["signer_type"], columns["display"]))


def changed(letter: Letter, removed: Iterable[Entry | None] = (),
            added: Iterable[Entry | None] = ()) -> None:
    """Bump the letter's list version and move its counts from `removed` to `added`, in the
    caller's transaction. None entries (not public) are skipped. The organisations' version
    moves too when an entry is an organisation's."""
    deltas: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    organizations = False  # touched, even when their counts do not move (a corrected name)
    for sign, entries in ((-1, removed), (1, added)):
        for item in entries:
            if item is not None:
                country, signer_type, listed = item
                deltas[(country, signer_type)][0 if listed else 1] += sign
                organizations = organizations or signer_type != INDIVIDUAL
    bump_list_version(letter, organizations=organizations)
    deltas = {key: value for key, value in deltas.items() if value != [0, 0]}
    if not deltas:
        return
    # The letter's row first (the bump, flushed now), then its count rows in one order:
    # every writer of a letter's counts holds that row's lock before touching them, so two
    # transactions never wait on each other's count rows (no deadlock on PostgreSQL).
    db.session.flush()
    for (country, signer_type), (listed_delta, unlisted_delta) in sorted(deltas.items()):
        _add(letter.id, country, signer_type, listed_delta, unlisted_delta)
    # An approval or an import may cross a milestone too (a confirmation: confirmed_here()).
    milestones.count_went_up(letter, sum(sum(delta) for delta in deltas.values()))


def confirmed_here(together: Together, letter: Letter, signature_id: int, added: Entry) -> None:
    """changed(letter, added=[added]) for the signature this transaction has just confirmed,
    sent with the commit before the confirmation is answered: the count moves only if the
    row was confirmed here, which the server checks (pipelining.written_here)."""
    country, signer_type, listed = added
    # The letter's row first, as changed() does (the lock order).
    bump_list_version(letter, organizations=signer_type != INDIVIDUAL, together=together)
    together.execute(_upsert_if_written_here(together.dialect),
                     {"letter_id": letter.id, "country": country, "signer_type": signer_type,
                      "listed": int(listed), "unlisted": int(not listed),
                      "signature_id": signature_id})


_PUBLIC_SQL = ", ".join(f"'{state}'" for state in PUBLIC_MODERATION)


@cache
def _upsert_if_written_here(dialect: str) -> TextClause:
    return text(
        "INSERT INTO letter_count (letter_id, country, signer_type, listed, unlisted)"
        " SELECT :letter_id, :country, :signer_type, :listed, :unlisted FROM signature"
        f" WHERE signature.id = :signature_id AND {written_here(dialect)}"
        # Public only: a confirmation keeps a flagged or invalidated row's moderation.
        f" AND signature.moderation IN ({_PUBLIC_SQL})" + _ADD_ON_CONFLICT
    ).bindparams(bindparam("letter_id", type_=Integer()), bindparam("country", type_=String()),
                 bindparam("signer_type", type_=String()), bindparam("listed", type_=Integer()),
                 bindparam("unlisted", type_=Integer()),
                 bindparam("signature_id", type_=Integer()))


def _add(letter_id: int, country: str, signer_type: str, listed: int, unlisted: int) -> None:
    """Add to a count row in SQL (an upsert), never read-modify-write: no update is lost."""
    db.session.execute(_UPSERT, {"letter_id": letter_id, "country": country,
                                 "signer_type": signer_type, "listed": listed,
                                 "unlisted": unlisted})


# Written out, not built: SQLAlchemy does not cache a statement with an ON CONFLICT clause
# and compiled this one again on every confirmation (a third of the upsert's time). The
# same text is valid SQLite (3.24+) and PostgreSQL.
_ADD_ON_CONFLICT = (" ON CONFLICT (letter_id, country, signer_type) DO UPDATE"
                    " SET listed = letter_count.listed + excluded.listed,"
                    " unlisted = letter_count.unlisted + excluded.unlisted")
_UPSERT = text(
    "INSERT INTO letter_count (letter_id, country, signer_type, listed, unlisted)"
    " VALUES (:letter_id, :country, :signer_type, :listed, :unlisted)" + _ADD_ON_CONFLICT
)


# --- Reading -------------------------------------------------------------------------------

def table(letter_id: int) -> dict[tuple[str, str], tuple[int, int]]:
    """{(signer type, country): (listed, unlisted)} of the letter, from letter_count."""
    rows = db.session.execute(
        select(LetterCount.signer_type, LetterCount.country, LetterCount.listed,
               LetterCount.unlisted).where(LetterCount.letter_id == letter_id))
    return {(kind, country): (listed, unlisted) for kind, country, listed, unlisted in rows
            if listed or unlisted}


def counts_by_country(letter_id: int) -> dict[str, int]:
    by_country: dict[str, int] = defaultdict(int)
    for (_, country), (listed, unlisted) in table(letter_id).items():
        by_country[country] += listed + unlisted
    return {country: count for country, count in by_country.items() if count}


def public_total(letter_id: int) -> int:
    """The letter's public count, without grouping anything."""
    return db.session.scalar(
        select(func.sum(LetterCount.listed + LetterCount.unlisted))
        .where(LetterCount.letter_id == letter_id)
    ) or 0


def public_counts(letter_ids: list[int]) -> dict[int, int]:
    """Counts for several letters in one query (the index page)."""
    if not letter_ids:
        return {}
    rows = db.session.execute(
        select(LetterCount.letter_id, func.sum(LetterCount.listed + LetterCount.unlisted))
        .where(LetterCount.letter_id.in_(letter_ids))
        .group_by(LetterCount.letter_id)
    )
    return {letter_id: count for letter_id, count in rows if count}


def listed_individuals(counts: dict[tuple[str, str], tuple[int, int]]) -> int:
    """How many individuals the list names, from table()."""
    return sum(listed for (kind, _), (listed, _) in counts.items() if kind == INDIVIDUAL)


# --- Recounting ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Drift:
    """A count row that did not match the signatures: what was kept, what they say."""

    slug: str
    signer_type: str
    country: str
    kept: tuple[int, int]
    counted: tuple[int, int]


def recount(letter_id: int) -> dict[tuple[str, str], tuple[int, int]]:
    """table() as counted from the signatures themselves (one pass over the letter's rows)."""
    listed = (Signature.signer_type == ORGANIZATION) | (Signature.display != ANONYMOUS)
    rows = db.session.execute(
        select(Signature.signer_type, Signature.country,
               func.sum(case((listed, 1), else_=0)), func.sum(case((listed, 0), else_=1)))
        .where(Signature.letter_id == letter_id, Signature.is_public)
        .group_by(Signature.signer_type, Signature.country))
    return {(kind, country): (int(named), int(unnamed)) for kind, country, named, unnamed in rows}


def rebuild(letter: Letter) -> list[Drift]:
    """Recount the letter's counts from its signatures, fix what drifted and say what did.

    Commits. The letter's row is locked first (its version bumped, kept only on drift), as
    changed() does: no change to the letter's counts can commit between count and fix.
    """
    db.session.commit()
    db.session.execute(update(Letter).where(Letter.id == letter.id)
                       .values(list_version=Letter.list_version + 1,
                               list_token=new_list_token(), list_changed_at=utcnow())
                       .execution_options(synchronize_session=False))
    kept, counted = table(letter.id), recount(letter.id)
    drifts = [Drift(letter.slug, kind, country, kept.get((kind, country), (0, 0)),
                    counted.get((kind, country), (0, 0)))
              for kind, country in sorted(set(kept) | set(counted))
              if kept.get((kind, country), (0, 0)) != counted.get((kind, country), (0, 0))]
    if not drifts:
        db.session.rollback()  # nothing to fix: the version stays
        return []
    counts = cast(Table, LetterCount.__table__)
    db.session.execute(counts.delete().where(LetterCount.letter_id == letter.id))
    if counted:
        db.session.execute(counts.insert(), [
            {"letter_id": letter.id, "signer_type": kind, "country": country,
             "listed": named, "unlisted": unnamed}
            for (kind, country), (named, unnamed) in counted.items()
        ])
    db.session.commit()
    return drifts


def rebuild_all() -> list[Drift]:
    """rebuild() every letter."""
    drifts: list[Drift] = []
    for letter in db.session.scalars(select(Letter).order_by(Letter.slug)).all():
        drifts.extend(rebuild(letter))
    return drifts
