"""A letter (open letter, petition or letter drive), its texts per language, its own
country headings, and its public counts."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition.extensions import Model
from petition.models.stamps import new_list_token, utcnow

# Letter states.
DRAFT, OPEN, CLOSED = "draft", "open", "closed"
LETTER_STATES = (DRAFT, OPEN, CLOSED)

# Kinds of campaign: an open letter (signatures listed by name, the default), a petition
# (signatures counted by country and type, never a public list of names) or a letter drive
# (personal letters to one recipient, see models/drive.py).
OPEN_LETTER, PETITION, LETTER_DRIVE = "open-letter", "petition", "letter-drive"
LETTER_KINDS = (OPEN_LETTER, PETITION, LETTER_DRIVE)

# Who may sign: a letter takes organisations, individuals or both.
ORGANIZATION, INDIVIDUAL = "organization", "individual"
SIGNER_TYPES = (ORGANIZATION, INDIVIDUAL)


class Letter(Model):
    __tablename__ = "letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=DRAFT)
    kind: Mapped[str] = mapped_column(String(16), default=OPEN_LETTER,
                                      server_default=OPEN_LETTER)
    default_lang: Mapped[str] = mapped_column(String(8), default="en")
    goal: Mapped[int | None] = mapped_column(Integer)
    place: Mapped[str | None] = mapped_column(String(200))
    date: Mapped[dt.date | None] = mapped_column(Date)
    # The last day (UTC) signatures are taken; the letter then reads as closed.
    deadline: Mapped[dt.date | None] = mapped_column(Date)
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
    list_token: Mapped[str | None] = mapped_column(String(32), default=new_list_token)
    # When the public list last changed (the press list's Last-Modified); None: not since 0010.
    list_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # When the letter was last closed: retention counts from it (or from the deadline).
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Days after closing before the signers' email fingerprints go (see privacy/retention.py).
    fingerprint_retention_days: Mapped[int] = mapped_column(Integer, default=90,
                                                            server_default="90")
    fingerprints_erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Until this time (naive UTC) nothing of the list is public; the count only if chosen.
    embargo_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    embargo_count: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # The organisers' milestone thresholds as text; None: 25, 50, 75 and 100 % of the goal.
    milestones: Mapped[str | None] = mapped_column(String(200))
    # The public chart of confirmed signatures per day, when the organisers switch it on.
    show_chart: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # How an individual is listed unless they choose otherwise (full, initials, anonymous:
    # the display choices of models/signatures.py). Letters made before 0017 keep "full";
    # creating one (CLI, back office) defaults to initials.
    individual_display: Mapped[str] = mapped_column(String(10), default="full",
                                                    server_default="full")
    # The organisers' own soft limits (abuse/limits.py), JSON; None: the site's defaults.
    soft_limits: Mapped[str | None] = mapped_column(Text)

    texts: Mapped[list[LetterText]] = relationship(
        back_populates="letter", cascade="all, delete-orphan", order_by="LetterText.lang"
    )
    labels: Mapped[list[CountryLabel]] = relationship(
        back_populates="letter", cascade="all, delete-orphan"
    )

    @property
    def is_drive(self) -> bool:
        return self.kind == LETTER_DRIVE

    @property
    def is_petition(self) -> bool:
        return self.kind == PETITION

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

    def text_for(self, lang: str) -> LetterText:
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


class LetterText(Model):
    __tablename__ = "letter_text"
    __table_args__ = (UniqueConstraint("letter_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered safely
    place: Mapped[str | None] = mapped_column(String(200))  # "Париж"; none: the letter's
    # The campaign block in this language: beside the text, never inside it, in no export
    # (petition/letters/campaign.py). On the text's row so every page and mail that reads
    # the text has it without another round trip.
    donation_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    donation_text: Mapped[str] = mapped_column(String(300), default="", server_default="")
    bank_details: Mapped[str] = mapped_column(Text, default="", server_default="")  # lines
    channels: Mapped[str] = mapped_column(Text, default="", server_default="")  # URLs, a line each
    contact: Mapped[str] = mapped_column(String(300), default="", server_default="")

    letter: Mapped[Letter] = relationship(back_populates="texts")

    @property
    def dateline_place(self) -> str | None:  # what the dateline says in this language
        return self.place or self.letter.place


class CountryLabel(Model):
    """The organiser's own heading for a country or scope, e.g. ES → "Etat espagnol" in fr."""

    __tablename__ = "country_label"
    __table_args__ = (UniqueConstraint("letter_id", "lang", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200))

    letter: Mapped[Letter] = relationship(back_populates="labels")


class LetterMilestone(Model):
    """A threshold crossed, recorded once with its time (its mail is queued with the row)."""

    __tablename__ = "letter_milestone"
    __table_args__ = (UniqueConstraint("letter_id", "threshold", name="uq_letter_milestone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    threshold: Mapped[int] = mapped_column(Integer)
    reached_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LetterCount(Model):
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
