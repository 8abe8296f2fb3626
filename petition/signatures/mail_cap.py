"""The per-address mail cap: a few mails an hour per address and letter, never a flood.

The sign form mails whatever address it is given, so it could bomb a victim's mailbox. Each
signature row (one per address and letter) counts the mails queued in its current one-hour
window. Past MAIL_PER_ADDRESS_PER_HOUR the next mail waits for the window to end instead of
being dropped, so "check your mail" stays true; a later request within the same wait
replaces the waiting mail, so at most one waits and the latest request is what arrives.

Answers to the withdrawal form have a cap of their own, per address and not per signature
(answer_send_time): an address that never signed has no signature row to count in, and an
answer counted in a signature's window would hold back that signer's next sign mail, and
only a signer's, for anyone timing it to see. So the answers to an address come at the
same rate and times whether it signed or not.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import bindparam, delete, select, text, update

from petition import addresses
from petition.extensions import db
from petition.mail.outbox import CAP_WINDOW, WITHDRAW_ANSWER
from petition.models import (
    MAIL_DROPPED,
    MAIL_FAILED,
    MAIL_QUEUED,
    MAIL_SENDING,
    MAIL_SENT,
    OutboxMail,
    Signature,
    SignatureVersion,
    utcnow,
)

WINDOW = CAP_WINDOW


def lock(signature_id: int) -> None:
    """Take the signature row's write lock until commit, before reading its counters.

    A no-op UPDATE, because it works on both databases: PostgreSQL locks the row, SQLite
    the file (a SELECT would start a read snapshot that cannot be upgraded safely). So two
    requests for one address take turns and the cap cannot be overrun by a race.
    """
    db.session.execute(
        update(Signature).where(Signature.id == signature_id)
        .values(mail_window_count=Signature.mail_window_count)
        .execution_options(synchronize_session=False)
    )


def next_send_time(signature: Signature, now: dt.datetime) -> dt.datetime:
    """Count one more mail to this address: `now` if its window allows, else a later time.

    A mail that must wait opens the next window and counts there, so no hour carries more
    than the limit. The caller holds lock() and commits the counters with the mail.
    """
    start = signature.mail_window_start
    if start is None or start + WINDOW <= now:
        start = signature.mail_window_start = now
        signature.mail_window_count = 0
    if start > now:  # the next window has begun to fill with a waiting mail: replace it
        return start
    if signature.mail_window_count < current_app.config["MAIL_PER_ADDRESS_PER_HOUR"]:
        signature.mail_window_count += 1
        return now
    signature.mail_window_start, signature.mail_window_count = start + WINDOW, 1
    return start + WINDOW


def reserve(signature: Signature) -> tuple[dt.datetime, dt.datetime]:
    """Take a place for one more mail to this address: (now, when it may be sent).

    A mail that must wait replaces the one already waiting. The caller holds lock().
    """
    now = utcnow()
    send_at = next_send_time(signature, now)
    if send_at > now:
        drop_waiting(signature.id, now)
    # Unconfirmed rows are kept this long after it. Always later than created_at: that is
    # how signing.confirm() tells a signature mailed again (it may have versions and a
    # waiting mail to delete) from one mailed once.
    signature.last_mailed_at = send_at
    return now, send_at


# The mail still waiting for the cap, built once.
# attempts == 0 tells a mail waiting for its first try from one retrying after a failure,
# which already counted and must not be lost.
_WAITING = (OutboxMail.signature_id == bindparam("signature_id"),
            OutboxMail.status == MAIL_QUEUED, OutboxMail.attempts == 0,
            OutboxMail.next_attempt_at > bindparam("now"))
DROP_WAITING = delete(OutboxMail).where(*_WAITING).execution_options(synchronize_session=False)
_WAITING_IDS = select(OutboxMail.id).where(*_WAITING)


def drop_waiting(signature_id: int, now: dt.datetime) -> None:
    """Delete the mail still waiting for the cap, and the versions only it carried a link to.
    (A confirmation deletes every version, and the mail with DROP_WAITING: write_statements.py.)"""
    params = {"signature_id": signature_id, "now": now}
    ids = list(db.session.scalars(_WAITING_IDS, params))
    if not ids:
        return
    db.session.execute(delete(SignatureVersion).where(SignatureVersion.mail_id.in_(ids))
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(OutboxMail).where(OutboxMail.id.in_(ids))
                       .execution_options(synchronize_session=False))


# The withdrawal form's answers: a cap per address.
# An answer row carries its address's tag in `cap_tag`; the hourly purge clears it once the
# hour is over (outbox.forget_cap_tags), so who asked is not kept.
# Every state counts within its hour: a sent, failed or dropped answer went (or was meant to).
_ANSWER_STATES = (MAIL_QUEUED, MAIL_SENDING, MAIL_SENT, MAIL_FAILED, MAIL_DROPPED)


def answer_tag(email: str) -> str:
    """The mailbox's tag (a keyed hash, cut to the column): its spellings alike
    ("A.lice+x@gmail.com" and "alice@gmail.com" share one cap)."""
    return addresses.keyed_hash(addresses.duplicate_key(email), "withdraw-cap")[:32]


def lock_address(tag: str) -> None:
    """On PostgreSQL, hold the address's advisory lock until commit, so two workers'
    answers to one address take turns. (On SQLite the caller's first write locks the file.)"""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(tag[:15], 16)})


def _recent_answers(tag: str, now: dt.datetime) -> tuple:
    # Due within the last hour, or later: the (status, next_attempt_at) index finds them.
    return (OutboxMail.status.in_(_ANSWER_STATES), OutboxMail.next_attempt_at > now - WINDOW,
            OutboxMail.kind == WITHDRAW_ANSWER, OutboxMail.cap_tag == tag)


def waiting_answer(tag: str, now: dt.datetime) -> int | None:
    """The answer to this address that waits for the cap (not yet tried), if any: a later
    request is merged into it, so at most one waits."""
    return db.session.scalar(select(OutboxMail.id).where(
        *_recent_answers(tag, now), OutboxMail.status == MAIL_QUEUED, OutboxMail.attempts == 0,
        OutboxMail.next_attempt_at > now).limit(1))


def answer_send_time(tag: str, now: dt.datetime) -> dt.datetime:
    """When one more answer to this address may go: `now` while fewer than
    MAIL_PER_ADDRESS_PER_HOUR went in the last hour, else as soon as one of them is an hour
    old. The caller holds lock_address()."""
    limit = current_app.config["MAIL_PER_ADDRESS_PER_HOUR"]
    times = list(db.session.scalars(
        select(OutboxMail.next_attempt_at).where(*_recent_answers(tag, now),
                                                 OutboxMail.next_attempt_at <= now)
        .order_by(OutboxMail.next_attempt_at)))
    if len(times) < limit:
        return now
    return times[len(times) - limit] + WINDOW
