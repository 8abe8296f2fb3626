"""Abuse review: what a submission leaves for a few hours (keyed hashes of the client address
and its block, the e-mail domain), the allow and block lists, the alerts already mailed, and
bulk invalidations as recorded, reversible jobs."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from petition.extensions import Model
from petition.models.stamps import new_public_id, utcnow

# What became of a submission, as the events table records it. The sender is told none of it.
EVENT_COUNTED, EVENT_FLAGGED, EVENT_BLOCKED, EVENT_DROPPED = (
    "counted", "flagged", "blocked", "dropped")
EVENT_OUTCOMES = (EVENT_COUNTED, EVENT_FLAGGED, EVENT_BLOCKED, EVENT_DROPPED)

# Allow and block lists: e-mail domains (a leading "*." takes every subdomain) and address
# blocks (by keyed hash), for the whole site (letter_id NULL) or one letter.
RULE_DOMAIN, RULE_BLOCK = "domain", "block"
RULE_KINDS = (RULE_DOMAIN, RULE_BLOCK)
RULE_ALLOW, RULE_DENY = "allow", "block"
RULE_ACTIONS = (RULE_ALLOW, RULE_DENY)

# Bulk invalidation jobs.
JOB_RUNNING, JOB_DONE, JOB_UNDONE, JOB_FAILED = "running", "done", "undone", "failed"
JOB_STATES = (JOB_RUNNING, JOB_DONE, JOB_UNDONE, JOB_FAILED)


class AbuseEvent(Model):
    """One submission to a letter, kept for hours (ABUSE_EVENT_HOURS) to see where bursts come
    from: never the client address, only keyed hashes of it and of its /24 (IPv4) or /64
    (IPv6) block, and the e-mail domain. Deleted on schedule by the worker."""

    __tablename__ = "abuse_event"
    __table_args__ = (
        Index("ix_abuse_event_letter_at", "letter_id", "at"),
        Index("ix_abuse_event_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    # The signature it made, while both exist (bulk invalidation by block hash reads it).
    signature_id: Mapped[int | None] = mapped_column(
        ForeignKey("signature.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    address_hash: Mapped[str] = mapped_column(String(64))
    block_hash: Mapped[str] = mapped_column(String(64))
    email_domain: Mapped[str | None] = mapped_column(String(253))
    outcome: Mapped[str] = mapped_column(String(10), default=EVENT_COUNTED)
    # Which soft limit flagged it, or which rule blocked it.
    reason: Mapped[str | None] = mapped_column(String(40))


class AbuseRule(Model):
    """An allow or block entry: allowed submissions skip the soft limits; blocked ones are
    dropped silently (the same page, nothing stored, nothing mailed)."""

    __tablename__ = "abuse_rule"
    __table_args__ = (UniqueConstraint("letter_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(253))  # a domain pattern or a block hash
    action: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AbuseAlert(Model):
    """A trend already mailed to the letter's organisers: a block or domain is mailed once
    while the events that made it a trend are remembered (deleted with them)."""

    __tablename__ = "abuse_alert"
    __table_args__ = (UniqueConstraint("letter_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(253))
    count: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class InvalidationJob(Model):
    """A bulk invalidation: its conditions, how many it matched, who ran it and who undid it.
    Its items remember each signature's moderation before, so undoing restores it."""

    __tablename__ = "invalidation_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"),
                                           index=True)
    conditions: Mapped[str] = mapped_column(Text)  # JSON, as given
    status: Mapped[str] = mapped_column(String(10), default=JOB_RUNNING)
    matched: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    changed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    undone_by: Mapped[str | None] = mapped_column(String(254))
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)


class InvalidationItem(Model):
    __tablename__ = "invalidation_item"

    job_id: Mapped[int] = mapped_column(ForeignKey("invalidation_job.id", ondelete="CASCADE"),
                                        primary_key=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("signature.id", ondelete="CASCADE"),
                                              primary_key=True, index=True)
    previous_moderation: Mapped[str] = mapped_column(String(10))
