"""What the back office's drive pages count and list beyond review.letters_of: letters per
state, letters per sender's address (by its keyed hash, never the address), the
translations an organiser may review, the replies of a letter, the size of each batch, and
the guidance as stored per language."""
from __future__ import annotations

from sqlalchemy import func, select

from petition.drive.settings import get_drive
from petition.extensions import db
from petition.models import Letter
from petition.models.drive import (
    APPROVED,
    LETTER_STATES,
    REVIEW,
    SENT,
    DriveGuidance,
    DriveLetter,
    DriveReply,
)


def state_counts(letter: Letter) -> dict[str, int]:
    """Every state of a personal letter, with how many of the drive's are in it (0 too)."""
    found = dict(db.session.execute(
        select(DriveLetter.status, func.count()).where(DriveLetter.letter_id == letter.id)
        .group_by(DriveLetter.status)).tuples().all())
    return {state: found.get(state, 0) for state in LETTER_STATES}


def per_address(letter: Letter, rows: list[DriveLetter]) -> dict[int, int]:
    """For each of `rows` (by id), how many of the drive's letters came from the same
    address: many letters from one mailbox may be one person writing as many."""
    hashes = {row.email_hash for row in rows if row.email_hash}
    if not hashes:
        return {}
    by_hash = dict(db.session.execute(
        select(DriveLetter.email_hash, func.count())
        .where(DriveLetter.letter_id == letter.id, DriveLetter.email_hash.in_(hashes))
        .group_by(DriveLetter.email_hash)).tuples().all())
    return {row.id: by_hash.get(row.email_hash, 1) if row.email_hash else 1 for row in rows}


def translated(letter: Letter) -> list[DriveLetter]:
    """Letters translated and not erased, unreviewed first, then oldest first: what an
    organiser reads against the original."""
    drive = get_drive(letter)
    return list(db.session.scalars(
        select(DriveLetter).where(DriveLetter.letter_id == letter.id,
                                  DriveLetter.status.in_((REVIEW, APPROVED, SENT)),
                                  DriveLetter.letter_lang != drive.delivery_lang,
                                  DriveLetter.translation_encrypted.is_not(None))
        .order_by(DriveLetter.translation_reviewed_by.is_not(None), DriveLetter.translated_at,
                  DriveLetter.id)))


def replies_of(row: DriveLetter) -> list[DriveReply]:
    """The replies attached to a letter, oldest first (what they hold stays encrypted)."""
    return list(db.session.scalars(select(DriveReply).where(DriveReply.drive_letter_id == row.id)
                                   .order_by(DriveReply.created_at, DriveReply.id)))


def batch_sizes(letter: Letter) -> dict[int, int]:
    """How many letters each of the drive's batches holds, by batch id."""
    rows = db.session.execute(
        select(DriveLetter.batch_id, func.count())
        .where(DriveLetter.letter_id == letter.id, DriveLetter.batch_id.is_not(None))
        .group_by(DriveLetter.batch_id)).tuples().all()
    return {batch_id: count for batch_id, count in rows if batch_id is not None}


def guidance_rows(letter: Letter) -> dict[str, DriveGuidance]:
    """The guidance and risky words stored for each language, by language."""
    return {row.lang: row for row in db.session.scalars(
        select(DriveGuidance).where(DriveGuidance.letter_id == letter.id)
        .order_by(DriveGuidance.lang))}
