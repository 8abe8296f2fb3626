"""Retention: a closed letter forgets who signed it by address, keeping what the list shows.

Some days after a letter closes (letter.fingerprint_retention_days), its signers' email
fingerprints (the keyed hash, any encrypted address left) are erased and its pending
signatures deleted, and so is the letter's news list (its subscribers' addresses). Names,
countries and counts stay: the list and the totals do not change.
Only the duplicate check goes: a letter reopened later takes a former signer's address
again as a new signature.

Hourly, purge_expired() deletes what the privacy notice gives a shorter life: mail that could
not be delivered and signatures never confirmed. The worker runs both.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import CursorResult

from petition.accounts import audit
from petition.core import remnants
from petition.extensions import db
from petition.mail import outbox
from petition.models import CLOSED, DRAFT, PENDING, Letter, Signature, utcnow
from petition.models.drive import PENDING as DRIVE_PENDING
from petition.models.drive import DriveLetter, DriveReply
from petition.models.news import NewsSubscriber

ACTOR = "retention"


@dataclass(frozen=True)
class Erasure:
    """What retention erased from one letter."""

    slug: str
    closed_since: dt.datetime
    days: int
    fingerprints: int  # signatures whose hash or encrypted address was erased
    pending: int  # pending signatures deleted
    subscribers: int = 0  # news subscriptions deleted (address and hash with them)


def closed_since(letter: Letter, now: dt.datetime) -> dt.datetime | None:
    """When the letter stopped taking signatures, or None while it takes them.

    Closed: when it was closed. Past its deadline: the end of the deadline day (UTC), as
    Letter.past_deadline reads it. Both: the earlier.
    """
    if letter.status == DRAFT:
        return None  # never open, so never signed from the form
    moments = []
    if letter.status == CLOSED and letter.closed_at is not None:
        moments.append(letter.closed_at)
    if letter.deadline is not None:
        end_of_deadline = dt.datetime.combine(letter.deadline + dt.timedelta(days=1), dt.time())
        if end_of_deadline <= now:
            moments.append(end_of_deadline)
    return min(moments) if moments else None


def _date_closings(now: dt.datetime) -> None:
    """Start the period now for closed letters whose closing time is unknown."""
    db.session.execute(
        update(Letter).where(Letter.status == CLOSED, Letter.closed_at.is_(None))
        .values(closed_at=now).execution_options(synchronize_session=False)
    )
    db.session.commit()


def _erase(letter: Letter, since: dt.datetime, now: dt.datetime) -> Erasure | None:
    """Erase the letter's fingerprints in one transaction; None if there was nothing new."""
    fingerprints = cast(CursorResult[Any], db.session.execute(
        update(Signature)
        .where(Signature.letter_id == letter.id, Signature.status != PENDING,
               or_(Signature.email_hash.is_not(None), Signature.email_encrypted.is_not(None)))
        .values(email_hash=None, email_encrypted=None)
        .execution_options(synchronize_session=False)
    )).rowcount
    # Their versions go with them (ON DELETE CASCADE); their mails' rows only lose the link.
    pending = cast(CursorResult[Any], db.session.execute(
        delete(Signature).where(Signature.letter_id == letter.id, Signature.status == PENDING)
        .execution_options(synchronize_session=False)
    )).rowcount
    if letter.is_drive:
        addresses, letters = _erase_writers(letter)
        fingerprints, pending = fingerprints + addresses, pending + letters
    # The news list goes with the fingerprints: no more news once the retention has run
    # out. News mails still queued lose their subscriber (SET NULL) and are dropped.
    subscribers = cast(CursorResult[Any], db.session.execute(
        delete(NewsSubscriber).where(NewsSubscriber.letter_id == letter.id)
        .execution_options(synchronize_session=False))).rowcount
    erased_at = letter.fingerprints_erased_at
    if (erased_at is not None and erased_at >= since
            and not (fingerprints or pending or subscribers)):
        db.session.rollback()
        return None
    erasure = Erasure(letter.slug, since, letter.fingerprint_retention_days, fingerprints, pending,
                      subscribers)
    letter.fingerprints_erased_at = now
    audit.record(ACTOR, "retention.erase", letter_slug=letter.slug, commit=False,
                 detail=(f"fingerprints={fingerprints} pending_deleted={pending} "
                         f"news_subscribers_deleted={subscribers} "
                         f"closed_since={since.isoformat(timespec='seconds')} "
                         f"retention_days={erasure.days}"))
    db.session.commit()
    return erasure


def _erase_writers(letter: Letter) -> tuple[int, int]:
    """A drive's share of _erase(): the addresses kept for replies, the replies themselves,
    and the letters never confirmed. (addresses erased, pending letters deleted)"""
    replies = select(DriveLetter.id).where(DriveLetter.letter_id == letter.id)
    db.session.execute(delete(DriveReply).where(DriveReply.drive_letter_id.in_(replies))
                       .execution_options(synchronize_session=False))
    addresses = cast(CursorResult[Any], db.session.execute(
        update(DriveLetter)
        .where(DriveLetter.letter_id == letter.id, DriveLetter.status != DRIVE_PENDING,
               or_(DriveLetter.email_hash.is_not(None), DriveLetter.email_encrypted.is_not(None)))
        .values(email_hash=None, email_encrypted=None)
        .execution_options(synchronize_session=False))).rowcount
    pending = cast(CursorResult[Any], db.session.execute(
        delete(DriveLetter).where(DriveLetter.letter_id == letter.id,
                                  DriveLetter.status == DRIVE_PENDING)
        .execution_options(synchronize_session=False))).rowcount
    return addresses, pending


def erase_due(now: dt.datetime | None = None) -> list[Erasure]:
    """Erase the fingerprints of every letter closed for longer than its retention days."""
    now = now or utcnow()
    _date_closings(now)
    erased = []
    for letter in db.session.scalars(select(Letter).where(Letter.status != DRAFT)
                                      .order_by(Letter.slug)).all():
        since = closed_since(letter, now)
        if since is None or now < since + dt.timedelta(days=letter.fingerprint_retention_days):
            continue
        erasure = _erase(letter, since, now)
        if erasure is not None:
            erased.append(erasure)
    return erased


def run(now: dt.datetime | None = None) -> list[Erasure]:
    """Erase what is due, then leave nothing of the erased rows in the database's files."""
    erased = erase_due(now)
    remnants.rewrite()
    return erased


def purge_unconfirmed(now: dt.datetime | None = None) -> int:
    """Delete pending signatures whose last link went out over UNCONFIRMED_RETENTION ago.

    Until then an expired link can still ask for a new one; after it, nothing of a person
    who never confirmed (encrypted address included) is kept.
    """
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=current_app.config["UNCONFIRMED_RETENTION"])
    result = cast(CursorResult[Any], db.session.execute(
        delete(Signature)
        .where(
            Signature.status == PENDING,
            func.coalesce(Signature.last_mailed_at, Signature.created_at) < cutoff,
        )
        .execution_options(synchronize_session=False)
    ))
    # Letters to a drive never confirmed: their text goes with them.
    letters = cast(CursorResult[Any], db.session.execute(
        delete(DriveLetter)
        .where(DriveLetter.status == DRIVE_PENDING,
               func.coalesce(DriveLetter.link_issued_at, DriveLetter.created_at) < cutoff)
        .execution_options(synchronize_session=False)))
    db.session.commit()
    return result.rowcount + letters.rowcount


def purge_expired() -> None:
    """Failed mail, withdrawal answers' address tags and never-confirmed signatures past
    their time (hourly). The caller then clears them out of the files: remnants.rewrite()
    (the worker) or remnants.checkpoint_wal() (`flask mail send`)."""
    outbox.purge_failed()
    outbox.forget_cap_tags()
    purge_unconfirmed()
