"""A signature, the later submissions of a pending one, and what its row derives (sort key,
folded name). Countries are stored as codes; addresses never in plain text."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
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
from sqlalchemy import false as sa_false
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from petition.collation import fold_name, stored_key
from petition.extensions import Model
from petition.models.letters import ORGANIZATION, CountryLabel, Letter
from petition.models.stamps import new_nonce, new_public_id, utcnow

# Display choices (of individuals).
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
# "flagged": over a soft limit (abuse/): kept, confirmed like any other, neither counted nor
# listed, waiting for an organiser; the signer is told nothing. "invalid": taken off by a
# bulk invalidation job, which can put back what it changed.
MOD_FLAGGED, MOD_INVALID = "flagged", "invalid"
MODERATION_STATES = (MOD_NONE, MOD_HELD, MOD_APPROVED, MOD_REJECTED, MOD_HIDDEN, MOD_FLAGGED,
                     MOD_INVALID)
PUBLIC_MODERATION = (MOD_NONE, MOD_APPROVED)

SOURCE_FORM, SOURCE_IMPORT, SOURCE_MANUAL = "form", "import", "manual"
PROVENANCE_MAX = 500  # where a signature added by hand or imported came from


class Signature(Model):
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
    affiliation: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(16))  # ISO 3166-1 alpha-2 or a scope code
    display: Mapped[str] = mapped_column(String(10), default=FULL)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    moderation: Mapped[str] = mapped_column(String(10), default=MOD_NONE)
    source: Mapped[str] = mapped_column(String(10), default=SOURCE_FORM)
    # Where a signature added by hand or imported came from ("sent by email on 3 May by ...").
    provenance: Mapped[str | None] = mapped_column(String(PROVENANCE_MAX))
    # HMAC-SHA256 of the canonical address (hex); the address itself only Fernet-encrypted,
    # and only while mail may still need it.
    email_hash: Mapped[str | None] = mapped_column(String(64))
    email_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The link to the first submission carries (public_id, token_nonce); later submissions
    # while pending are SignatureVersion rows with links of their own.
    token_nonce: Mapped[str] = mapped_column(String(32), default=new_nonce)
    link_issued_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Fernet-encrypted real name and affiliation of an individual listed by initials or
    # not at all: `name` then holds only what the list shows (see hidden_names).
    private_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_mailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The per-address mail cap: mails queued since mail_window_start (a one-hour window).
    mail_window_start: Mapped[dt.datetime | None] = mapped_column(DateTime)
    mail_window_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Which soft limit flagged the submission (models/abuse.py), kept for the organisers.
    flag_reason: Mapped[str | None] = mapped_column(String(40))
    # Keyed hash of the address's domain, so a bulk invalidation can select a domain after
    # the abuse events have forgotten it; erased with email_hash at retention.
    domain_hash: Mapped[str | None] = mapped_column(String(64))
    # Asked for the campaign's news: confirming makes a news_subscriber (models/news.py).
    news: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # UCA key (collation.stored_key) of the line the list shows: the name, or the initials of
    # those who chose initials; none for the unlisted. Never derived from a hidden name, so
    # sorting by it reveals nothing. Filled on every ORM insert/update below (list_key());
    # bulk writers must set it themselves.
    collation_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    # An organisation's name as moderation.must_hold compares it (collation.fold_name), so
    # an individual taking an organisation's name is found by an index lookup; none for
    # individuals. Filled like collation_key (derived_columns()).
    name_fold: Mapped[str | None] = mapped_column(Text)

    letter: Mapped[Letter] = relationship()
    # The letter's own names for this signature's country, in each language, read with the
    # signature by signing's link read: a page about it needs no query of its own.
    country_labels: Mapped[list[CountryLabel]] = relationship(
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
def _fill_derived_columns(mapper: Mapper[Any], connection: Connection,
                          target: Signature) -> None:
    for column, value in derived_columns(target.signer_type, target.name, target.display).items():
        setattr(target, column, value)


class SignatureVersion(Model):
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
    affiliation: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(16))
    display: Mapped[str] = mapped_column(String(10), default=FULL)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    private_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)  # as on Signature
    news: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    link_issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # The mail carrying this version's link while it waits for the per-address cap: a later
    # submission within the same wait replaces both.
    mail_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_mail.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    signature: Mapped[Signature] = relationship()
