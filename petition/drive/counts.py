"""What the public sees of a drive: letters written, sent, from how many countries, the
costs recorded, and the letters approved for publishing."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from petition.extensions import db
from petition.models import Letter
from petition.models.drive import APPROVED, SENT, WRITTEN, DriveBatch, DriveLetter


@dataclass(frozen=True)
class DriveCounts:
    written: int  # confirmed, neither rejected nor withdrawn
    sent: int
    countries: int
    cost_cents: int  # recorded on the batches marked sent so far


def counts(letter: Letter) -> DriveCounts:
    rows = db.session.execute(
        select(DriveLetter.status, DriveLetter.country, func.count())
        .where(DriveLetter.letter_id == letter.id, DriveLetter.status.in_(WRITTEN))
        .group_by(DriveLetter.status, DriveLetter.country)).all()
    cost = db.session.scalar(select(func.coalesce(func.sum(DriveBatch.cost_cents), 0)).where(
        DriveBatch.letter_id == letter.id, DriveBatch.sent_on.is_not(None))) or 0
    return DriveCounts(written=sum(row[2] for row in rows),
                       sent=sum(row[2] for row in rows if row[0] == SENT),
                       countries=len({row[1] for row in rows}),
                       cost_cents=int(cost))


@dataclass(frozen=True)
class PublishedLetter:
    public_id: str
    name: str
    country: str
    letter_lang: str
    body: str
    translation: str | None


def published(letter: Letter, limit: int = 200) -> list[PublishedLetter]:
    """Letters approved (or sent) whose writers let them be published, newest first."""
    rows = db.session.execute(
        select(DriveLetter.public_id, DriveLetter.published_name, DriveLetter.country,
               DriveLetter.letter_lang, DriveLetter.published_body,
               DriveLetter.published_translation)
        .where(DriveLetter.letter_id == letter.id, DriveLetter.status.in_((APPROVED, SENT)),
               DriveLetter.published_body.is_not(None))
        .order_by(DriveLetter.published_at.desc(), DriveLetter.id.desc()).limit(limit)).all()
    return [PublishedLetter(row[0], row[1] or "", row[2], row[3], row[4], row[5])
            for row in rows]
