"""The audit log: append-only records of logins, account changes and downloads."""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, and_, func, or_, select

from petition.extensions import db
from petition.models.accounts import ROLE_ADMIN, ROLE_TRANSLATOR, Account, AuditEvent
from petition.text import cell

PAGE_SIZE = 200


def record(actor: str, action: str, *, letter_slug: str | None = None, detail: str = "",
           commit: bool = True) -> AuditEvent:
    """Add an event; with commit=False it lands with the caller's own change, or not at all."""
    # The actor of a failed login is whatever was typed: keep it bounded.
    event = AuditEvent(actor=actor[:254], action=action, letter_slug=letter_slug,
                       detail=detail[:2000])
    db.session.add(event)
    if commit:
        db.session.commit()
    return event


@dataclass
class AuditFilter:
    """What the audit page and its CSV are narrowed to; empty fields narrow nothing."""

    actor: str = ""  # part of the actor's email, any case
    action: str = ""  # the start of the action: "login" finds login.success and login.failure
    letter: str = ""  # a letter's slug
    since: dt.date | None = None  # from this day (UTC)...
    until: dt.date | None = None  # ...to this one, both included

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> tuple[AuditFilter, list[str]]:
        """The filter the query string asks for, and the names of fields it got wrong."""
        bad: list[str] = []

        def day(name: str) -> dt.date | None:
            value = (args.get(name) or "").strip()
            if not value:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                bad.append(name)
                return None

        found = cls(actor=(args.get("actor") or "").strip()[:254],
                    action=(args.get("action") or "").strip()[:40],
                    letter=(args.get("letter") or "").strip()[:80],
                    since=day("since"), until=day("until"))
        return found, bad

    def args(self) -> dict[str, str]:
        """As query-string arguments, for links that keep the filter (CSV, older page)."""
        values = {"actor": self.actor, "action": self.action, "letter": self.letter,
                  "since": self.since.isoformat() if self.since else "",
                  "until": self.until.isoformat() if self.until else ""}
        return {name: value for name, value in values.items() if value}

    def apply(self, query: Select) -> Select:
        if self.actor:
            query = query.where(func.lower(AuditEvent.actor).contains(self.actor.lower(),
                                                                      autoescape=True))
        if self.action:
            query = query.where(AuditEvent.action.startswith(self.action, autoescape=True))
        if self.letter:
            query = query.where(AuditEvent.letter_slug == self.letter)
        if self.since:
            query = query.where(AuditEvent.at >= dt.datetime.combine(self.since, dt.time()))
        if self.until:
            next_day = dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time())
            query = query.where(AuditEvent.at < next_day)
        return query


def events_for(account: Account, limit: int | None = PAGE_SIZE,
               filters: AuditFilter | None = None, before: int | None = None) -> list[AuditEvent]:
    """Admins see everything; others the events about the letters they are given, and
    their own logins, failed attempts on their address and second-factor changes; a
    translator, only what it did itself.

    Newest first; `before` (an event id) gives the page of events older than that one.
    """
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if account.role == ROLE_TRANSLATOR:
        # A translator sees its own doings only: the others' on its drives (approvals,
        # batches, downloads) are not its business.
        query = query.where(AuditEvent.actor == account.email)
    elif account.role != ROLE_ADMIN:
        slugs = [letter.slug for letter in account.letters]
        query = query.where(or_(
            AuditEvent.letter_slug.in_(slugs),
            and_(AuditEvent.letter_slug.is_(None), AuditEvent.actor == account.email),
        ))
    if filters:
        query = filters.apply(query)
    if before is not None:
        # Keyset paging: rows written meanwhile do not shift the pages.
        anchor = db.session.get(AuditEvent, before)
        if anchor is not None:
            query = query.where(or_(AuditEvent.at < anchor.at,
                                    and_(AuditEvent.at == anchor.at, AuditEvent.id < anchor.id)))
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def page_for(account: Account, filters: AuditFilter, before: int | None = None,
             size: int | None = None) -> tuple[list[AuditEvent], int | None]:
    """One page of events, and the id to ask for the next (older) page, if there is one."""
    size = size or PAGE_SIZE
    events = events_for(account, size + 1, filters, before)
    if len(events) > size:
        return events[:size], events[size - 1].id
    return events, None


def to_csv(events: list[AuditEvent]) -> bytes:
    """CSV with a BOM for spreadsheets; the actor of a failed login is typed by anyone, so
    every cell goes through the exports' formula neutraliser, and is quoted, as the exports'."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["at", "actor", "action", "letter", "detail"])
    for event in events:
        writer.writerow([event.at.isoformat(timespec="seconds"), cell(event.actor),
                         cell(event.action), cell(event.letter_slug or ""), cell(event.detail)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
