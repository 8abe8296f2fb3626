"""Withdrawal use cases: a signer takes a signature back. Plain values in, typed exceptions
out; nothing here looks at the request, the session or flash.

Every mail to a signer carries a private link (tokens.withdraw_token: the signature's random
public id, nothing else). Whoever lost it asks for a new one with the address: the mail goes
to that address only, so the form tells a visitor nothing about who signed. Withdrawing
deletes the signature itself, not a flag: a person at risk must not stay in the database.

The form only queues the request (request_links: the address encrypted in an outbox row);
the mail worker looks the address up (expand_requests). So answering takes the same work
whether the address signed or not, and its timing tells nothing either.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.engine import CursorResult

from petition import addresses, tokens
from petition.accounts import audit
from petition.extensions import db
from petition.mail import outbox
from petition.mail.outbox import WITHDRAW_REQUEST
from petition.models import CONFIRMED, MAIL_QUEUED, PENDING, OutboxMail, Signature, utcnow
from petition.signatures import mail_cap, mails
from petition.signatures.curation import remove_signatures

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
        raise InvalidWithdrawLink() from None
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


def request_links(email: str) -> None:
    """Queue a request for the withdrawal links of `email`, known or not: the same row and
    commit either way. The mail worker answers it (expand_requests)."""
    outbox.enqueue(kind=WITHDRAW_REQUEST, to=email)
    db.session.commit()


def expand_requests(limit: int = 50) -> int:
    """Answer waiting withdrawal requests: each becomes a link mail per signature made with
    its address (none for an unknown one), in the transaction that deletes it. Returns how
    many requests were answered. Several workers may run this: a request is answered by
    whoever deletes its row."""
    ids = list(db.session.scalars(
        select(OutboxMail.id).where(OutboxMail.kind == WITHDRAW_REQUEST,
                                    OutboxMail.status == MAIL_QUEUED,
                                    OutboxMail.next_attempt_at <= utcnow())
        .order_by(OutboxMail.id).limit(limit)))
    db.session.commit()
    answered = 0
    for request_id in ids:
        sealed = db.session.scalar(select(OutboxMail.recipient_encrypted)
                                   .where(OutboxMail.id == request_id))
        taken = cast(CursorResult[Any], db.session.execute(delete(OutboxMail).where(
            OutboxMail.id == request_id, OutboxMail.status == MAIL_QUEUED)
            .execution_options(synchronize_session=False))).rowcount == 1
        if not taken or sealed is None:
            db.session.rollback()  # another worker answers it
            continue
        try:
            send_links(addresses.decrypt(sealed))
        except InvalidToken:  # EMAIL_KEY changed without `keys rotate`: nothing to answer
            current_app.logger.warning("a withdrawal request could not be decrypted: dropped")
        db.session.commit()
        answered += 1
    return answered


def send_links(email: str) -> int:
    """Queue a withdrawal link to `email` for each signature made with it, on any letter,
    within the per-address mail cap; return how many. The caller commits (and must not
    tell anyone).

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
        mails.queue_withdraw_link(signature, email, send_at)
        queued += 1
    return queued


__all__ = [
    "InvalidWithdrawLink",
    "SignatureGone",
    "WithdrawalError",
    "WITHDRAW_REQUEST",
    "Withdrawn",
    "expand_requests",
    "find",
    "request_links",
    "send_links",
    "withdraw",
]
