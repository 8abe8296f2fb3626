"""What the public is told of a letter's state: open or closed, until when, how many days
are left, and since when it is closed. A letter closes at its deadline by itself (the
deadline is the last day signatures are taken, in UTC): nothing has to run for it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from petition.models import CLOSED, OPEN, Letter, utcnow


@dataclass(frozen=True)
class PublicStatus:
    status: str  # OPEN or CLOSED: what the public sees (a draft is not public)
    deadline: dt.date | None  # the last day signatures (or a drive's letters) are taken
    days_left: int | None  # whole days after today until the deadline; 0: today is the last
    closed_on: dt.date | None  # when it stopped taking signatures, if closed and known


def public_status(letter: Letter, now: dt.datetime | None = None) -> PublicStatus:
    """The letter's state as of `now` (naive UTC; by default the present)."""
    today = (now or utcnow()).date()
    past = letter.deadline is not None and today > letter.deadline
    if letter.status == OPEN and not past:
        days_left = (letter.deadline - today).days if letter.deadline is not None else None
        return PublicStatus(OPEN, letter.deadline, days_left, None)
    return PublicStatus(CLOSED, letter.deadline, None, closed_on(letter, today))


def closed_on(letter: Letter, today: dt.date | None = None) -> dt.date | None:
    """The day a letter stopped taking signatures, if it did and we know when: the day it
    was closed, else its deadline (closed by itself, or closed without a date kept)."""
    if letter.status == CLOSED:
        if letter.closed_at is None:
            return letter.deadline
        # Closed by hand after the deadline had already closed it: the deadline says when.
        if letter.deadline is not None and letter.deadline < letter.closed_at.date():
            return letter.deadline
        return letter.closed_at.date()
    past = letter.deadline is not None and (today or utcnow().date()) > letter.deadline
    return letter.deadline if past else None
