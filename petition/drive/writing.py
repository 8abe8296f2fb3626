"""The writer's side of a drive: write a letter, confirm the address (seeing what may stop
the letter, and editing it), follow it on a private page, edit it when it is returned,
withdraw it until it is sent. Plain values in, typed exceptions out."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from petition import addresses, tokens
from petition.drive import mails
from petition.drive.settings import get_drive, risky_words
from petition.drive.values import (
    DriveError,
    Passage,
    check_letter_text,
    check_signature,
    risky_passages,
    seal,
    unseal,
)
from petition.extensions import db
from petition.letters import operations as letters
from petition.models import Letter, new_nonce, utcnow
from petition.models.drive import (
    PENDING,
    PUBLISH_CHOICES,
    RETURNED,
    REVIEW,
    WITHDRAWABLE,
    WITHDRAWN,
    WRITTEN,
    DriveLetter,
)


class DriveClosed(DriveError):
    """The drive no longer takes letters."""


class InvalidLink(DriveError):
    """The link was tampered with, or names no letter it could act on."""


class LinkExpired(DriveError):
    """The confirmation link is older than CONFIRM_MAX_AGE."""


class AlreadyConfirmed(DriveError):
    """The letter behind the link is confirmed already."""

    def __init__(self, row: DriveLetter) -> None:
        super().__init__("already confirmed")
        self.row = row


@dataclass(frozen=True)
class LetterDetails:
    """What a writer submitted, checked by the form (country, language, address)."""

    name: str
    country: str
    email: str  # canonical (addresses.canonical_email)
    letter_lang: str
    body: str
    publish: str
    lang: str  # of the page: the writer's mails
    wants_reply: bool = False


def open_drive(letter: Letter | str) -> Letter:
    if isinstance(letter, str):
        letter = letters.get_letter(letter, with_texts=True)
    if not letter.is_drive:
        raise DriveError("%(slug)s is not a letter drive", slug=letter.slug)
    if not letter.is_open:
        raise DriveClosed("The drive is closed.")
    return letter


def write(letter: Letter | str, details: LetterDetails) -> DriveLetter | None:
    """Store a pending letter and queue the mail that confirms it, in one transaction.

    None, with nothing stored or mailed, when the address has had as many confirmation
    mails this hour as MAIL_PER_ADDRESS_PER_HOUR allows: the page says the same either way.
    """
    letter = open_drive(letter)
    drive = get_drive(letter)
    body = check_letter_text(details.body, drive.body_max)
    name = check_signature(details.name)
    if details.publish not in PUBLISH_CHOICES:
        raise DriveError("Please choose whether the letter may be published.")
    email_hash = addresses.email_hash(details.email)
    now = utcnow()
    if _mailed_this_hour(letter.id, email_hash, now) >= current_app.config[
            "MAIL_PER_ADDRESS_PER_HOUR"]:
        return None
    row = DriveLetter(letter_id=letter.id, status=PENDING, country=details.country,
                      lang=details.lang, letter_lang=details.letter_lang,
                      publish=details.publish, wants_reply=details.wants_reply,
                      signature_encrypted=seal(name), body_encrypted=seal(body),
                      body_chars=len(body), email_hash=email_hash,
                      email_encrypted=addresses.encrypt(details.email), link_issued_at=now,
                      created_at=now, updated_at=now)
    db.session.add(row)
    db.session.flush()
    mails.queue(mails.CONFIRM, row, details.email)
    db.session.commit()
    return row


def _mailed_this_hour(letter_id: int, email_hash: str, now: dt.datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(DriveLetter).where(
        DriveLetter.letter_id == letter_id, DriveLetter.email_hash == email_hash,
        DriveLetter.link_issued_at > now - dt.timedelta(hours=1))) or 0


def find_pending(token: str) -> DriveLetter:
    """The pending letter a confirmation link names."""
    try:
        public_id, nonce = tokens.read_drive_confirm_token(token)
    except tokens.BadSignature:
        raise InvalidLink("invalid link") from None
    row = _by_public_id(public_id)
    if row is None:
        raise InvalidLink("invalid link")
    if row.status in WRITTEN:
        raise AlreadyConfirmed(row)
    if row.status != PENDING or not secrets.compare_digest(row.token_nonce, nonce):
        raise InvalidLink("invalid link")
    max_age = dt.timedelta(seconds=current_app.config["CONFIRM_MAX_AGE"])
    if row.link_issued_at is None or utcnow() - row.link_issued_at > max_age:
        raise LinkExpired("link expired")
    return row


def _by_public_id(public_id: str) -> DriveLetter | None:
    return db.session.scalars(select(DriveLetter).where(DriveLetter.public_id == public_id)
                              .execution_options(populate_existing=True)).first()


def writer_letter(token: str) -> DriveLetter:
    """The letter a writer's private link names, whatever its state."""
    try:
        public_id = tokens.read_drive_writer_token(token)
    except tokens.BadSignature:
        raise InvalidLink("invalid link") from None
    row = _by_public_id(public_id)
    if row is None:
        raise InvalidLink("invalid link")
    return row


@dataclass(frozen=True)
class Draft:
    """A letter as its writer sees it on a private page, with what a censor may stop."""

    row: DriveLetter
    name: str
    body: str
    passages: list[Passage]
    note: str | None


def draft(row: DriveLetter) -> Draft:
    body = unseal(row.body_encrypted) or ""
    return Draft(row, unseal(row.signature_encrypted) or "", body,
                 risky_passages(body, risky_words(row.letter, row.letter_lang)),
                 unseal(row.note_encrypted))


def _replace_text(row: DriveLetter, body: str) -> None:
    body = check_letter_text(body, get_drive(row.letter).body_max)
    row.body_encrypted = seal(body)
    row.body_chars = len(body)
    row.updated_at = utcnow()


def edit_pending(token: str, body: str) -> DriveLetter:
    """Change the text of a letter not yet confirmed; the same link confirms the new text."""
    row = find_pending(token)
    _replace_text(row, body)
    db.session.commit()
    return row


def confirm(token: str) -> DriveLetter:
    """The address is the writer's: the letter counts, and waits for a moderator."""
    row = find_pending(token)
    if not row.letter.is_open:
        raise DriveClosed("The drive is closed.")
    now = utcnow()
    row.status, row.confirmed_at, row.token_nonce = REVIEW, now, new_nonce()
    letters.bump_list_version(row.letter)
    db.session.commit()
    return row


def resubmit(token: str, body: str) -> DriveLetter:
    """A returned letter, edited by its writer, goes back to the moderators."""
    row = writer_letter(token)
    if row.status != RETURNED:
        raise DriveError("This letter is not waiting for changes.")
    _replace_text(row, body)
    row.status, row.note_encrypted = REVIEW, None
    db.session.commit()
    return row


def withdraw(token: str) -> DriveLetter:
    """Take the letter back (until it is sent): its text and address are deleted."""
    row = writer_letter(token)
    if row.status not in WITHDRAWABLE:
        if row.status == WITHDRAWN:
            return row
        raise DriveError("This letter was sent already: it can no longer be withdrawn.")
    was_written = row.status in WRITTEN
    erase(row, WITHDRAWN)
    if was_written:
        letters.bump_list_version(row.letter)
    db.session.commit()
    return row


def erase(row: DriveLetter, status: str) -> None:
    """Leave the row as a count of nothing: state, country and languages; no text, no
    name, no address, out of any batch not yet sent."""
    row.status = status
    for column in ("signature_encrypted", "body_encrypted", "note_encrypted",
                   "translation_encrypted", "email_encrypted", "email_hash",
                   "published_name", "published_body", "published_translation",
                   "published_at", "batch_id"):
        setattr(row, column, None)
    row.body_chars = 0
    row.token_nonce = new_nonce()
    row.updated_at = utcnow()
