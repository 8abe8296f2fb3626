"""Mail waiting to go, written in the transaction of the change it announces."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from petition.extensions import Model
from petition.models.stamps import utcnow

# Outbox states.
MAIL_QUEUED, MAIL_SENDING, MAIL_SENT, MAIL_FAILED = "queued", "sending", "sent", "failed"
# Not sent because it had nothing true left to say (its signature withdrawn, confirmed or
# given a newer link before delivery): recipient cleared, the reason in last_error.
MAIL_DROPPED = "dropped"


class OutboxMail(Model):
    """A mail waiting for delivery. Recipient and bodies are cleared once delivered.

    A mail to a signer holds no body: it names its signature, the link it carries
    (`link_nonce`) and its language, and is rendered when delivered (signatures/mails.py).
    """

    __tablename__ = "outbox_mail"
    __table_args__ = (
        Index("ix_outbox_mail_due", "status", "next_attempt_at"),
        Index("ix_outbox_mail_signature_id", "signature_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    recipient_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Text, not a String(n): a 300-character title plus a translated prefix must fit.
    subject: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # The nonce of the signature or version whose confirmation link the mail carries.
    link_nonce: Mapped[str | None] = mapped_column(String(32))
    # A withdrawal answer's address tag (a keyed hash) for its per-address cap, cleared an
    # hour after it went (signatures/mail_cap.py, outbox.forget_cap_tags).
    cap_tag: Mapped[str | None] = mapped_column(String(32))
    lang: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), default=MAIL_QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # A claimed row is "sending" until this lease ends; a worker that dies mid-delivery
    # leaves it to be claimed again (at-least-once).
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    signature_id: Mapped[int | None] = mapped_column(
        ForeignKey("signature.id", ondelete="SET NULL")
    )
    # A mail to the writer of a personal letter (drive/mails.py), and the reply it carries.
    drive_letter_id: Mapped[int | None] = mapped_column(
        ForeignKey("drive_letter.id", ondelete="SET NULL"), index=True)
    drive_reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("drive_reply.id", ondelete="SET NULL"))
    # A news update to one subscriber (news/), rendered when delivered: no body is stored.
    news_update_id: Mapped[int | None] = mapped_column(
        ForeignKey("news_update.id", ondelete="SET NULL"), index=True)
    news_subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("news_subscriber.id", ondelete="SET NULL"))
