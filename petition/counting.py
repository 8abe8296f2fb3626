"""Public counts: confirmed signatures that moderation lets through (Signature.is_public)."""
from __future__ import annotations

from sqlalchemy import func, select

from .extensions import db
from .models import Signature


def counts_by_country(letter_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Signature.country, func.count(Signature.id))
        .where(Signature.letter_id == letter_id, Signature.is_public)
        .group_by(Signature.country)
    )
    return {country: count for country, count in rows}


def public_total(letter_id: int) -> int:
    """The letter's public count, without grouping anything."""
    return db.session.scalar(
        select(func.count(Signature.id)).where(Signature.letter_id == letter_id,
                                               Signature.is_public)
    ) or 0


def public_counts(letter_ids: list[int]) -> dict[int, int]:
    """Counts for several letters in one query (the index page)."""
    if not letter_ids:
        return {}
    rows = db.session.execute(
        select(Signature.letter_id, func.count(Signature.id))
        .where(Signature.letter_id.in_(letter_ids), Signature.is_public)
        .group_by(Signature.letter_id)
    )
    return dict(rows.all())
