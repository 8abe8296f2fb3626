"""Trends: per letter, the address blocks and mail domains that sign far more than usual.

Over the last N hours (24 by default) the events are counted per block (by hash) and per
domain, per clock hour and per outcome, in the database (GROUP BY: a few rows per block and
hour, never the events). A block or domain is a trend when it reaches, in one clock hour or
in the last sixty minutes, ABUSE_TREND_BLOCK_PER_HOUR (blocks) or
ABUSE_TREND_DOMAIN_PER_HOUR (domains). Free-mail providers count like any other domain:
gmail.com reaching the threshold on one letter in one hour is worth a look too, and the
threshold is set per site. "Usual" is what a block or domain sends to the letter in an hour
when it sends anything at all (the median over the window), for scale.
"""
from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import InstrumentedAttribute

from petition.extensions import db
from petition.models import utcnow
from petition.models.abuse import (
    EVENT_BLOCKED,
    EVENT_COUNTED,
    EVENT_DROPPED,
    EVENT_FLAGGED,
    RULE_BLOCK,
    RULE_DOMAIN,
    AbuseEvent,
)

DEFAULT_HOURS = 24
HOUR = dt.timedelta(hours=1)
SHOWN = 20  # rows per kind on the page and in the CLI, busiest first (every trend kept)


def thresholds() -> dict[str, int]:
    config = current_app.config
    return {RULE_BLOCK: int(config["ABUSE_TREND_BLOCK_PER_HOUR"]),
            RULE_DOMAIN: int(config["ABUSE_TREND_DOMAIN_PER_HOUR"])}


@dataclass
class TrendRow:
    kind: str  # "block" (value: its hash) or "domain"
    value: str
    total: int = 0
    last_hour: int = 0  # the last sixty minutes
    peak: int = 0  # the busiest clock hour
    peak_hour: dt.datetime | None = None  # its start, naive UTC
    outcomes: dict[str, int] = field(default_factory=dict)
    hourly: dict[dt.datetime, int] = field(default_factory=dict)  # clock hour → count
    over: bool = False  # a trend: at or past the threshold

    @property
    def counted(self) -> int:
        return self.outcomes.get(EVENT_COUNTED, 0)

    @property
    def flagged(self) -> int:
        return self.outcomes.get(EVENT_FLAGGED, 0)

    @property
    def blocked(self) -> int:
        return self.outcomes.get(EVENT_BLOCKED, 0) + self.outcomes.get(EVENT_DROPPED, 0)


@dataclass
class Trends:
    letter_id: int
    hours: int
    since: dt.datetime
    total: int
    thresholds: dict[str, int]
    usual: dict[str, float]  # per kind: the median count of a block or domain in an hour
    rows: dict[str, list[TrendRow]]  # per kind, trends first, then the busiest

    @property
    def blocks(self) -> list[TrendRow]:
        return self.rows[RULE_BLOCK]

    @property
    def domains(self) -> list[TrendRow]:
        return self.rows[RULE_DOMAIN]


def _hour_of(at: InstrumentedAttribute[dt.datetime]) -> ColumnElement[str]:
    """The start of the clock hour of `at`, as text the same on both databases."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.date_trunc("hour", at), "YYYY-MM-DD HH24:00:00")
    return func.strftime("%Y-%m-%d %H:00:00", at)


def _columns() -> dict[str, InstrumentedAttribute[str] | InstrumentedAttribute[str | None]]:
    return {RULE_BLOCK: AbuseEvent.block_hash, RULE_DOMAIN: AbuseEvent.email_domain}


def trends(letter_id: int, hours: int = DEFAULT_HOURS, now: dt.datetime | None = None,
           shown: int | None = SHOWN) -> Trends:
    """The letter's blocks and domains over the last `hours` hours (1 to the events'
    lifetime), with their counts, trends first."""
    now = now or utcnow()
    kept = int(current_app.config["ABUSE_EVENT_HOURS"])
    hours = max(1, min(int(hours), kept))
    since, last_hour = now - dt.timedelta(hours=hours), now - HOUR
    limits = thresholds()
    hour = _hour_of(AbuseEvent.at).label("hour")
    rows: dict[str, list[TrendRow]] = {}
    usual: dict[str, float] = {}
    total = 0
    for kind, column in _columns().items():
        found: dict[str, TrendRow] = {}
        per_hour: dict[tuple[str, str], int] = defaultdict(int)
        grouped = db.session.execute(
            select(column, hour, AbuseEvent.outcome, func.count())
            .where(AbuseEvent.letter_id == letter_id, AbuseEvent.at >= since,
                   AbuseEvent.at <= now, column.is_not(None))
            .group_by(column, literal_column("hour"), AbuseEvent.outcome))
        for value, hour_text, outcome, count in grouped:
            row = found.setdefault(value, TrendRow(kind, value))
            row.total += count
            row.outcomes[outcome] = row.outcomes.get(outcome, 0) + count
            per_hour[(value, hour_text)] += count
        for (value, hour_text), count in sorted(per_hour.items()):
            row = found[value]
            start = dt.datetime.fromisoformat(hour_text)
            row.hourly[start] = count
            if count > row.peak:
                row.peak, row.peak_hour = count, start
        for value, count in db.session.execute(
                select(column, func.count())
                .where(AbuseEvent.letter_id == letter_id, AbuseEvent.at >= last_hour,
                       AbuseEvent.at <= now, column.is_not(None))
                .group_by(column)):
            found[value].last_hour = count
        for row in found.values():
            row.over = max(row.peak, row.last_hour) >= limits[kind]
        usual[kind] = float(statistics.median(per_hour.values())) if per_hour else 0.0
        ordered = sorted(found.values(),
                         key=lambda row: (not row.over, -row.peak, -row.total, row.value))
        if shown is not None:
            ordered = [row for index, row in enumerate(ordered) if row.over or index < shown]
        rows[kind] = ordered
        if kind == RULE_BLOCK:  # every event has a block: the letter's total
            total = sum(row.total for row in found.values())
    return Trends(letter_id, hours, since, total, limits, usual, rows)
