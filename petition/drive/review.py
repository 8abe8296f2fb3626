"""The organisers' side before sending: approve, return to the writer with a note, or
reject a confirmed letter; translate what is not in the delivery language, and review the
translation. Every action is in the audit log, under its actor (an account's address, or
"cli")."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from petition.accounts import audit
from petition.drive import mails
from petition.drive.settings import get_drive, risky_words
from petition.drive.values import (
    TRANSLATION_SLACK,
    DriveError,
    DriveNotFound,
    Passage,
    check_letter_text,
    risky_passages,
    seal,
    unseal,
)
from petition.drive.writing import erase
from petition.extensions import db
from petition.letters import operations as letters
from petition.models import Letter, initials, utcnow
from petition.models.drive import (
    APPROVED,
    LETTER_STATES,
    PUBLISH_INITIALS,
    PUBLISH_NO,
    REJECTED,
    RETURNED,
    REVIEW,
    SENT,
    DriveLetter,
)

NOTE_MAX = 2000


def get_letter_row(public_id: str, letter: Letter | None = None) -> DriveLetter:
    """A personal letter by its public id (of `letter` if given)."""
    query = select(DriveLetter).where(DriveLetter.public_id == (public_id or "").strip())
    if letter is not None:
        query = query.where(DriveLetter.letter_id == letter.id)
    row = db.session.scalars(query).first()
    if row is None:
        raise DriveNotFound("No letter %(id)s.", id=public_id)
    return row


def _record(actor: str, action: str, row: DriveLetter, detail: str = "") -> None:
    audit.record(actor, action, letter_slug=row.letter.slug,
                 detail=f"letter={row.public_id}" + (f" {detail}" if detail else ""),
                 commit=False)


def _email(row: DriveLetter) -> str | None:
    return unseal(row.email_encrypted)


def _publish(row: DriveLetter) -> None:
    """What the page shows of an approved letter the writer let be published, in clear."""
    if row.status not in (APPROVED, SENT) or row.publish == PUBLISH_NO:
        row.published_name = row.published_body = row.published_translation = None
        row.published_at = None
        return
    name = unseal(row.signature_encrypted) or ""
    row.published_name = initials(name) if row.publish == PUBLISH_INITIALS else name
    row.published_body = unseal(row.body_encrypted)
    row.published_translation = unseal(row.translation_encrypted)
    row.published_at = row.published_at or utcnow()


def approve(public_id: str, *, actor: str = "cli", letter: Letter | None = None) -> DriveLetter:
    row = get_letter_row(public_id, letter)
    if row.status != REVIEW:
        raise DriveError("Only a letter waiting for review can be approved (this one is "
                         "%(status)s).", status=row.status)
    row.status, row.moderated_at, row.moderated_by = APPROVED, utcnow(), actor
    _publish(row)
    letters.bump_list_version(row.letter)
    _record(actor, "drive.approve", row)
    db.session.commit()
    return row


def return_to_writer(public_id: str, note: str, *, actor: str = "cli",
                     letter: Letter | None = None) -> DriveLetter:
    """Send the letter back to its writer with a note; they edit it and send it again."""
    row = get_letter_row(public_id, letter)
    note = (note or "").strip()
    if not note:
        raise DriveError("Please write a note telling the writer what to change.")
    if len(note) > NOTE_MAX:
        raise DriveError("The note is longer than %(limit)d characters.", limit=NOTE_MAX)
    if row.status not in (REVIEW, APPROVED) or row.batch_id is not None:
        raise DriveError("Only a letter waiting for review, or approved and not yet in a "
                         "batch, can be returned (this one is %(status)s).", status=row.status)
    email = _email(row)
    if email is None:
        raise DriveError("The writer's address is gone: the letter cannot be returned.")
    row.status, row.note_encrypted = RETURNED, seal(note)
    row.moderated_at, row.moderated_by = utcnow(), actor
    _publish(row)
    letters.bump_list_version(row.letter)
    mails.queue(mails.RETURNED_MAIL, row, email)
    _record(actor, "drive.return", row)
    db.session.commit()
    return row


def reject(public_id: str, *, actor: str = "cli", letter: Letter | None = None) -> DriveLetter:
    """Refuse the letter: its writer is told, its text and address are deleted."""
    row = get_letter_row(public_id, letter)
    if row.status not in (REVIEW, RETURNED, APPROVED) or row.batch_id is not None:
        raise DriveError("Only a letter not yet in a batch can be rejected (this one is "
                         "%(status)s).", status=row.status)
    email = _email(row)
    erase(row, REJECTED)
    row.moderated_at, row.moderated_by = utcnow(), actor
    if email is not None:
        mails.queue(mails.REJECTED_MAIL, row, email)
    letters.bump_list_version(row.letter)
    _record(actor, "drive.reject", row)
    db.session.commit()
    return row


def needs_translation(row: DriveLetter) -> bool:
    return row.letter_lang != get_drive(row.letter).delivery_lang


def translate(public_id: str, text: str, *, actor: str = "cli",
              letter: Letter | None = None) -> DriveLetter:
    """Keep the translation beside the original, with who made it. Any later translation
    replaces it, and takes away an organiser's review of the earlier one."""
    row = get_letter_row(public_id, letter)
    if row.status not in (REVIEW, APPROVED) or row.batch_id is not None:
        raise DriveError("Only a letter waiting for review or approved, and not yet in a "
                         "batch, can be translated (this one is %(status)s).", status=row.status)
    if not needs_translation(row):
        raise DriveError("This letter is in the delivery language already.")
    drive = get_drive(row.letter)
    text = check_letter_text(text, int(drive.body_max * TRANSLATION_SLACK))
    row.translation_encrypted = seal(text)
    row.translated_at, row.translated_by = utcnow(), actor
    row.translation_reviewed_by = None
    _publish(row)
    letters.bump_list_version(row.letter)
    _record(actor, "drive.translate", row, f"chars={len(text)}")
    db.session.commit()
    return row


def review_translation(public_id: str, *, actor: str = "cli",
                       letter: Letter | None = None) -> DriveLetter:
    """An organiser has read the translation against the original."""
    row = get_letter_row(public_id, letter)
    if row.translation_encrypted is None:
        raise DriveError("This letter has no translation to review.")
    row.translation_reviewed_by = actor
    _record(actor, "drive.translation_reviewed", row)
    db.session.commit()
    return row


def is_ready(row: DriveLetter, delivery_lang: str) -> bool:
    """Approved, not in a batch, and readable by the censor: in the delivery language or
    translated."""
    return (row.status == APPROVED and row.batch_id is None
            and (row.letter_lang == delivery_lang or row.translation_encrypted is not None))


def letters_of(letter: Letter, status: str | None = None) -> list[DriveLetter]:
    """A drive's personal letters, oldest first; of one state if given ("translation":
    approved or in review, not in the delivery language, not yet translated; "ready":
    approved and readable, not yet in a batch)."""
    query = select(DriveLetter).where(DriveLetter.letter_id == letter.id)
    drive = get_drive(letter)
    if status == "translation":
        query = query.where(DriveLetter.status.in_((REVIEW, APPROVED)),
                            DriveLetter.batch_id.is_(None),
                            DriveLetter.letter_lang != drive.delivery_lang,
                            DriveLetter.translation_encrypted.is_(None))
    elif status == "ready":
        rows = db.session.scalars(query.where(DriveLetter.status == APPROVED)
                                  .order_by(DriveLetter.confirmed_at, DriveLetter.id)).all()
        return [row for row in rows if is_ready(row, drive.delivery_lang)]
    elif status is not None:
        if status not in LETTER_STATES:
            raise DriveError("Unknown state %(status)s; choose one of %(states)s.",
                             status=status, states=", ".join(LETTER_STATES + (
                                 "translation", "ready")))
        query = query.where(DriveLetter.status == status)
    return list(db.session.scalars(query.order_by(DriveLetter.confirmed_at,
                                                  DriveLetter.id)))


@dataclass(frozen=True)
class Reading:
    """A letter as a moderator or translator reads it, risky passages found."""

    row: DriveLetter
    name: str
    body: str
    body_passages: list[Passage]
    translation: str | None
    translation_passages: list[Passage]
    note: str | None


def reading(row: DriveLetter) -> Reading:
    body = unseal(row.body_encrypted) or ""
    translation = unseal(row.translation_encrypted)
    delivery = get_drive(row.letter).delivery_lang
    return Reading(row, unseal(row.signature_encrypted) or "", body,
                   risky_passages(body, risky_words(row.letter, row.letter_lang)),
                   translation,
                   risky_passages(translation or "", risky_words(row.letter, delivery)),
                   unseal(row.note_encrypted))
