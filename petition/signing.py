"""Signing use cases: sign() and confirm(). Plain values in, typed exceptions out.

Nothing here looks at the request, the session or flash: the views translate outcomes.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from enum import Enum

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from . import addresses, tokens
from .extensions import db
from .letters import LetterNotFound, get_letter
from .mail import messages
from .models import (
    CONFIRMED,
    INDIVIDUAL,
    FULL,
    MOD_HELD,
    MOD_NONE,
    ORGANIZATION,
    PENDING,
    WITHDRAWN,
    Letter,
    Signature,
    utcnow,
)


class SigningError(Exception):
    """Signing or confirming was refused."""


class LetterClosed(SigningError):
    """The letter no longer takes signatures."""


class SignerTypeRefused(SigningError):
    """The letter does not take this kind of signer."""


class InvalidLink(SigningError):
    """The confirmation link was tampered with, or belongs to no signature."""


class LinkExpired(SigningError):
    """The confirmation link is older than CONFIRM_MAX_AGE; a new one may be sent."""

    def __init__(self, signature_id: int) -> None:
        super().__init__("link expired")
        self.signature_id = signature_id


class AlreadyConfirmed(SigningError):
    """The link was used before: the signature is already confirmed."""

    def __init__(self, signature: Signature) -> None:
        super().__init__("already confirmed")
        self.signature = signature


class SignOutcome(Enum):
    """What sign() did. The visitor sees the same page whatever it is: no leak."""

    CREATED = "created"
    CONFIRMATION_RESENT = "confirmation_resent"
    ALREADY_SIGNED_MAILED = "already_signed_mailed"
    MAIL_THROTTLED = "mail_throttled"


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
    ip: str | None = None


def sign(slug: str, details: SignatureDetails) -> SignOutcome:
    """Record a pending signature and queue its confirmation mail, in one transaction."""
    letter = _open_letter(slug)
    if details.signer_type not in letter.signer_types:
        raise SignerTypeRefused(details.signer_type)
    email_hash = addresses.email_hash(details.email)
    existing = _find(letter.id, email_hash)
    if existing is None:
        try:
            return _create(letter, details, email_hash)
        except IntegrityError:
            # Another request for the same address won the insert: carry on as a duplicate.
            db.session.rollback()
            existing = _find(letter.id, email_hash)
            if existing is None:
                raise
    return _sign_again(letter, existing, details)


def _open_letter(slug: str) -> Letter:
    letter = get_letter(slug)
    if not letter.is_open:
        raise LetterClosed(slug)
    return letter


def _find(letter_id: int, email_hash: str) -> Signature | None:
    return db.session.scalar(
        select(Signature).where(
            Signature.letter_id == letter_id, Signature.email_hash == email_hash
        )
    )


def _apply(signature: Signature, details: SignatureDetails) -> None:
    signature.signer_type = details.signer_type
    signature.name = details.name
    signature.affiliation = details.affiliation or None
    signature.country = details.country
    # Organisations are always listed by name; only individuals may hide.
    signature.display = details.display if details.signer_type == INDIVIDUAL else FULL
    signature.lang = details.lang
    signature.email_encrypted = addresses.encrypt(details.email)
    signature.ip_hash = addresses.ip_hash(details.ip)


def _create(letter: Letter, details: SignatureDetails, email_hash: str) -> SignOutcome:
    signature = Signature(
        letter_id=letter.id,
        status=PENDING,
        email_hash=email_hash,
        token_nonce=secrets.token_hex(16),
        last_mailed_at=utcnow(),
    )
    _apply(signature, details)
    db.session.add(signature)
    db.session.flush()  # the id goes into the token; the unique key fires here
    messages.queue_confirmation(signature, letter, details.email)
    db.session.commit()
    return SignOutcome.CREATED


def _claim_mail_slot(signature: Signature) -> bool:
    """Atomically take the right to mail this address about this letter now.

    A conditional UPDATE, so two concurrent duplicates cannot both send: at most one mail
    per address per letter per MAIL_RESEND_INTERVAL.
    """
    now = utcnow()
    cutoff = now - dt.timedelta(seconds=current_app.config["MAIL_RESEND_INTERVAL"])
    result = db.session.execute(
        update(Signature)
        .where(
            Signature.id == signature.id,
            or_(Signature.last_mailed_at.is_(None), Signature.last_mailed_at <= cutoff),
        )
        .values(last_mailed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _sign_again(letter: Letter, signature: Signature, details: SignatureDetails) -> SignOutcome:
    if not _claim_mail_slot(signature):
        db.session.rollback()
        return SignOutcome.MAIL_THROTTLED
    db.session.refresh(signature)
    if signature.status == CONFIRMED:
        messages.queue_already_signed(signature, letter, details.email, details.lang)
        db.session.commit()
        return SignOutcome.ALREADY_SIGNED_MAILED
    if signature.status == WITHDRAWN:
        signature.status = PENDING
        signature.token_nonce = secrets.token_hex(16)
    # Still pending: the latest submission wins, and the confirm page shows it before the click.
    _apply(signature, details)
    messages.queue_confirmation(signature, letter, details.email)
    db.session.commit()
    return SignOutcome.CONFIRMATION_RESENT


def signature_for_link(token: str) -> Signature:
    """The pending signature a confirmation link points at (for the page with the button)."""
    try:
        signature_id, nonce = tokens.read_confirm_token(token)
    except tokens.SignatureExpired:
        payload = tokens.expired_token_payload(token)
        if payload is None:
            raise InvalidLink()
        raise LinkExpired(payload[0])
    except tokens.BadSignature:
        raise InvalidLink()
    signature = db.session.get(Signature, signature_id)
    if signature is None or not secrets.compare_digest(signature.token_nonce, nonce):
        raise InvalidLink()
    if signature.status == CONFIRMED:
        raise AlreadyConfirmed(signature)
    if signature.status != PENDING:
        raise InvalidLink()
    return signature


def confirm(token: str) -> Signature:
    """Confirm the signature behind `token`. Safe against double clicks and races."""
    signature = signature_for_link(token)
    letter = signature.letter
    if not letter.is_open:
        raise LetterClosed(letter.slug)
    held = signature.signer_type == ORGANIZATION and letter.moderate_organizations
    result = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.status == PENDING)
        .values(
            status=CONFIRMED,
            confirmed_at=utcnow(),
            moderation=MOD_HELD if held else MOD_NONE,
            # Mail no longer needs the address: keep only the keyed hash for duplicates.
            email_encrypted=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(signature)
    if result.rowcount != 1:
        raise AlreadyConfirmed(signature)
    return signature


def resend_confirmation(signature_id: int) -> None:
    """Send a fresh link for a pending signature whose link expired (throttled, silent)."""
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.status != PENDING or not signature.email_encrypted:
        return
    if not _claim_mail_slot(signature):
        db.session.rollback()
        return
    db.session.refresh(signature)
    email = addresses.decrypt(signature.email_encrypted)
    messages.queue_confirmation(signature, signature.letter, email)
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
    "resend_confirmation",
    "sign",
    "signature_for_link",
]
