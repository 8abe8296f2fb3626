"""The outbox: mail is written in the caller's transaction and delivered later.

So a signature and its confirmation mail are stored together or not at all, and a mail
server that is down loses nothing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, cast

from cryptography.fernet import InvalidToken
from flask import current_app, has_app_context
from sqlalchemy import CursorResult, Insert, Table, bindparam, func, or_, select, update

from petition.addresses import decrypt, encrypt, keyed_hash
from petition.core.pipelining import Together
from petition.extensions import db
from petition.mail.backends import build_message
from petition.mail.errors import MailRejected, short_error
from petition.models import (
    MAIL_DROPPED,
    MAIL_FAILED,
    MAIL_QUEUED,
    MAIL_SENDING,
    MAIL_SENT,
    OutboxMail,
    Signature,
    utcnow,
)
from petition.models.drive import DriveLetter

# An outbox row that is no mail: an address someone asked withdrawal links for, answered
# by the mail worker (withdrawal.expand_requests), never claimed for sending.
WITHDRAW_REQUEST = "withdraw_request"
# Another: a milestone a letter has reached (letters.milestones), for its organisers, which
# the mail worker turns into their mails (milestones.expand_requests).
MILESTONE_REQUEST = "milestone_request"
# Another: a trend on a letter (abuse.alerts), mailed to its organisers the same way.
ABUSE_REQUEST = "abuse_request"
REQUESTS = (WITHDRAW_REQUEST, MILESTONE_REQUEST, ABUSE_REQUEST)
# The one mail that answers it, whether the address signed or not: rendered at delivery. Its
# `cap_tag` holds the address's tag for the per-address cap (signatures.mail_cap) until
# forget_cap_tags() clears it.
WITHDRAW_ANSWER = "withdraw_answer"
# How long a tag serves the cap: MAIL_PER_ADDRESS_PER_HOUR counts an hour.
CAP_WINDOW = dt.timedelta(hours=1)

# Noted on the database session by enqueue(), so the in-process worker is woken after the
# request (take_enqueued_flag()).
ENQUEUED_FLAG = "petition_mail_enqueued"


def enqueue(
    *,
    kind: str,
    to: str,
    subject: str = "",
    text: str | None = None,
    html: str | None = None,
    signature_id: int | None = None,
    link_nonce: str | None = None,
    lang: str | None = None,
    not_before: dt.datetime | None = None,
) -> OutboxMail:
    """Add a mail to the session; the caller commits it with its own changes.

    Without `text`, the mail is rendered at delivery (messages.render) from the signature,
    the link nonce and the language. `not_before` holds it back until then (the per-address
    cap, see mail_cap).
    """
    mail = OutboxMail(**_row(kind, to, subject, text, html, signature_id, link_nonce, lang,
                             not_before))
    db.session.add(mail)
    _wake_dispatcher()
    return mail


def insert_for_new_signature(together: Together, *, kind: str, to: str, letter_id: int,
                             email_hash: str, link_nonce: str, lang: str) -> None:
    """enqueue() as one INSERT sent with the commit, for the signature of `letter_id` and
    `email_hash` whose link nonce is `link_nonce`: the one this transaction has just
    inserted, if it has (the address may have signed before: that row's nonce is another
    random value, and the INSERT adds nothing). So it can be sent before the signature's
    insert is answered. For the confirmation of a new signature, where the ORM's flush
    cost more than the insert."""
    row = _row(kind, to, "", None, None, None, link_nonce, lang, None)
    del row["signature_id"]
    together.execute(_INSERT_FOR_NEW_SIGNATURE, {**row, "created_at": row["next_attempt_at"],
                                                 "letter_id": letter_id, "email_hash": email_hash})
    _wake_dispatcher()


def _insert_for_new_row(table: Table, reference: str) -> Insert:
    """INSERT of a mail naming the row of `table` that has the given letter, address hash
    and link nonce (in column `reference`), if there is one: the sender's new row."""
    outbox = cast(Table, OutboxMail.__table__)
    names = ["kind", "recipient_encrypted", "subject", "body_text", "body_html", "link_nonce",
             "lang", "status", "attempts", "next_attempt_at", "created_at"]
    values = [bindparam(name, type_=outbox.c[name].type) for name in names]
    found = select(*values, table.c.id).where(
        table.c.letter_id == bindparam("letter_id"),
        table.c.email_hash == bindparam("email_hash"),
        table.c.token_nonce == bindparam("link_nonce"))
    return outbox.insert().from_select(names + [reference], found)


_INSERT_FOR_NEW_SIGNATURE = _insert_for_new_row(cast(Table, Signature.__table__),
                                                "signature_id")


def insert_for_new_drive_letter(together: Together, *, kind: str, to_encrypted: bytes,
                                letter_id: int, email_hash: str, link_nonce: str,
                                lang: str) -> None:
    """insert_for_new_signature() for a personal letter to a drive (drive.writing): the
    mail names the letter of `letter_id` and `email_hash` whose nonce is `link_nonce`, the
    one this transaction has just inserted, if it has (the per-address cap may have turned
    it down: the INSERT then adds nothing). The recipient comes encrypted: the letter's own
    copy of the address, encrypted once for both rows."""
    row = _row(kind, "", "", None, None, None, link_nonce, lang, None, to_encrypted)
    del row["signature_id"]
    together.execute(_INSERT_FOR_NEW_DRIVE_LETTER, {
        **row, "created_at": row["next_attempt_at"], "letter_id": letter_id,
        "email_hash": email_hash})
    _wake_dispatcher()


_INSERT_FOR_NEW_DRIVE_LETTER = _insert_for_new_row(cast(Table, DriveLetter.__table__),
                                                   "drive_letter_id")


def _row(kind: str, to: str, subject: str, text: str | None, html: str | None,
         signature_id: int | None, link_nonce: str | None, lang: str | None,
         not_before: dt.datetime | None,
         to_encrypted: bytes | None = None) -> dict[str, object]:
    recipient = to_encrypted if to_encrypted is not None else encrypt(to)
    return {"kind": kind, "recipient_encrypted": recipient, "subject": subject,
            "body_text": text, "body_html": html, "link_nonce": link_nonce, "lang": lang,
            "status": MAIL_QUEUED, "attempts": 0, "next_attempt_at": not_before or utcnow(),
            "signature_id": signature_id}


def _wake_dispatcher() -> None:
    # Noted on the database session, which lives as long as the request's app context: the
    # in-process worker (petition.worker) is woken once the request is done.
    if has_app_context():
        db.session.info[ENQUEUED_FLAG] = True


def take_enqueued_flag() -> bool:
    """Whether mail was queued in this app context since the last call."""
    return bool(db.session.info.pop(ENQUEUED_FLAG, False))


class Obsolete(Exception):
    """The mail has nothing true left to say: it is dropped, not sent."""


@dataclass(frozen=True)
class Attachment:
    """A file sent with a mail (a scanned reply): made at delivery, never stored here."""

    filename: str
    mimetype: str
    data: bytes


@dataclass(frozen=True)
class Content:
    subject: str
    text: str
    html: str | None
    attachments: tuple[Attachment, ...] = ()
    # The recipient when the renderer read it at delivery (a news subscriber's address,
    # kept on the subscriber, not on the row); None: the row's own recipient.
    to: str | None = None
    # Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post (RFC 8058).
    headers: tuple[tuple[str, str], ...] = ()


def stored_content(mail: OutboxMail) -> Content | None:
    """What a row queued with its body holds (any mail queued before revision 0010)."""
    if mail.body_text is None:
        return None
    return Content(mail.subject, mail.body_text, mail.body_html)


def to_message(mail: OutboxMail, content: Content, sender: str,
               domain: str) -> tuple[EmailMessage, str]:
    """Decrypt the recipient (unless the content names it) and build the mail;
    MailRejected if that cannot be done."""
    if content.to is not None:
        to = content.to
    elif mail.recipient_encrypted is None:
        raise MailRejected("nothing to send: recipient missing")
    else:
        try:
            to = decrypt(mail.recipient_encrypted)
        except InvalidToken as error:
            raise MailRejected("cannot decrypt the recipient: was EMAIL_KEY changed?") from error
    # Stable across retries, so a mail sent twice can be recognised as one; keyed, so it
    # reveals neither the row id nor how much mail the site sends.
    token = keyed_hash(f"{mail.id}:{mail.created_at.isoformat()}", "message-id")
    try:
        message = build_message(
            sender=sender, to=to, subject=content.subject, text=content.text,
            html=content.html, message_id=f"<{token[:32]}@{domain}>",
            attachments=[(item.filename, item.mimetype, item.data)
                         for item in content.attachments],
            headers=content.headers,
        )
    except (ValueError, TypeError) as error:
        raise MailRejected(short_error(f"cannot build the mail: {error}")) from error
    return message, to


def counts() -> dict[str, int]:
    """How many outbox rows are in each state."""
    rows = db.session.execute(
        select(OutboxMail.status, func.count()).group_by(OutboxMail.status)
    ).all()
    return {status: number for status, number in rows}


# Why the oldest waiting mail waits.
DUE = "due"  # its time has come: the next pass sends it
DEFERRED = "deferred"  # an attempt failed; it is tried again at `until`
HELD = "held"  # the per-address cap holds it back until `until` (mail_cap)
PACED = "paced"  # a news update's mail, spaced by NEWS_MAILS_PER_MINUTE, due at `until`
SENDING = "sending"  # a worker holds it until `until` (its lease)


@dataclass(frozen=True)
class Waiting:
    """The oldest mail not yet delivered nor given up, and why it waits."""

    queued_at: dt.datetime
    state: str
    attempts: int
    until: dt.datetime | None = None

    def age(self, now: dt.datetime) -> dt.timedelta:
        return now - self.queued_at


def oldest_waiting(now: dt.datetime | None = None) -> Waiting | None:
    """The mail queued longest ago that still waits for delivery, or None.

    Its age is what monitoring watches: minutes mean a stopped worker or a mail server
    that is down, and the state says which.
    """
    now = now or utcnow()
    mail = db.session.scalars(
        select(OutboxMail)
        .where(OutboxMail.status.in_((MAIL_QUEUED, MAIL_SENDING)))
        .order_by(OutboxMail.created_at, OutboxMail.id)
        .limit(1)
    ).first()
    if mail is None:
        return None
    if mail.status == MAIL_SENDING and mail.locked_until and mail.locked_until > now:
        state, until = SENDING, mail.locked_until
    elif mail.next_attempt_at <= now:
        # Also a `sending` row whose lease ran out: its worker died, the next pass takes it.
        state, until = DUE, None
    elif mail.attempts:
        state, until = DEFERRED, mail.next_attempt_at
    else:
        state = PACED if mail.news_update_id is not None else HELD
        until = mail.next_attempt_at
    return Waiting(queued_at=mail.created_at, state=state, attempts=mail.attempts, until=until)


def requeue_failed() -> int:
    """Queue again the failed mails that still hold a recipient, or name the news
    subscriber whose address is read at delivery; return how many."""
    result = cast(CursorResult[Any], db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.status == MAIL_FAILED,
               or_(OutboxMail.recipient_encrypted.is_not(None),
                   OutboxMail.news_subscriber_id.is_not(None)))
        .values(status=MAIL_QUEUED, attempts=0, next_attempt_at=utcnow(), locked_until=None)
        .execution_options(synchronize_session=False)
    ))
    db.session.commit()
    return result.rowcount


def purge_failed(older_than: dt.timedelta | None = None) -> int:
    """Clear recipient and bodies of failed mails past their use; return how many.

    A failed mail keeps them so an admin can retry it, but only while its content may still
    matter: by default as long as a confirmation link lives (MAIL_FAILED_RETENTION, else
    CONFIRM_MAX_AGE seconds).
    """
    if older_than is None:
        config = current_app.config
        seconds = config["MAIL_FAILED_RETENTION"] or config["CONFIRM_MAX_AGE"]  # config.py's
        older_than = dt.timedelta(seconds=float(seconds))
    result = cast(CursorResult[Any], db.session.execute(
        update(OutboxMail)
        .where(
            OutboxMail.status == MAIL_FAILED,
            OutboxMail.recipient_encrypted.is_not(None),
            OutboxMail.created_at < utcnow() - older_than,
        )
        .values(recipient_encrypted=None, body_text=None, body_html=None)
        .execution_options(synchronize_session=False)
    ))
    db.session.commit()
    return result.rowcount


def forget_cap_tags(now: dt.datetime | None = None) -> int:
    """Clear the address tags of withdrawal answers done with for over an hour (sent, failed
    or dropped): past the cap's hour they would only record who was asked about. Returns
    how many. Run by the hourly purge."""
    cutoff = (now or utcnow()) - CAP_WINDOW
    result = cast(CursorResult[Any], db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.status.in_((MAIL_SENT, MAIL_FAILED, MAIL_DROPPED)),
               OutboxMail.next_attempt_at <= cutoff, OutboxMail.kind == WITHDRAW_ANSWER,
               OutboxMail.cap_tag.is_not(None))
        .values(cap_tag=None)
        .execution_options(synchronize_session=False)
    ))
    db.session.commit()
    return result.rowcount
