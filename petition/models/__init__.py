"""Database models. Countries are stored as codes, addresses never in plain text."""
from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid
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
    false as sa_false,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition.collation import fold_name, stored_key
from petition.extensions import db


def utcnow() -> dt.datetime:
    """Naive UTC: SQLite keeps no zone, so every timestamp is UTC by convention."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_list_token() -> str:
    """A letter's list token: random, so no two states of any list share one."""
    return uuid.uuid4().hex


def new_public_id() -> str:
    """A random identifier for links and files: a sequential id would tell who signed when.

    120 bits in lower-case base32: safe in URLs and file names, and never read as a number
    or a formula by a spreadsheet (no leading -, =, + or @).
    """
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def new_nonce() -> str:
    return secrets.token_hex(16)


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
# "hidden" takes an already listed signature off the list and the counts (e.g. flagged as
# suspicious) without deciding it is not genuine, as "rejected" does.
MOD_NONE, MOD_HELD, MOD_APPROVED, MOD_REJECTED = "none", "held", "approved", "rejected"
MOD_HIDDEN = "hidden"
MODERATION_STATES = (MOD_NONE, MOD_HELD, MOD_APPROVED, MOD_REJECTED, MOD_HIDDEN)
PUBLIC_MODERATION = (MOD_NONE, MOD_APPROVED)

SOURCE_FORM, SOURCE_IMPORT, SOURCE_MANUAL = "form", "import", "manual"
PROVENANCE_MAX = 500  # where a signature added by hand or imported came from

# Outbox states.
MAIL_QUEUED, MAIL_SENDING, MAIL_SENT, MAIL_FAILED = "queued", "sending", "sent", "failed"
# Not sent because it had nothing true left to say (its signature withdrawn, confirmed or
# given a newer link before delivery): recipient cleared, the reason in last_error.
MAIL_DROPPED = "dropped"


class Letter(db.Model):
    __tablename__ = "letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=DRAFT)
    default_lang: Mapped[str] = mapped_column(String(8), default="en")
    goal: Mapped[Optional[int]] = mapped_column(Integer)
    place: Mapped[Optional[str]] = mapped_column(String(200))
    date: Mapped[Optional[dt.date]] = mapped_column(Date)
    # The last day (UTC) signatures are taken; the letter then reads as closed.
    deadline: Mapped[Optional[dt.date]] = mapped_column(Date)
    accepts_organizations: Mapped[bool] = mapped_column(Boolean, default=True)
    accepts_individuals: Mapped[bool] = mapped_column(Boolean, default=True)
    moderate_organizations: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Bumped in the same transaction as any change to what the public list shows (confirmed
    # signatures, moderation, labels, texts): every cache of the list is keyed on it.
    list_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Bumped with list_version unless a change touches individuals only (counting.changed).
    organizations_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A fresh random value with every list_version bump, what shared caches (Redis) key the
    # list on: unlike the integer it never comes back (a restore, another database).
    list_token: Mapped[Optional[str]] = mapped_column(String(32), default=new_list_token)
    # When the public list last changed (the press list's Last-Modified); None: not since 0010.
    list_changed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # When the letter was last closed: retention counts from it (or from the deadline).
    closed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # Days after closing before the signers' email fingerprints go (see housekeeping).
    fingerprint_retention_days: Mapped[int] = mapped_column(Integer, default=90,
                                                            server_default="90")
    fingerprints_erased_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # Until this time (naive UTC) nothing of the list is public; the count only if chosen.
    embargo_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    embargo_count: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    texts: Mapped[list["LetterText"]] = relationship(
        back_populates="letter", cascade="all, delete-orphan", order_by="LetterText.lang"
    )
    labels: Mapped[list["CountryLabel"]] = relationship(
        back_populates="letter", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status == OPEN and not self.past_deadline

    @property
    def past_deadline(self) -> bool:
        return self.deadline is not None and utcnow().date() > self.deadline

    @property
    def embargoed(self) -> bool:
        """Whether the list is still under embargo: it then shows no name and no group."""
        return self.embargo_until is not None and utcnow() < self.embargo_until

    @property
    def embargo_seconds_left(self) -> int:
        """Whole seconds until the embargo ends (0 when there is none or it has passed):
        the longest any cache may keep what is said while it lasts."""
        if self.embargo_until is None:
            return 0
        return max(0, int((self.embargo_until - utcnow()).total_seconds()))

    @property
    def count_public(self) -> bool:
        """Whether the public may see the count (and goal progress) now."""
        return not self.embargoed or self.embargo_count

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
    place: Mapped[Optional[str]] = mapped_column(String(200))  # "Париж"; none: the letter's

    letter: Mapped[Letter] = relationship(back_populates="texts")

    @property
    def dateline_place(self) -> str | None:  # what the dateline says in this language
        return self.place or self.letter.place


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
        Index("ix_signature_letter_name_fold", "letter_id", "name_fold"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What links, pages and files show instead of `id`.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
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
    # Where a signature added by hand or imported came from ("sent by email on 3 May by ...").
    provenance: Mapped[Optional[str]] = mapped_column(String(PROVENANCE_MAX))
    # HMAC-SHA256 of the canonical address (hex); the address itself only Fernet-encrypted,
    # and only while mail may still need it.
    email_hash: Mapped[Optional[str]] = mapped_column(String(64))
    email_encrypted: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    # The link to the first submission carries (public_id, token_nonce); later submissions
    # while pending are SignatureVersion rows with links of their own.
    token_nonce: Mapped[str] = mapped_column(String(32), default=new_nonce)
    link_issued_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # Fernet-encrypted real name and affiliation of an individual listed by initials or
    # not at all: `name` then holds only what the list shows (see hidden_names).
    private_encrypted: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    last_mailed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # The per-address mail cap: mails queued since mail_window_start (a one-hour window).
    mail_window_start: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    mail_window_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # UCA key (collation.stored_key) of the line the list shows: the name, or the initials of
    # those who chose initials; none for the unlisted. Never derived from a hidden name, so
    # sorting by it reveals nothing. Filled on every ORM insert/update below (list_key());
    # bulk writers must set it themselves.
    collation_key: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    # An organisation's name as moderation.must_hold compares it (collation.fold_name), so
    # an individual taking an organisation's name is found by an index lookup; none for
    # individuals. Filled like collation_key (derived_columns()).
    name_fold: Mapped[Optional[str]] = mapped_column(Text)

    letter: Mapped[Letter] = relationship()
    # The letter's own names for this signature's country, in each language, read with the
    # signature by signing's link read: a page about it needs no query of its own.
    country_labels: Mapped[list["CountryLabel"]] = relationship(
        primaryjoin="and_(foreign(CountryLabel.letter_id) == Signature.letter_id, "
                    "foreign(CountryLabel.code) == Signature.country)",
        viewonly=True,
    )

    # One definition of "counted and listed", in Python and in SQL alike.
    @hybrid_property
    def is_public(self) -> bool:
        return self.status == CONFIRMED and self.moderation in PUBLIC_MODERATION

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls) -> ColumnElement[bool]:
        return and_(cls.status == CONFIRMED, cls.moderation.in_(PUBLIC_MODERATION))


class LetterCount(db.Model):
    """Public signatures of a letter per country and signer type (see counting.py).

    Changed in the transaction of every change to what the public sees, so readers take a
    few rows instead of counting every signature. `listed` are named on the list (by name
    or initials), `unlisted` counted only.
    """

    __tablename__ = "letter_count"

    letter_id: Mapped[int] = mapped_column(
        ForeignKey("letter.id", name="fk_letter_count_letter_id", ondelete="CASCADE"),
        primary_key=True)
    country: Mapped[str] = mapped_column(String(16), primary_key=True)
    signer_type: Mapped[str] = mapped_column(String(12), primary_key=True)
    listed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unlisted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


def initials(name: str) -> str:
    """"Jean-Paul Sartre" → "J.-P. S."."""
    parts = []
    for word in name.split():
        pieces = [piece[0] + "." for piece in word.split("-") if piece]
        if pieces:  # a lone "-" makes no initial (and no double space)
            parts.append("-".join(pieces))
    # Applied to its own result it gives it back: hidden rows store the initials only.
    return " ".join(parts)


def list_key(signer_type: str, name: str, display: str) -> bytes | None:
    """The stored sort key of a signature: from what the list shows, never a hidden name."""
    if signer_type == ORGANIZATION or display == FULL:
        return stored_key(name or "")
    if display == INITIALS:
        return stored_key(initials(name or ""))
    return None


def derived_columns(signer_type: str, name: str, display: str) -> dict[str, object]:
    """The columns a signature row derives from what it stores: its sort key and, for an
    organisation, its folded name. Bulk writers (no listener) add them themselves."""
    return {"collation_key": list_key(signer_type, name, display),
            "name_fold": fold_name(name or "") if signer_type == ORGANIZATION else None}


@event.listens_for(Signature, "before_insert")
@event.listens_for(Signature, "before_update")
def _fill_derived_columns(mapper, connection, target: Signature) -> None:
    for column, value in derived_columns(target.signer_type, target.name, target.display).items():
        setattr(target, column, value)


class SignatureVersion(db.Model):
    """A later submission for a still-pending signature, with a link of its own.

    A re-submission never rewrites what an earlier link confirms: each link confirms exactly
    the details it was sent with. Deleted when the signature is confirmed or purged.
    """

    __tablename__ = "signature_version"
    __table_args__ = (UniqueConstraint("signature_id", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("signature.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(32), default=new_nonce)
    signer_type: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(200))
    affiliation: Mapped[Optional[str]] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(16))
    display: Mapped[str] = mapped_column(String(10), default=FULL)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    private_encrypted: Mapped[Optional[bytes]] = mapped_column(LargeBinary)  # as on Signature
    link_issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # The mail carrying this version's link while it waits for the per-address cap: a later
    # submission within the same wait replaces both.
    mail_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("outbox_mail.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    signature: Mapped[Signature] = relationship()


class OutboxMail(db.Model):
    """A mail waiting for delivery. Recipient and bodies are cleared once delivered.

    A mail to a signer holds no body: it names its signature, the link it carries
    (`link_nonce`) and its language, and is rendered when delivered (mail/messages.py).
    """

    __tablename__ = "outbox_mail"
    __table_args__ = (
        Index("ix_outbox_mail_due", "status", "next_attempt_at"),
        Index("ix_outbox_mail_signature_id", "signature_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    recipient_encrypted: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    # Text, not a String(n): a 300-character title plus a translated prefix must fit.
    subject: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[Optional[str]] = mapped_column(Text)
    body_html: Mapped[Optional[str]] = mapped_column(Text)
    # The nonce of the signature or version whose confirmation link the mail carries.
    link_nonce: Mapped[Optional[str]] = mapped_column(String(32))
    lang: Mapped[Optional[str]] = mapped_column(String(8))
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
