"""Sending: gather the letters that are ready into a batch, read it for printing, mark it
sent (each writer is told, then their address goes unless they asked for the reply)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select

from petition.accounts import audit
from petition.drive import mails
from petition.drive.review import letters_of
from petition.drive.settings import get_drive
from petition.drive.values import DriveError, DriveNotFound, unseal
from petition.extensions import db
from petition.letters import operations as letters
from petition.models import Letter, utcnow
from petition.models.drive import APPROVED, SENT, Drive, DriveBatch, DriveLetter

SERVICE_MAX = 200


def create_batch(slug: str, *, actor: str = "cli") -> DriveBatch:
    """A batch of every letter ready now (approved, readable by the censor, in no batch)."""
    letter = letters.get_letter(slug)
    ready = letters_of(letter, "ready")
    if not ready:
        raise DriveError("No letter is ready to send: approve letters (and translate those "
                         "not in the delivery language) first.")
    batch = DriveBatch(letter_id=letter.id, created_by=actor, created_at=utcnow())
    db.session.add(batch)
    db.session.flush()
    for row in ready:
        row.batch_id = batch.id
    audit.record(actor, "drive.batch_create", letter_slug=slug,
                 detail=f"batch={batch.public_id} letters={len(ready)}", commit=False)
    db.session.commit()
    return batch


def get_batch(public_id: str, letter: Letter | None = None) -> DriveBatch:
    query = select(DriveBatch).where(DriveBatch.public_id == (public_id or "").strip())
    if letter is not None:
        query = query.where(DriveBatch.letter_id == letter.id)
    batch = db.session.scalars(query).first()
    if batch is None:
        raise DriveNotFound("No batch %(id)s.", id=public_id)
    return batch


def batches_of(letter: Letter) -> list[DriveBatch]:
    return list(db.session.scalars(select(DriveBatch).where(DriveBatch.letter_id == letter.id)
                                   .order_by(DriveBatch.created_at.desc(), DriveBatch.id.desc())))


def batch_rows(batch: DriveBatch) -> list[DriveLetter]:
    return list(db.session.scalars(select(DriveLetter).where(DriveLetter.batch_id == batch.id)
                                   .order_by(DriveLetter.confirmed_at, DriveLetter.id)))


@dataclass(frozen=True)
class PrintedLetter:
    """One letter as it is printed and sent: in the delivery language, signed as chosen."""

    public_id: str
    signature: str
    country: str
    letter_lang: str
    translator: str | None
    text: str  # in the delivery language: the translation, or the original

    @property
    def characters(self) -> int:
        return len(self.text)


@dataclass(frozen=True)
class BatchContents:
    batch: DriveBatch
    drive: Drive
    letters: list[PrintedLetter]


def contents(batch: DriveBatch) -> BatchContents:
    """Everything the batch files print, decrypted (in memory only)."""
    drive = get_drive(batch.letter)
    printed = []
    for row in batch_rows(batch):
        translation = unseal(row.translation_encrypted)
        printed.append(PrintedLetter(
            public_id=row.public_id, signature=unseal(row.signature_encrypted) or "",
            country=row.country, letter_lang=row.letter_lang,
            translator=row.translated_by if translation is not None else None,
            text=translation if translation is not None else unseal(row.body_encrypted) or ""))
    return BatchContents(batch, drive, printed)


_AMOUNT = re.compile(r"^\s*(\d{1,7})(?:[.,](\d{1,2}))?\s*$")


def parse_amount(text: str | None) -> int | None:
    """"12.50" or "12,5" → 1250 (cents); None for nothing; DriveError if not an amount."""
    if text is None or not str(text).strip():
        return None
    found = _AMOUNT.match(str(text))
    if found is None:
        raise DriveError("The cost is an amount such as 12.50.")
    return int(found.group(1)) * 100 + int((found.group(2) or "0").ljust(2, "0"))


def mark_sent(public_id: str, *, on: dt.date, cost_cents: int | None = None,
              service: str | None = None, actor: str = "cli",
              letter: Letter | None = None) -> DriveBatch:
    """The batch went: its letters are sent, each writer is mailed "sent on …" in their
    language, and then their address is erased unless they asked for the reply."""
    batch = get_batch(public_id, letter)
    if batch.sent_on is not None:
        raise DriveError("This batch was marked sent on %(date)s already.",
                         date=batch.sent_on.isoformat())
    if on > utcnow().date() + dt.timedelta(days=1):
        raise DriveError("The sending date %(date)s is in the future.", date=on.isoformat())
    service = " ".join((service or "").split()) or None
    if service is not None and len(service) > SERVICE_MAX:
        raise DriveError("The service's name is longer than %(limit)d characters.",
                         limit=SERVICE_MAX)
    rows = batch_rows(batch)
    if not rows:
        raise DriveError("This batch holds no letter any more (all were withdrawn).")
    now = utcnow()
    batch.sent_on, batch.cost_cents, batch.service, batch.sent_by = on, cost_cents, service, actor
    for row in rows:
        if row.status != APPROVED:
            continue
        row.status, row.sent_at = SENT, now
        email = unseal(row.email_encrypted)
        if email is not None:
            mails.queue(mails.SENT_MAIL, row, email)
        if not row.wants_reply:
            # The outbox keeps its own encrypted copy until the mail has gone.
            row.email_encrypted = None
    letters.bump_list_version(batch.letter)
    audit.record(actor, "drive.batch_sent", letter_slug=batch.letter.slug,
                 detail=f"batch={batch.public_id} letters={len(rows)} on={on.isoformat()}"
                        + (f" cost={cost_cents / 100:.2f}" if cost_cents is not None else ""),
                 commit=False)
    db.session.commit()
    return batch


def record_download(batch: DriveBatch, fmt: str, actor: str) -> None:
    audit.record(actor, "drive.batch_export", letter_slug=batch.letter.slug,
                 detail=f"batch={batch.public_id} format={fmt}")
