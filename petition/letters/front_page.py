"""What the home page shows: open letters first with their progress, then closed ones."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from petition.extensions import db
from petition.letters import counting
from petition.letters.status import closed_on
from petition.models import CLOSED, OPEN, Letter, LetterText


@dataclass(frozen=True)
class LetterSummary:
    letter: Letter
    text: LetterText
    count: int | None  # None: the public may not see it (embargo without a shown count)
    closed_on: dt.date | None


@dataclass(frozen=True)
class FrontPage:
    open: list[LetterSummary]
    closed: list[LetterSummary]


def front_page(lang: str) -> FrontPage:
    letters = db.session.scalars(
        select(Letter).where(Letter.status.in_((OPEN, CLOSED)))
        .order_by(Letter.created_at.desc(), Letter.id.desc())
    ).all()
    # An embargoed letter's count stays out unless its organisers chose to show it.
    counts = counting.public_counts([letter.id for letter in letters if letter.count_public])
    summaries = [
        LetterSummary(letter, letter.text_for(lang),
                      counts.get(letter.id, 0) if letter.count_public else None,
                      closed_on(letter))
        for letter in letters
    ]
    open_ = [summary for summary in summaries if summary.letter.is_open]
    closed = [summary for summary in summaries if not summary.letter.is_open]
    # The latest to close first; those whose day is unknown last, newest first among them.
    closed.sort(key=lambda summary: summary.closed_on or dt.date.min, reverse=True)
    return FrontPage(open=open_, closed=closed)
