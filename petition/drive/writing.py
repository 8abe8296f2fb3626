"""The writer's side of a drive: write a letter, confirm the address (seeing what may stop
the letter, and editing it), follow it on a private page, edit it when it is returned,
withdraw it until it is sent. Plain values in, typed exceptions out."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, cast

from flask import current_app
from sqlalchemy import DateTime, Insert, Integer, Table, bindparam, func, select
from sqlalchemy.orm import make_transient_to_detached

from petition import addresses, tokens
from petition.core.pipelining import committed_together
from petition.drive import mails
from petition.drive.settings import get_drive, risky_words
from petition.drive.values import (
    DriveError,
    DriveNotFound,
    Passage,
    check_signature,
    checked_letter_text,
    risky_passages,
    seal,
    unseal,
)
from petition.extensions import db
from petition.letters import milestones
from petition.letters import operations as letters
from petition.mail import outbox
from petition.models import DRAFT, Letter, new_nonce, new_public_id, utcnow
from petition.models.drive import (
    PENDING,
    PUBLISH_CHOICES,
    RETURNED,
    REVIEW,
    WITHDRAWABLE,
    WITHDRAWN,
    WRITTEN,
    Drive,
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


@dataclass(frozen=True)
class OpenDrive:
    """A drive that takes letters, as writing one needs it (drive_to_write())."""

    letter_id: int
    slug: str
    body_max: int


# The drive's state and its limit in one Core query: loading the letter and its settings as
# ORM objects cost 0.3 ms of a 7 ms request, and every letter written reads them. Drafts and
# letters that are no drive are not found.
_OPEN_DRIVE = (select(Letter.id, Letter.status, Letter.deadline, Drive.body_max)
               .join(Drive, Drive.letter_id == Letter.id)
               .where(Letter.slug == bindparam("slug"), Letter.status != DRAFT))


def drive_to_write(slug: str) -> OpenDrive:
    """The drive the public may write to; DriveNotFound for an unknown slug, a draft or a
    letter that is no drive, DriveClosed when it no longer takes letters."""
    found = db.session.connection().execute(_OPEN_DRIVE, {"slug": slug}).first()
    if found is None:
        raise DriveNotFound("%(slug)s is not a letter drive", slug=slug)
    # The letter's own rule (Letter.is_open), on the values read: a letter never stored.
    if not Letter(status=found.status, deadline=found.deadline).is_open:
        raise DriveClosed("The drive is closed.")
    return OpenDrive(found.id, slug, found.body_max)


def write(letter: Letter | str | OpenDrive, details: LetterDetails) -> DriveLetter | None:
    """Store a pending letter and queue the mail that confirms it, in one transaction.

    None, with nothing stored or mailed, when the address has had as many confirmation
    mails this hour as MAIL_PER_ADDRESS_PER_HOUR allows: the page says the same either way.
    """
    stored = _store(letter, details)
    if stored is None:
        return None
    # The row as stored, in the session as if read back (no query).
    row = DriveLetter(**stored)
    make_transient_to_detached(row)
    db.session.add(row)
    return row


def submit(letter: Letter | str | OpenDrive, details: LetterDetails) -> bool:
    """write() for the form, which shows the same page whatever happened: whether the
    letter was stored, without the row (making it cost 0.3 ms of a 7 ms request)."""
    return _store(letter, details) is not None


def _store(letter: Letter | str | OpenDrive, details: LetterDetails) -> dict[str, Any] | None:
    """write()'s checks and writes, committed; the row's values (its id too), or None."""
    drive = letter if isinstance(letter, OpenDrive) else _open(letter)
    body = checked_letter_text(details.body, drive.body_max)
    name = check_signature(details.name)
    if details.publish not in PUBLISH_CHOICES:
        raise DriveError("Please choose whether the letter may be published.")
    email_hash = addresses.email_hash(details.email)
    email_encrypted = addresses.encrypt(details.email)
    now = utcnow()
    row = _full_row(
        letter_id=drive.letter_id, public_id=new_public_id(), status=PENDING,
        country=details.country, lang=details.lang, letter_lang=details.letter_lang,
        publish=details.publish, wants_reply=details.wants_reply,
        signature_encrypted=seal(name), body_encrypted=seal(body), body_chars=len(body),
        email_hash=email_hash, email_encrypted=email_encrypted, token_nonce=new_nonce(),
        link_issued_at=now, created_at=now, updated_at=now)
    # The letter under the address's cap, its mail and the commit: one round trip on
    # PostgreSQL (the ORM's flush, the cap's COUNT and the commit were four). The cap is
    # counted in the INSERT; the mail's INSERT finds the letter by its new random nonce,
    # so it adds nothing if the cap turned the letter down (on SQLite that is known at
    # once, and it is not sent). Core statements: the ORM's unit of work cost more than
    # both.
    params = {**row, "since": now - _CAP_WINDOW,
              "cap": current_app.config["MAIL_PER_ADDRESS_PER_HOUR"]}
    with committed_together() as together:
        created = together.returning(_INSERT_UNDER_CAP, params)
        if created.may():
            outbox.insert_for_new_drive_letter(
                together, kind=mails.CONFIRM, to_encrypted=email_encrypted,
                letter_id=drive.letter_id, email_hash=email_hash, link_nonce=row["token_nonce"],
                lang=details.lang)
    if created.row is None:
        return None
    return {**row, "id": created.row.id}


def _open(letter: Letter | str) -> OpenDrive:
    letter = open_drive(letter)
    return OpenDrive(letter.id, letter.slug, get_drive(letter).body_max)


_CAP_WINDOW = dt.timedelta(hours=1)  # MAIL_PER_ADDRESS_PER_HOUR counts an hour
_TABLE = cast(Table, DriveLetter.__table__)
_COLUMNS = tuple(column.key for column in _TABLE.columns if not column.primary_key)
# Each column's Python default (a ColumnDefault), None where it has none.
_DEFAULTS: dict[str, Any] = {key: _TABLE.c[key].default for key in _COLUMNS}


def _full_row(**values: Any) -> dict[str, Any]:
    """`values` with every other column's Python default, None where it has none: the
    whole row, as the INSERT writes it and the object returned holds it."""
    for key, default in _DEFAULTS.items():
        if key not in values:
            values[key] = (None if default is None
                           else default.arg(None) if default.is_callable else default.arg)
    return values


def _insert_under_cap() -> Insert:
    """INSERT of a letter, every column but the id, if its address has had fewer than :cap
    confirmation links to the drive since :since; RETURNING the new id (none: the cap)."""
    binds = {key: bindparam(key, type_=_TABLE.c[key].type) for key in _COLUMNS}
    recent = (select(func.count()).select_from(_TABLE)
              .where(_TABLE.c.letter_id == binds["letter_id"],
                     _TABLE.c.email_hash == binds["email_hash"],
                     _TABLE.c.link_issued_at > bindparam("since", type_=DateTime()))
              .scalar_subquery())
    under_cap = select(*binds.values()).where(recent < bindparam("cap", type_=Integer()))
    return _TABLE.insert().from_select(list(_COLUMNS), under_cap).returning(_TABLE.c.id)


# Built once: compiling it cost about as much as running it.
_INSERT_UNDER_CAP = _insert_under_cap()


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
    body = checked_letter_text(body, get_drive(row.letter).body_max)
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
    letters.bump_list_version(row.letter)  # the letter's row locked: counts go one by one
    milestones.count_went_up(row.letter, 1, milestones.DRIVE_LETTERS)
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
