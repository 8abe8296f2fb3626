"""The outbox: mail is written in the caller's transaction and delivered later.

So a signature and its confirmation mail are stored together or not at all, and a mail
server that is down loses nothing.
"""
from __future__ import annotations

from ..addresses import encrypt
from ..extensions import db
from ..models import MAIL_QUEUED, OutboxMail, utcnow


def enqueue(
    *,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    signature_id: int | None = None,
) -> OutboxMail:
    """Add a mail to the session; the caller commits it with its own changes."""
    mail = OutboxMail(
        kind=kind,
        recipient_encrypted=encrypt(to),
        subject=subject,
        body_text=text,
        body_html=html,
        status=MAIL_QUEUED,
        attempts=0,
        next_attempt_at=utcnow(),
        signature_id=signature_id,
    )
    db.session.add(mail)
    return mail
