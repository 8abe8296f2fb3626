"""Database models. Countries are stored as codes, addresses never in plain text."""
from __future__ import annotations

import datetime as dt
from typing import Optional

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
    and_,
    event,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .collation import stored_key
from .extensions import db


def utcnow() -> dt.datetime:
    """Naive UTC: SQLite keeps no zone, so every timestamp is UTC by convention."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# Letter states.
DRAFT, OPEN, CLOSED = "draft", "open", "closed"
LETTER_STATES = (DRAFT, OPEN, CLOSED)

# Signer types and display choices.
ORGANIZATION, INDIVIDUAL = "organization", "individual"
SIGNER_TYPES = (ORGANIZATION, INDIVIDUAL)
FULL, INITIALS, ANONYMOUS = "full", "initials", "anonymous"
DISPLAY_CHOICES = (FULL, INITIALS, ANONYMOUS)

# Signature states (alphagov/e-petitions style: named states and groups of them).
PENDING, CONFIRMED, WITHDRAWN = "pending", "confirmed", "withdrawn"
SIGNATURE_STATES = (PENDING, CONFIRMED, WITHDRAWN)

# Moderation: organisations may need approval before they are listed.
MOD_NONE, MOD_HELD, MOD_APPROVED, MOD_REJECTED = "none", "held", "approved", "rejected"
MODERATION_STATES = (MOD_NONE, MOD_HELD, MOD_APPROVED, MOD_REJECTED)
PUBLIC_MODERATION = (MOD_NONE, MOD_APPROVED)

SOURCE_FORM, SOURCE_IMPORT, SOURCE_MANUAL = "form", "import", "manual"

# Outbox states.
MAIL_QUEUED, MAIL_SENDING, MAIL_SENT, MAIL_FAILED = "queued", "sending", "sent", "failed"


class Letter(db.Model):
    __tablename__ = "letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=DRAFT)
    default_lang: Mapped[str] = mapped_column(String(8), default="en")
    goal: Mapped[Optional[int]] = mapped_column(Integer)
    place: Mapped[Optional[str]] = mapped_column(String(200))
    date: Mapped[Optional[dt.date]] = mapped_column(Date)
    accepts_organizations: Mapped[bool] = mapped_column(Boolean, default=True)
    accepts_individuals: Mapped[bool] = mapped_column(Boolean, default=True)
    moderate_organizations: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    texts: Mapped[list["LetterText"]] = relationship(
        back_populates="letter", cascade="all, delete-orphan", order_by="LetterText.lang"
    )
    labels: Mapped[list["CountryLabel"]] = relationship(
        back_populates="letter", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def languages(self) -> list[str]:
        return [text.lang for text in self.texts]

    def text_for(self, lang: str) -> "LetterText":
        """The text in `lang`, else in the letter's own language, else any."""
        by_lang = {text.lang: text for text in self.texts}
        return by_lang.get(lang) or by_lang.get(self.default_lang) or self.texts[0]

    def labels_for(self, lang: str) -> dict[str, str]:
        return {label.code: label.label for label in self.labels if label.lang == lang}

    @property
    def signer_types(self) -> tuple[str, ...]:
        kinds = []
        if self.accepts_organizations:
            kinds.append(ORGANIZATION)
        if self.accepts_individuals:
            kinds.append(INDIVIDUAL)
        return tuple(kinds)


class LetterText(db.Model):
    __tablename__ = "letter_text"
    __table_args__ = (UniqueConstraint("letter_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered safely

    letter: Mapped[Letter] = relationship(back_populates="texts")


class CountryLabel(db.Model):
    """The organiser's own heading for a country or scope, e.g. ES → "Etat espagnol" in fr."""

    __tablename__ = "country_label"
    __table_args__ = (UniqueConstraint("letter_id", "lang", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200))

    letter: Mapped[Letter] = relationship(back_populates="labels")


class Signature(db.Model):
    __tablename__ = "signature"
    # One signature per letter per canonical address; NULL hashes (imports without email) repeat.
    __table_args__ = (
        UniqueConstraint("letter_id", "email_hash"),
        Index("ix_signature_letter_public", "letter_id", "status", "moderation"),
        # Covers the cheap "has this letter's list changed?" check of the grouping cache.
        Index("ix_signature_letter_updated", "letter_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    signer_type: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(200))
    affiliation: Mapped[Optional[str]] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(16))  # ISO 3166-1 alpha-2 or a scope code
    display: Mapped[str] = mapped_column(String(10), default=FULL)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    moderation: Mapped[str] = mapped_column(String(10), default=MOD_NONE)
    source: Mapped[str] = mapped_column(String(10), default=SOURCE_FORM)
    # HMAC-SHA256 of the canonical address (hex); the address itself only Fernet-encrypted,
    # and only while mail may still need it.
    email_hash: Mapped[Optional[str]] = mapped_column(String(64))
    email_encrypted: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    token_nonce: Mapped[str] = mapped_column(String(32))
    ip_hash: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    last_mailed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # UCA key of `name` (collation.stored_key), so lists of 100k names sort without computing
    # 100k keys. Filled on every ORM insert/update below; bulk writers must set it themselves.
    collation_key: Mapped[Optional[bytes]] = mapped_column(LargeBinary)

    letter: Mapped[Letter] = relationship()

    # One definition of "counted and listed", in Python and in SQL alike.
    @hybrid_property
    def is_public(self) -> bool:
        return self.status == CONFIRMED and self.moderation in PUBLIC_MODERATION

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls) -> ColumnElement[bool]:
        return and_(cls.status == CONFIRMED, cls.moderation.in_(PUBLIC_MODERATION))


@event.listens_for(Signature, "before_insert")
@event.listens_for(Signature, "before_update")
def _fill_collation_key(mapper, connection, target: Signature) -> None:
    target.collation_key = stored_key(target.name or "")


class OutboxMail(db.Model):
    """A mail waiting for delivery. Recipient and bodies are cleared once delivered."""

    __tablename__ = "outbox_mail"
    __table_args__ = (Index("ix_outbox_mail_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    recipient_encrypted: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[Optional[str]] = mapped_column(Text)
    body_html: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=MAIL_QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # A claimed row is "sending" until this lease ends; a worker that dies mid-delivery
    # leaves it to be claimed again (at-least-once).
    locked_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    signature_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("signature.id", ondelete="SET NULL")
    )
