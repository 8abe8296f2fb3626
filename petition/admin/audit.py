"""The audit log: append-only records of logins, account changes and downloads."""
from __future__ import annotations

import csv
import io

from sqlalchemy import select

from ..exporting.text import cell
from ..extensions import db
from ..models import ROLE_ADMIN, Account, AuditEvent

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


def events_for(account: Account, limit: int | None = PAGE_SIZE) -> list[AuditEvent]:
    """Admins see everything; others the events about the letters they are given."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if account.role != ROLE_ADMIN:
        slugs = [letter.slug for letter in account.letters]
        query = query.where(AuditEvent.letter_slug.in_(slugs))
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def to_csv(events: list[AuditEvent]) -> bytes:
    """CSV with a BOM for spreadsheets; the actor of a failed login is typed by anyone, so
    every cell goes through the exports' formula neutraliser."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["at", "actor", "action", "letter", "detail"])
    for event in events:
        writer.writerow([event.at.isoformat(timespec="seconds"), cell(event.actor),
                         cell(event.action), cell(event.letter_slug or ""), cell(event.detail)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
