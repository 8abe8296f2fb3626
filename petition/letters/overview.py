"""One letter's figures for the back office: totals, what is new since the last export,
and public signatures day by day. Queries only; the page decides how to show them."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute

from petition.countries import display_name
from petition.extensions import db
from petition.letters import counting
from petition.letters.status import PublicStatus, public_status
from petition.models import CONFIRMED, Letter, Signature
from petition.models.accounts import AuditEvent


@dataclass
class Overview:
    by_status: list[tuple[str, int]]
    by_moderation: list[tuple[str, int]]
    by_type: list[tuple[str, int]]
    by_country: list[tuple[str, int]]
    last_export: AuditEvent | None
    new_since_export: int  # public signatures confirmed after it (all of them if none)
    # Toward the goal, as the public page counts it, and whether (and how long) it stays open.
    public_count: int
    state: PublicStatus
    daily: list[tuple[dt.date, int]] = field(default_factory=list)  # public, by day confirmed

    @property
    def cumulative(self) -> list[tuple[dt.date, int]]:
        total, points = 0, []
        for day, count in self.daily:
            total += count
            points.append((day, total))
        return points

    @property
    def by_day(self) -> list[tuple[dt.date, int, int]]:
        """(day, confirmed that day, total so far)."""
        return [(day, count, total) for (day, count), (_day, total)
                in zip(self.daily, self.cumulative, strict=True)]

    @property
    def public_total(self) -> int:
        return sum(count for _day, count in self.daily)

    @property
    def busiest_day(self) -> tuple[dt.date, int] | None:
        return max(self.daily, key=lambda item: (item[1], item[0]), default=None)


def _grouped(letter: Letter, column: InstrumentedAttribute[str],
             *conditions: ColumnElement[bool]) -> list[tuple[str, int]]:
    rows = db.session.execute(
        select(column, func.count(Signature.id))
        .where(Signature.letter_id == letter.id, *conditions)
        .group_by(column)
        .order_by(func.count(Signature.id).desc(), column)
    )
    return [(value, count) for value, count in rows]


def last_export(letter: Letter) -> AuditEvent | None:
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "export", AuditEvent.letter_slug == letter.slug)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    ).first()


def public_since(letter: Letter, since: dt.datetime | None) -> int:
    query = select(func.count(Signature.id)).where(Signature.letter_id == letter.id,
                                                   Signature.is_public)
    if since is not None:
        query = query.where(Signature.confirmed_at > since)
    return db.session.scalar(query) or 0


def public_by_day(letter: Letter) -> list[tuple[dt.date, int]]:
    """Public signatures by the (UTC) day they were confirmed, oldest first."""
    day = func.date(Signature.confirmed_at)
    rows = db.session.execute(
        select(day, func.count(Signature.id))
        .where(Signature.letter_id == letter.id, Signature.is_public,
               Signature.confirmed_at.is_not(None))
        .group_by(day).order_by(day)
    )
    # SQLite answers 'YYYY-MM-DD', PostgreSQL a date.
    return [(value if isinstance(value, dt.date) else dt.date.fromisoformat(value), count)
            for value, count in rows]


def letter_overview(letter: Letter, lang: str, by_country: bool = True) -> Overview:
    """The figures of `letter`; by_country=False leaves the per-country counts out (empty)."""
    confirmed = Signature.status == CONFIRMED
    country_labels = letter.labels_for(lang)
    export = last_export(letter)
    return Overview(
        by_status=_grouped(letter, Signature.status),
        by_moderation=_grouped(letter, Signature.moderation, confirmed),
        by_type=_grouped(letter, Signature.signer_type, confirmed),
        by_country=[(display_name(code, lang, country_labels), count)
                    for code, count in _grouped(letter, Signature.country, confirmed)]
                   if by_country else [],
        last_export=export,
        new_since_export=public_since(letter, export.at if export else None),
        public_count=counting.public_total(letter.id),
        state=public_status(letter),
        daily=public_by_day(letter),
    )
