"""Signing use cases: sign(), confirm(), resend_confirmation(). Plain values in, typed
exceptions out. Nothing here looks at the request, the session or flash.

What a link confirms is what the signer saw: a re-submission for a pending signature never
rewrites it, but gets a link of its own (SignatureVersion) that confirms exactly its
details; the address's owner picks in the mailbox. Links carry random identifiers only.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from . import addresses, counting, mail_cap, moderation, tokens
from .extensions import db
from .letters import LetterNotFound, get_letter
from .mail import messages
from .models import (
    CONFIRMED,
    FULL,
    MOD_HELD,
    MOD_NONE,
    PENDING,
    WITHDRAWN,
    Letter,
    Signature,
    SignatureVersion,
    derived_columns,
    new_nonce,
    utcnow,
)
from .submissions import Link, Submission


class SigningError(Exception):
    """Signing or confirming was refused."""


class LetterClosed(SigningError):
    """The letter no longer takes signatures."""


class SignerTypeRefused(SigningError):
    """The letter does not take this kind of signer."""


class InvalidLink(SigningError):
    """The confirmation link was tampered with, or belongs to no pending signature."""


class LinkExpired(SigningError):
    """The link is older than CONFIRM_MAX_AGE; a new one may be sent."""

    def __init__(self, link: Link) -> None:
        super().__init__("link expired")
        self.link = link


class AlreadyConfirmed(SigningError):
    """The signature behind the link is already confirmed."""

    def __init__(self, signature: Signature) -> None:
        super().__init__("already confirmed")
        self.signature = signature


class SignOutcome(Enum):
    """What sign() did. The visitor sees the same page whatever it is: no leak."""

    CREATED = "created"
    CONFIRMATION_SENT = "confirmation_sent"
    ALREADY_SIGNED_MAILED = "already_signed_mailed"


@dataclass(frozen=True)
class SignatureDetails:
    """What a signer submitted, already validated and normalised by the form."""

    signer_type: str
    name: str
    country: str
    email: str  # canonical form from email-validator
    lang: str
    affiliation: str | None = None
    display: str = FULL

    def submission(self) -> Submission:
        return Submission.make(signer_type=self.signer_type, name=self.name,
                               affiliation=self.affiliation, country=self.country,
                               display=self.display, lang=self.lang)


def sign(letter: Letter | str, details: SignatureDetails) -> SignOutcome:
    """Record a pending submission and queue its confirmation mail, in one transaction.

    `letter` is a slug, or the letter the caller has just read (a view has: no second read).
    """
    letter = _open_letter(letter)
    if details.signer_type not in letter.signer_types:
        raise SignerTypeRefused(details.signer_type)
    hashes = addresses.email_hashes(details.email)
    existing = _find(letter.id, hashes)
    if existing is None:
        try:
            return _create(letter, details, hashes[0])
        except IntegrityError:
            # Another request for the same address won the insert: carry on as a duplicate.
            db.session.rollback()
            existing = _find(letter.id, hashes)
            if existing is None:
                raise
    return _sign_again(letter, existing, details)


def _open_letter(letter: Letter | str) -> Letter:
    if isinstance(letter, str):
        letter = get_letter(letter, with_texts=True)
    if not letter.is_open:
        raise LetterClosed(letter.slug)
    return letter


def _find(letter_id: int, hashes: list[str]) -> int | None:
    """The letter's signature under any of the address's hashes, the current key first."""
    rows = db.session.execute(
        select(Signature.id, Signature.email_hash).where(
            Signature.letter_id == letter_id, Signature.email_hash.in_(hashes)
        )
    ).all()
    found = {row.email_hash: row.id for row in rows}
    return next((found[value] for value in hashes if value in found), None)


def _create(letter: Letter, details: SignatureDetails, email_hash: str) -> SignOutcome:
    now = utcnow()
    signature = Signature(
        letter_id=letter.id,
        status=PENDING,
        email_hash=email_hash,
        email_encrypted=addresses.encrypt(details.email),
        link_issued_at=now,
        last_mailed_at=now,
        mail_window_start=now,
        mail_window_count=1,
        **details.submission().columns(),
    )
    db.session.add(signature)
    db.session.flush()  # the unique key fires here
    messages.queue_confirmation(Link(signature), details.email)
    db.session.commit()
    return SignOutcome.CREATED


def _sign_again(letter: Letter, signature_id: int, details: SignatureDetails) -> SignOutcome:
    mail_cap.lock(signature_id)  # one request per address at a time, until commit
    signature = db.session.get(Signature, signature_id, populate_existing=True)
    now, send_at = mail_cap.reserve(signature)
    if signature.status == CONFIRMED:
        messages.queue_already_signed(signature, details.email, details.lang, send_at)
        db.session.commit()
        return SignOutcome.ALREADY_SIGNED_MAILED
    submission = details.submission()
    if signature.status == WITHDRAWN:
        _reopen(signature, submission)
    if signature.email_encrypted is None:
        signature.email_encrypted = addresses.encrypt(details.email)
    link, is_new = _link_for(signature, submission, now, send_at)
    mail = messages.queue_confirmation(link, details.email, send_at)
    if is_new and send_at > now:
        db.session.flush()
        link.version.mail_id = mail.id  # a later request in the same wait replaces both
    db.session.commit()
    return SignOutcome.CONFIRMATION_SENT


def _reopen(signature: Signature, submission: Submission) -> None:
    """A withdrawn signature signed again: a fresh start, no earlier link works."""
    db.session.execute(delete(SignatureVersion).where(SignatureVersion.signature_id == signature.id))
    for name, value in submission.columns().items():
        setattr(signature, name, value)
    signature.status = PENDING
    signature.token_nonce = new_nonce()
    signature.link_issued_at = None  # expired: _link_for() issues it anew


def _link_for(signature: Signature, submission: Submission, now: dt.datetime,
              send_at: dt.datetime) -> tuple[Link, bool]:
    """The link for `submission`: an earlier one listing it alike, else a new version."""
    versions = db.session.scalars(
        select(SignatureVersion).where(SignatureVersion.signature_id == signature.id)
        .order_by(SignatureVersion.id)
    )
    for link in [Link(signature)] + [Link(signature, version) for version in versions]:
        if link.submission.lists_like(submission):
            if link.expired(now):
                link.renew(send_at)
            return link, False
    version = SignatureVersion(signature_id=signature.id, link_issued_at=send_at,
                               **submission.columns())
    db.session.add(version)
    db.session.flush()
    return Link(signature, version), True


def _signature(condition) -> Signature | None:
    """The signature read afresh with its letter and the letter's texts, in one query:
    every page and mail about a link needs all three."""
    return db.session.scalars(
        select(Signature).where(condition)
        .options(joinedload(Signature.letter).joinedload(Letter.texts))
        .execution_options(populate_existing=True)
    ).unique().first()


def find_link(token: str) -> Link:
    """The pending signature and the submission a confirmation link points at."""
    try:
        public_id, nonce = tokens.read_confirm_token(token)
    except tokens.BadSignature:
        raise InvalidLink()
    signature = _signature(Signature.public_id == public_id)
    if signature is None:
        raise InvalidLink()
    if signature.status == CONFIRMED:
        # Any link made for it, the one used or one it superseded: we signed the token.
        raise AlreadyConfirmed(signature)
    if signature.status != PENDING:
        raise InvalidLink()
    if secrets.compare_digest(signature.token_nonce, nonce):
        link = Link(signature)
    else:
        version = db.session.scalar(
            select(SignatureVersion).where(SignatureVersion.signature_id == signature.id,
                                           SignatureVersion.nonce == nonce)
            .execution_options(populate_existing=True)
        )
        if version is None:
            raise InvalidLink()
        link = Link(signature, version)
    if link.expired(utcnow()):
        raise LinkExpired(link)
    return link


def confirm(token: str) -> Signature:
    """Confirm exactly the submission behind `token`. Safe against double clicks and races."""
    link = find_link(token)
    signature, submission = link.signature, link.submission
    letter = signature.letter
    if not letter.is_open:
        raise LetterClosed(letter.slug)
    held = moderation.must_hold(letter, submission.signer_type, submission.name)
    now = utcnow()
    confirmed = {
        "status": CONFIRMED,
        "confirmed_at": now,
        "moderation": MOD_HELD if held else MOD_NONE,
        # Mail no longer needs the address: keep only the keyed hash for duplicates.
        "email_encrypted": None,
        **_with_key(submission.columns()),
    }
    result = db.session.execute(
        update(Signature)
        # Still pending and not reopened since the link was read: one confirmation wins.
        .where(Signature.id == signature.id, Signature.status == PENDING,
               Signature.token_nonce == signature.token_nonce)
        .values(**confirmed)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return _confirmed_meanwhile(signature)
    # Every other version goes, and with them the mail still waiting for the cap: links to
    # them are no longer of use.
    db.session.execute(delete(SignatureVersion).where(SignatureVersion.signature_id == signature.id)
                       .execution_options(synchronize_session=False))
    mail_cap.drop_waiting(signature.id, now, versions_gone=True)
    if not held:
        counting.changed(letter, added=[counting.entry_of(submission.values())])
    # The page shows what was just written: the row in memory is made to say it, and kept
    # through the commit (which would expire it) rather than read again.
    for name, value in confirmed.items():
        set_committed_value(signature, name, value)
    _commit_keeping_loaded_rows()
    return signature


def _commit_keeping_loaded_rows() -> None:
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def _with_key(columns: dict[str, object]) -> dict[str, object]:
    """Stored columns and their sort key and fold, from what the list shows (never a hidden
    name): an UPDATE statement skips the model's listener."""
    return {**columns, **derived_columns(columns["signer_type"], columns["name"],
                                         columns["display"])}


def _confirmed_meanwhile(signature: Signature) -> Signature:
    try:
        db.session.refresh(signature)
    except InvalidRequestError:  # the row is gone: withdrawn or purged since the link was read
        raise InvalidLink() from None
    if signature.status == CONFIRMED:
        raise AlreadyConfirmed(signature)
    raise InvalidLink()


def _expired_link(token: str) -> Link | None:
    """The link behind `token` if it has expired, None if it still works."""
    try:
        find_link(token)
    except LinkExpired as expired:
        return expired.link
    return None


def resend_confirmation(token: str) -> None:
    """Mail a new link for the submission behind an expired link (capped, silent)."""
    link = _expired_link(token)
    if link is None:
        return  # still valid: the mail already holds it
    mail_cap.lock(link.signature.id)
    try:
        link = _expired_link(token)  # again under the lock: a concurrent resend may have won
    except SigningError:
        link = None
    if link is None or not link.signature.email_encrypted:
        db.session.rollback()
        return
    signature = link.signature
    _, send_at = mail_cap.reserve(signature)
    link.renew(send_at)
    messages.queue_confirmation(link, addresses.decrypt(signature.email_encrypted), send_at)
    db.session.commit()


__all__ = [
    "AlreadyConfirmed",
    "InvalidLink",
    "LetterClosed",
    "LetterNotFound",
    "LinkExpired",
    "SignOutcome",
    "SignatureDetails",
    "SignerTypeRefused",
    "SigningError",
    "confirm",
    "find_link",
    "resend_confirmation",
    "sign",
]
