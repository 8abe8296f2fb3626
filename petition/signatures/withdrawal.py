"""Withdrawal use cases: a signer takes a signature back. Plain values in, typed exceptions
out; nothing here looks at the request, the session or flash.

Every mail to a signer carries a private link (tokens.withdraw_token: the signature's random
public id, nothing else). Whoever lost it asks for a new one with the address: the mail goes
to that address only, so the form tells a visitor nothing about who signed. Withdrawing
deletes the signature itself, not a flag: a person at risk must not stay in the database.

The form only queues the request (request_links: the address encrypted in an outbox row);
the mail worker looks the address up (expand_requests). So answering takes the same work
whether the address signed or not, and its timing tells nothing either.

Nor does the mailbox learn it: every request is answered by exactly one mail, with the same
subject, whether the address signed (the mail lists the links of all its signatures) or not
(it says there is nothing under this address), and under a cap of its own, per address, that
counts these answers only (mail_cap.answer_send_time): neither how many arrive nor when
depends on whether the address signed. (The signature rows' cap is the sign form's: an
answer counted there would delay a signer's next sign mail, and only a signer's.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult

from petition import addresses, tokens
from petition.accounts import audit
from petition.extensions import db
from petition.mail import outbox
from petition.mail.outbox import WITHDRAW_ANSWER, WITHDRAW_REQUEST
from petition.models import CONFIRMED, MAIL_QUEUED, PENDING, OutboxMail, Signature, utcnow
from petition.news import subscriptions
from petition.signatures import mail_cap
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
    news_ended: bool = False  # the address's news subscription ended with it


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


def withdraw(token: str, end_news: bool = True) -> Withdrawn:
    """Delete the signature behind `token`, its versions and its waiting mail, in one
    transaction with the list version and an audit event. `end_news`: the letter's news
    subscription of the same address ends too (the signer's choice; kept when False)."""
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
    # Found by the address's hash, read before the row goes (retention may have erased
    # it: then there is nothing to find).
    news_ended = end_news and subscriptions.end_for_hash(letter.id, signature.email_hash)
    # SignatureVersion rows cascade; a public one leaves the counts, page, JSON and exports
    # at once (remove_signatures bumps the list version).
    remove_signatures(letter, [signature.id])
    detail = "confirmed" if was_confirmed else "pending"
    audit.record(ACTOR, "signature.withdraw", letter_slug=letter.slug,
                 detail=detail + (", news ended" if news_ended else ""), commit=False)
    db.session.commit()
    return Withdrawn(letter.slug, lang, was_confirmed, news_ended)


def has_news(signature: Signature) -> bool:
    """Whether the address that made `signature` is subscribed to its letter's news (the
    withdrawal page then asks whether to stop it too)."""
    return subscriptions.find_by_hash(signature.letter_id, signature.email_hash) is not None


def request_links(email: str, lang: str | None = None) -> None:
    """Queue a request for the withdrawal links of `email`, known or not: the same row and
    commit either way. The mail worker answers it (expand_requests), in `lang`."""
    outbox.enqueue(kind=WITHDRAW_REQUEST, to=email, lang=lang)
    db.session.commit()


def expand_requests(limit: int = 50) -> int:
    """Answer waiting withdrawal requests: each becomes one mail (WITHDRAW_ANSWER) to its
    address, known or not, within the address's answer cap; the mail lists the address's
    signatures when it is delivered (mails.render). Returns how many requests were
    answered. Several workers may run this: a request is answered by whoever takes its row."""
    ids = list(db.session.scalars(
        select(OutboxMail.id).where(OutboxMail.kind == WITHDRAW_REQUEST,
                                    OutboxMail.status == MAIL_QUEUED,
                                    OutboxMail.next_attempt_at <= utcnow())
        .order_by(OutboxMail.id).limit(limit)))
    db.session.commit()
    answered = 0
    for request_id in ids:
        found = db.session.execute(select(OutboxMail.recipient_encrypted, OutboxMail.lang)
                                   .where(OutboxMail.id == request_id)).one_or_none()
        db.session.commit()  # end the read: answer() begins with a write (SQLite's lock)
        if found is None or found.recipient_encrypted is None:
            continue  # answered by another worker
        try:
            email: str | None = addresses.decrypt(found.recipient_encrypted)
        except InvalidToken:  # EMAIL_KEY changed without `keys rotate`: nothing to answer
            email = None
        if answer(request_id, email, found.lang):
            answered += 1
        db.session.commit()
    return answered


def answer(request_id: int, email: str | None, lang: str | None) -> bool:
    """Turn the request row into its answer mail, due when the address's answer cap allows,
    or merge it into the answer already waiting for the cap; False, with nothing done, if
    another worker took it first. The caller commits."""
    tag = mail_cap.answer_tag(email) if email is not None else None
    if tag is not None:
        mail_cap.lock_address(tag)
    # Take the row (on SQLite this write locks the file: two workers' answers take turns).
    taken = cast(CursorResult[Any], db.session.execute(
        update(OutboxMail).where(OutboxMail.id == request_id, OutboxMail.kind == WITHDRAW_REQUEST,
                                 OutboxMail.status == MAIL_QUEUED)
        .values(kind=WITHDRAW_ANSWER).execution_options(synchronize_session=False))).rowcount
    if taken != 1:
        db.session.rollback()  # another worker answers it
        return False
    if tag is None:
        current_app.logger.warning("a withdrawal request could not be decrypted: dropped")
        db.session.execute(delete(OutboxMail).where(OutboxMail.id == request_id))
        return True
    now = utcnow()
    waiting = mail_cap.waiting_answer(tag, now)
    if waiting is not None:
        # An answer waits for the cap already: it lists the same signatures (they are read
        # when it is sent), in the language asked for last.
        db.session.execute(update(OutboxMail).where(OutboxMail.id == waiting).values(lang=lang)
                           .execution_options(synchronize_session=False))
        db.session.execute(delete(OutboxMail).where(OutboxMail.id == request_id))
        return True
    db.session.execute(update(OutboxMail).where(OutboxMail.id == request_id)
                       .values(cap_tag=tag, next_attempt_at=mail_cap.answer_send_time(tag, now))
                       .execution_options(synchronize_session=False))
    return True


__all__ = [
    "InvalidWithdrawLink",
    "SignatureGone",
    "WithdrawalError",
    "WITHDRAW_REQUEST",
    "Withdrawn",
    "expand_requests",
    "find",
    "request_links",
    "answer",
    "withdraw",
]
