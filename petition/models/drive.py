"""A letter drive: its own settings, its guidance per language, the personal letters written
to its recipient, the batches they are sent in, and the replies that come back.

A drive is a Letter of kind LETTER_DRIVE (its appeal is the letter's text); everything a
writer gives is personal data: the letter's text, its signature, the return note and the
translation are Fernet-encrypted (under EMAIL_KEY, as addresses are) until the letter is
approved for publishing, and then only what the writer let the page show is kept in clear.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition.extensions import Model
from petition.models.letters import Letter
from petition.models.stamps import new_nonce, new_public_id, utcnow

# A personal letter's states. PENDING: its writer has not confirmed the address yet;
# REVIEW: confirmed, waiting for a moderator; RETURNED: sent back to the writer with a note;
# APPROVED: may go (once in the delivery language or translated); SENT: in a batch marked
# sent. REJECTED and WITHDRAWN keep no text.
PENDING, REVIEW, RETURNED, APPROVED, SENT = "pending", "review", "returned", "approved", "sent"
REJECTED, WITHDRAWN = "rejected", "withdrawn"
LETTER_STATES = (PENDING, REVIEW, RETURNED, APPROVED, SENT, REJECTED, WITHDRAWN)
# Written: confirmed by its writer and neither rejected nor withdrawn (the public count).
WRITTEN = (REVIEW, RETURNED, APPROVED, SENT)
# The writer may still take it back (a printed letter cannot be unsent).
WITHDRAWABLE = (PENDING, REVIEW, RETURNED, APPROVED)

# May the letter appear on the drive's page, and under which name.
PUBLISH_NO, PUBLISH_INITIALS, PUBLISH_FULL = "no", "initials", "full"
PUBLISH_CHOICES = (PUBLISH_NO, PUBLISH_INITIALS, PUBLISH_FULL)

BODY_MAX_DEFAULT = 4000  # characters: about two printed pages


class Drive(Model):
    """The settings a letter drive has beyond a letter's: whom letters go to, and how."""

    __tablename__ = "drive"

    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"),
                                           primary_key=True)
    recipient_name: Mapped[str] = mapped_column(String(200))
    # The facility's postal address, several lines: the header of every printed letter.
    recipient_address: Mapped[str] = mapped_column(Text, default="")
    # The language letters are delivered in (the censor's): others wait for a translation.
    delivery_lang: Mapped[str] = mapped_column(String(8))
    body_max: Mapped[int] = mapped_column(Integer, default=BODY_MAX_DEFAULT)
    # ISO 4217 code of the costs recorded on batches.
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # Whether the page shows the sending costs recorded so far.
    show_costs: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    letter: Mapped[Letter] = relationship()


class DriveGuidance(Model):
    """What the organisers tell writers in one language: the guidance beside the form
    (Markdown) and the words and phrases prison censors refuse, one per line."""

    __tablename__ = "drive_guidance"
    __table_args__ = (UniqueConstraint("letter_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(8))
    guidance: Mapped[str] = mapped_column(Text, default="")
    risky_words: Mapped[str] = mapped_column(Text, default="")


class DriveBatch(Model):
    """Approved letters gathered to be printed and sent together."""

    __tablename__ = "drive_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    sent_on: Mapped[dt.date | None] = mapped_column(Date)
    service: Mapped[str | None] = mapped_column(String(200))
    cost_cents: Mapped[int | None] = mapped_column(Integer)  # in the drive's currency
    sent_by: Mapped[str | None] = mapped_column(String(254))

    letter: Mapped[Letter] = relationship()


class DriveLetter(Model):
    """A personal letter written to a drive's recipient."""

    __tablename__ = "drive_letter"
    __table_args__ = (
        Index("ix_drive_letter_letter_status", "letter_id", "status"),
        Index("ix_drive_letter_letter_email_hash", "letter_id", "email_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    country: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))  # of the page it was written on: its mails
    letter_lang: Mapped[str] = mapped_column(String(8))  # of the letter itself
    publish: Mapped[str] = mapped_column(String(10), default=PUBLISH_NO)
    wants_reply: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # Encrypted: the name the letter is signed with, its text, the moderator's note to the
    # writer, and the translation; None once erased (rejected, withdrawn).
    signature_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    note_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    translation_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Characters of the text, kept for the manifest and the queues without decrypting.
    body_chars: Mapped[int] = mapped_column(Integer, default=0)
    # The keyed hash of the address (several letters from one mailbox show as such to
    # moderators), and the address itself while mail may need it.
    email_hash: Mapped[str | None] = mapped_column(String(64))
    email_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_nonce: Mapped[str] = mapped_column(String(32), default=new_nonce)
    link_issued_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    moderated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    moderated_by: Mapped[str | None] = mapped_column(String(254))
    translated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    translated_by: Mapped[str | None] = mapped_column(String(254))
    translation_reviewed_by: Mapped[str | None] = mapped_column(String(254))
    # What the page shows of a letter approved for publishing, in clear: the name as the
    # writer chose (full or initials), the text, and the translation.
    published_name: Mapped[str | None] = mapped_column(String(200))
    published_body: Mapped[str | None] = mapped_column(Text)
    published_translation: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("drive_batch.id", ondelete="SET NULL"), index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    letter: Mapped[Letter] = relationship()
    batch: Mapped[DriveBatch | None] = relationship()

    @property
    def is_written(self) -> bool:
        return self.status in WRITTEN


class DriveReply(Model):
    """An answer from the recipient to one letter, mailed to a writer who asked for it:
    text, a scan (PDF, JPEG or PNG), or both, encrypted."""

    __tablename__ = "drive_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    drive_letter_id: Mapped[int] = mapped_column(
        ForeignKey("drive_letter.id", ondelete="CASCADE"), index=True)
    text_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    file_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_type: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))

    drive_letter: Mapped[DriveLetter] = relationship()
