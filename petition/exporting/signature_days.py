"""Confirmed signatures per day, for the public chart: the days the public list grew.

Counted from the signatures the list counts (Signature.is_public) by the day, in UTC, of
their confirmation (an imported row's is its import; a row from before confirmed_at was
kept counts on the day it was made). One GROUP BY, once per list version in each process;
after a change the previous figures serve while a thread counts again.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from petition.exporting.grouping import cached_or_previous, public_state
from petition.exporting.press_cache import _yield_to_requests as yield_to_requests
from petition.extensions import db
from petition.models import Signature


@dataclass(frozen=True)
class Day:
    day: dt.date
    count: int  # signatures confirmed that day
    total: int  # signatures confirmed up to the end of that day


def signature_days(letter_id: int) -> list[Day]:
    """The days with confirmed public signatures, in order; raises grouping.ListEmbargoed
    while the embargo runs (the figures would tell what the count hides)."""
    stamp = public_state(letter_id).token
    days, _current = cached_or_previous((letter_id, "days"), stamp, lambda: _count(letter_id),
                                        pause=yield_to_requests)
    return days


def _count(letter_id: int) -> list[Day]:
    when = func.date(func.coalesce(Signature.confirmed_at, Signature.created_at))
    rows = db.session.execute(
        select(when, func.count()).where(Signature.letter_id == letter_id, Signature.is_public)
        .group_by(when).order_by(when))
    days, total = [], 0
    for day, count in rows:
        # SQLite's date() is a string, PostgreSQL's a date.
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        total += count
        days.append(Day(day, count, total))
    return days
