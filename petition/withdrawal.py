"""Withdrawal use cases: a signer takes a signature back. Plain values in, typed exceptions
out; nothing here looks at the request, the session or flash.

Every mail to a signer carries a private link (tokens.withdraw_token: the signature's random
public id, nothing else). Whoever lost it asks for a new one with the address: the mail goes
to that address only, so the form tells a visitor nothing about who signed. Withdrawing
deletes the signature itself, not a flag: a person at risk must not stay in the database.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from . import addresses, mail_cap, tokens
from .admin import audit
from .curation import remove_signatures
from .extensions import db
from .mail import messages
from .models import CONFIRMED, PENDING, Signature

# Who the audit log names for a withdrawal: never the signer's name, address or public id.
ACTOR = "signer"


class WithdrawalError(Exception):
    """A withdrawal was refused."""


class InvalidWithdrawLink(WithdrawalError):
    """The token was not made here for withdrawing (tampered, cut short, another purpose)."""


class SignatureGone(WithdrawalError):
    """The link is genuine but its signature no longer exists (withdrawn, deleted, purged)."""


@dataclass(frozen=True)
class Withdrawn:
    """What withdraw() removed, for the page that says so."""

    letter_slug: str
    lang: str  # the signer's: the page that says so speaks it
    was_confirmed: bool


def find(token: str) -> Signature:
    """The signature a withdrawal link points at, pending or confirmed."""
    try:
        public_id = tokens.read_withdraw_token(token)
    except tokens.BadSignature:
        raise InvalidWithdrawLink()
    signature = db.session.scalar(
        select(Signature).where(Signature.public_id == public_id,
                                Signature.status.in_((PENDING, CONFIRMED)))
        .execution_options(populate_existing=True)
    )
    if signature is None:
        raise SignatureGone()
    return signature


def withdraw(token: str) -> Withdrawn:
    """Delete the signature behind `token`, its versions and its waiting mail, in one
    transaction with the list version and an audit event."""
    signature_id = find(token).id
    # Take the row's lock, then read it again: a confirmation or another withdrawal running
    # at the same time finishes first, so `was_public` is what the list really showed.
    mail_cap.lock(signature_id)
    signature = db.session.get(Signature, signature_id, populate_existing=True)
    if signature is None or signature.status not in (PENDING, CONFIRMED):
        db.session.rollback()
        raise SignatureGone()
    letter = signature.letter
    was_confirmed = signature.status == CONFIRMED
    lang = signature.lang
    # SignatureVersion rows cascade; a public one leaves the counts, page, JSON and exports
    # at once (remove_signatures bumps the list version).
    remove_signatures(letter, [signature.id])
    audit.record(ACTOR, "signature.withdraw", letter_slug=letter.slug,
                 detail="confirmed" if was_confirmed else "pending", commit=False)
    db.session.commit()
    return Withdrawn(letter.slug, lang, was_confirmed)


def send_links(email: str) -> int:
    """Queue a withdrawal link to `email` for each signature made with it, on any letter,
    within the per-address mail cap; return how many (the caller must not tell anyone).

    `email` is canonical (email-validator's form); mail goes to it as given.
    """
    ids = list(db.session.scalars(
        select(Signature.id).where(Signature.email_hash.in_(addresses.email_hashes(email)),
                                   Signature.status.in_((PENDING, CONFIRMED)))
        .order_by(Signature.id)  # rows locked in one order: two requests cannot deadlock
    ))
    queued = 0
    for signature_id in ids:
        mail_cap.lock(signature_id)
        signature = db.session.get(Signature, signature_id, populate_existing=True)
        if signature is None or signature.status not in (PENDING, CONFIRMED):
            continue
        _, send_at = mail_cap.reserve(signature)
        messages.queue_withdraw_link(signature, email, send_at)
        queued += 1
    db.session.commit()
    return queued


__all__ = [
    "InvalidWithdrawLink",
    "SignatureGone",
    "WithdrawalError",
    "Withdrawn",
    "find",
    "send_links",
    "withdraw",
]
