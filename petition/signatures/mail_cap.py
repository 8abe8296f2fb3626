"""The per-address mail cap: a few mails an hour per address and letter, never a flood.

The sign form mails whatever address it is given, so it could bomb a victim's mailbox. Each
signature row (one per address and letter) counts the mails queued in its current one-hour
window. Past MAIL_PER_ADDRESS_PER_HOUR the next mail waits for the window to end instead of
being dropped, so "check your mail" stays true; a later request within the same wait
replaces the waiting mail, so at most one waits and the latest request is what arrives.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import bindparam, delete, select, update

from petition.extensions import db
from petition.models import MAIL_QUEUED, OutboxMail, Signature, SignatureVersion, utcnow

WINDOW = dt.timedelta(hours=1)


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
    (A confirmation deletes every version, and the mail with DROP_WAITING: statements.py.)"""
    params = {"signature_id": signature_id, "now": now}
    ids = list(db.session.scalars(_WAITING_IDS, params))
    if not ids:
        return
    db.session.execute(delete(SignatureVersion).where(SignatureVersion.mail_id.in_(ids))
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(OutboxMail).where(OutboxMail.id.in_(ids))
                       .execution_options(synchronize_session=False))
