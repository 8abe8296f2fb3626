"""Bulk invalidation: a letter's signatures matching some conditions taken off the
list and the counts as one recorded job, which can be undone (after alphagov/e-petitions'
Invalidation: conditions, the count first, then a background job that can be cancelled).

A job stores its conditions as given and one item per signature it reached, with that
signature's moderation before; undoing puts back each one still "invalid". A set of up to
INVALIDATION_INLINE_MAX signatures is changed in the transaction that starts the job; a
bigger one is left "running" for the worker (run_pending()), which changes it chunk by chunk,
one commit each, and picks up where it stopped after a crash. Every change moves the counts
and the list version in its own transaction (letters/counting.py).

Confirmed and pending signatures are reached (not withdrawn ones): confirming a pending
one keeps an "invalid" (or "flagged") moderation (signing._confirm(), write_statements), so
a bot's signatures still waiting for their link stay off the counts once confirmed.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, delete, func, insert, literal, or_, select, update
from sqlalchemy.orm import aliased

from petition import addresses, countries
from petition.accounts import audit
from petition.collation import search_fold
from petition.extensions import db
from petition.letters import counting
from petition.models import (
    CONFIRMED,
    MOD_FLAGGED,
    MOD_INVALID,
    MODERATION_STATES,
    PENDING,
    PUBLIC_MODERATION,
    Letter,
    Signature,
    utcnow,
)
from petition.models.abuse import (
    JOB_DONE,
    JOB_RUNNING,
    JOB_UNDONE,
    AbuseEvent,
    InvalidationItem,
    InvalidationJob,
)
from petition.signatures.search import SOURCES, CurationError, StaleSelection, _folded

CHUNK = 500  # signatures a worker pass changes in one transaction
REACHED = (CONFIRMED, PENDING)  # the states a job reaches
_BLOCK_RE = re.compile(r"^[0-9a-f]{8,64}$")


class InvalidationError(CurationError):
    """A bulk invalidation or its undoing was refused; the message says why."""


def domain_key(domain: str) -> str:
    """A mail domain as addresses.canonical_email() writes it (Unicode, NFC, lower case),
    however typed: "@Example.ORG.", "xn--bcher-kva.example" → "bücher.example"."""
    text = unicodedata.normalize("NFC", domain.strip().lstrip("@").rstrip(".").lower())
    if text.isascii() and "xn--" in text:
        # Not valid punycode: left as typed, it then matches nothing.
        with contextlib.suppress(UnicodeError):
            text = text.encode("ascii").decode("idna")
    return text


def domain_hash(domain: str) -> str:
    """Keyed hash of a mail domain (Signature.domain_hash): signing stores it, a bulk
    invalidation looks it up once the abuse events have forgotten the domain."""
    return addresses.keyed_hash(domain_key(domain), "email-domain")


@dataclass(frozen=True)
class Conditions:
    """What a job selects among a letter's confirmed and pending signatures; each given one
    narrows."""

    domain: str = ""       # the mail domain (domain_key())
    block: str = ""        # the keyed hash of an address block, as `flask abuse trends` prints
    name: str = ""         # part of the name or affiliation, case and accents aside; "*" any
    country: str = ""      # a country or scope code
    since: dt.datetime | None = None  # signed at or after
    until: dt.datetime | None = None  # signed before (a day given: until its end)
    reason: str = ""       # the soft limit that flagged it (Signature.flag_reason)
    source: str = ""       # form, import or manual
    moderation: str = ""   # its moderation now: e.g. "flagged"

    FIELDS = ("domain", "block", "name", "country", "since", "until", "reason", "source",
              "moderation")

    @classmethod
    def parse(cls, values: Mapping[str, str | None]) -> Conditions:
        """From strings (a form, the command line); InvalidationError names the first bad
        one. At least one condition must be given: never a whole letter by accident."""
        text = {name: (values.get(name) or "").strip() for name in cls.FIELDS}
        domain = domain_key(text["domain"]) if text["domain"] else ""
        if domain and ("@" in domain or " " in domain or "." not in domain):
            raise InvalidationError(_l("Please give a mail domain such as example.org."))
        block = text["block"].lower()
        if block and not _BLOCK_RE.match(block):
            raise InvalidationError(_l("An address block is given by its hash: 8 to 64 "
                                       "characters 0-9 and a-f, as the abuse trends show it."))
        country = countries.normalize_code(text["country"]) if text["country"] else ""
        if country and not countries.is_valid(country):
            raise InvalidationError(_l("Unknown country or region code."))
        if text["source"] and text["source"] not in SOURCES:
            raise InvalidationError(_l("Unknown source: form, import or manual."))
        moderation = text["moderation"]
        if moderation and (moderation not in MODERATION_STATES or moderation == MOD_INVALID):
            raise InvalidationError(_l("Unknown moderation state."))
        since, until = _instant(text["since"]), _instant(text["until"], end=True)
        if since and until and since >= until:
            raise InvalidationError(_l("The start date is after the end date."))
        found = cls(domain=domain, block=block, name=text["name"][:200], country=country,
                    since=since, until=until, reason=text["reason"][:40],
                    source=text["source"], moderation=moderation)
        if found.is_empty():
            raise InvalidationError(_l("Please give at least one condition: a whole letter "
                                       "is never invalidated at once."))
        return found

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in self.FIELDS)

    def as_strings(self) -> dict[str, str]:
        """The given conditions as strings, for hidden fields, links and the job's record."""
        values = asdict(self)
        return {name: (value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value)
                for name, value in values.items() if value}

    def for_audit(self) -> str:
        # A name searched for may be one its signer asked not to have listed.
        values = self.as_strings()
        if "name" in values:
            values["name"] = "…"
        return " ".join(f"{name}={value}" for name, value in values.items())


def _instant(value: str, end: bool = False) -> dt.datetime | None:
    """An ISO date or date and time, in UTC as stored. A date alone means its whole day:
    from its start, or (as an end) until the next day's start."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time())
        instant = dt.datetime.fromisoformat(value)
    except (ValueError, OverflowError):  # not a date, or the day after 9999-12-31
        raise InvalidationError(_l("Please give dates as YYYY-MM-DD or YYYY-MM-DD HH:MM "
                                   "(UTC).")) from None
    if instant.tzinfo is not None:
        instant = instant.astimezone(dt.UTC).replace(tzinfo=None)
    return instant


def _name_match(pattern: str) -> ColumnElement[bool]:
    """Part of the name or affiliation as the admin search folds them; with "*", the whole
    of one ("bot*" starts with bot)."""
    needle = search_fold(pattern) or ""
    if "*" not in needle:
        return or_(_folded(Signature.name).contains(needle, autoescape=True),
                   _folded(Signature.affiliation).contains(needle, autoescape=True))
    escaped = [part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
               for part in needle.split("*")]
    like = "%".join(escaped)
    return or_(_folded(Signature.name).like(like, escape="\\"),
               _folded(Signature.affiliation).like(like, escape="\\"))


def _criteria(letter: Letter, conditions: Conditions) -> list[ColumnElement[bool]]:
    """The WHERE of a job's signatures: the letter's confirmed and pending ones, not
    invalid yet, matching every condition given."""
    where: list[ColumnElement[bool]] = [
        Signature.letter_id == letter.id, Signature.status.in_(REACHED),
        Signature.moderation != MOD_INVALID]
    if conditions.domain:
        # The stored hash, or the domain the abuse events still remember (for signatures
        # made before the hash was stored).
        remembered = select(AbuseEvent.signature_id).where(
            AbuseEvent.letter_id == letter.id, AbuseEvent.email_domain == conditions.domain,
            AbuseEvent.signature_id.is_not(None))
        where.append(or_(Signature.domain_hash == domain_hash(conditions.domain),
                         Signature.id.in_(remembered)))
    if conditions.block:
        where.append(Signature.id.in_(select(AbuseEvent.signature_id).where(
            AbuseEvent.letter_id == letter.id, AbuseEvent.block_hash.startswith(
                conditions.block, autoescape=True),
            AbuseEvent.signature_id.is_not(None))))
    if conditions.name:
        where.append(_name_match(conditions.name))
    for name in ("country", "source", "moderation"):
        if getattr(conditions, name):
            where.append(getattr(Signature, name) == getattr(conditions, name))
    if conditions.reason:
        where.append(Signature.flag_reason == conditions.reason)
    if conditions.since:
        where.append(Signature.created_at >= conditions.since)
    if conditions.until:
        where.append(Signature.created_at < conditions.until)
    return where


def count(letter: Letter, conditions: Conditions) -> int:
    """How many signatures a job with these conditions would take off now."""
    return db.session.scalar(
        select(func.count(Signature.id)).where(*_criteria(letter, conditions))) or 0


# --- Starting, working, undoing --------------------------------------------------------------

def start(letter: Letter, conditions: Conditions, actor: str, expected: int | None = None, *,
          inline_max: int | None = None) -> InvalidationJob:
    """Record a job and its items and, for a set of up to INVALIDATION_INLINE_MAX, take them
    off now; a bigger set is left "running" for the worker. One commit, with the audit row.

    `expected`: the count the user was shown; a set that grew or shrank since is refused
    (StaleSelection) with nothing written.
    """
    if conditions.is_empty():
        raise InvalidationError(_l("Please give at least one condition: a whole letter "
                                   "is never invalidated at once."))
    job = InvalidationJob(letter_id=letter.id, created_by=actor[:254],
                          conditions=json.dumps(conditions.as_strings(), ensure_ascii=False),
                          status=JOB_RUNNING)
    db.session.add(job)
    db.session.flush()
    # The set, frozen as it is now: each signature with its moderation before. Counted
    # after (a pipelined statement's rowcount is not known on PostgreSQL).
    db.session.execute(insert(InvalidationItem).from_select(
        ["job_id", "signature_id", "previous_moderation"],
        select(literal(job.id), Signature.id, Signature.moderation)
        .where(*_criteria(letter, conditions))))
    matched = db.session.scalar(select(func.count()).select_from(InvalidationItem).where(
        InvalidationItem.job_id == job.id)) or 0
    if expected is not None and matched != expected:
        db.session.rollback()
        raise StaleSelection(matched)
    if not matched:
        db.session.rollback()
        raise InvalidationError(_l("No signature matches: nothing to do."))
    job.matched = matched
    limit = current_app.config["INVALIDATION_INLINE_MAX"] if inline_max is None else inline_max
    if matched <= limit:
        _take_off(job, letter, None)
        _finish(job)
    audit.record(actor, "signature.invalidate", letter_slug=letter.slug, commit=False,
                 detail=f"job={job.public_id} matched={matched} {conditions.for_audit()}")
    db.session.commit()
    return job


def _take_off(job: InvalidationJob, letter: Letter, limit: int | None) -> int:
    """Mark invalid up to `limit` of the job's signatures not done yet (those still as they
    were when it started; one changed meanwhile by someone else is left alone), moving the
    counts; how many.

    One UPDATE whose WHERE holds the check, counted from the rows it changed (RETURNING),
    as remove_signatures() does: a concurrent job or decision that changed a row first
    makes it drop out (PostgreSQL checks the WHERE again once the row's lock is granted;
    SQLite writes one at a time), so no count is taken off twice. A plain UPDATE, not a
    SELECT … FOR UPDATE: the items' foreign keys hold key-share locks on the same rows,
    which FOR UPDATE would wait on crosswise.
    """
    as_started = (select(InvalidationItem.signature_id)
                  .where(InvalidationItem.job_id == job.id,
                         InvalidationItem.signature_id == Signature.id,
                         InvalidationItem.previous_moderation == Signature.moderation)
                  .exists())
    due = [Signature.letter_id == letter.id, Signature.status.in_(REACHED),
           Signature.moderation != MOD_INVALID, as_started]
    if limit is not None:
        chunk = select(Signature.id).where(*due).order_by(Signature.id).limit(limit)
        due.append(Signature.id.in_(chunk.scalar_subquery()))
    changed = db.session.execute(
        update(Signature).where(*due).values(moderation=MOD_INVALID)
        .returning(Signature.id, Signature.country, Signature.signer_type, Signature.display,
                   Signature.status)
        .execution_options(synchronize_session=False)).all()
    if not changed:
        return 0
    # What each was before (its item's): those that were public leave the counts.
    previous = dict(db.session.execute(
        select(InvalidationItem.signature_id, InvalidationItem.previous_moderation)
        .where(InvalidationItem.job_id == job.id,
               InvalidationItem.signature_id.in_([row.id for row in changed]))).tuples().all())
    counting.changed(letter, removed=[
        (row.country, row.signer_type, counting.is_listed(row.signer_type, row.display))
        for row in changed
        if row.status == CONFIRMED and previous.get(row.id) in PUBLIC_MODERATION])
    # Added in SQL: two workers on SQLite (no row lock there) lose no step of it.
    job.changed = InvalidationJob.changed + len(changed)
    return len(changed)


def _finish(job: InvalidationJob) -> None:
    """Done: the items it never changed (changed meanwhile by someone else) are dropped, so
    undoing it never touches them."""
    db.session.flush()
    untouched = select(Signature.id).where(Signature.id == InvalidationItem.signature_id,
                                           Signature.moderation != MOD_INVALID).exists()
    db.session.execute(delete(InvalidationItem).where(
        InvalidationItem.job_id == job.id, untouched)
        .execution_options(synchronize_session=False))
    job.status = JOB_DONE
    job.finished_at = utcnow()


def work(job_id: int, chunk: int = CHUNK) -> bool:
    """One chunk of a running job, committed; whether more is left. The job's row is locked
    first, so two workers never take the same chunk (one finding it locked leaves it to
    the other), and an undo waits for the chunk."""
    job = db.session.scalars(select(InvalidationJob).where(
        InvalidationJob.id == job_id).with_for_update(skip_locked=True).execution_options(
        populate_existing=True)).one_or_none()
    if job is None or job.status != JOB_RUNNING:
        db.session.rollback()
        return False
    letter = db.session.get(Letter, job.letter_id)
    assert letter is not None  # the job is deleted with its letter
    changed = _take_off(job, letter, chunk)
    if changed < chunk:
        _finish(job)
    db.session.commit()
    return changed >= chunk


def run_pending(chunk: int = CHUNK) -> bool:
    """The worker's pass: one chunk of each running job; whether any has more left. A job
    whose chunk fails is kept running (tried again next pass) with the error noted."""
    busy = False
    for job_id in db.session.scalars(select(InvalidationJob.id).where(
            InvalidationJob.status == JOB_RUNNING).order_by(InvalidationJob.id)).all():
        try:
            busy = work(job_id, chunk) or busy
        except Exception as error:  # one bad job must not stop the others or the mail
            db.session.rollback()
            current_app.logger.exception("invalidation job %d failed; trying again later",
                                         job_id)
            job = db.session.get(InvalidationJob, job_id)
            if job is not None:
                job.error = f"{type(error).__name__}: {error}"[:2000]
                db.session.commit()
    return busy


def get_job(public_id: str) -> InvalidationJob:
    job = db.session.scalars(select(InvalidationJob).where(
        InvalidationJob.public_id == public_id)).one_or_none()
    if job is None:
        raise InvalidationError(_l("No invalidation job has that id."))
    return job


def undo(public_id: str, actor: str, *, letter: Letter | None = None) -> InvalidationJob:
    """Put back the moderation each signature had before the job, where it is still
    "invalid" (and no later job took it off since), moving the counts; mark the job undone.
    A running job stops where it is. A second undo is refused. One commit, audited.
    `letter`: the job must be one of this letter's (the back office's page)."""
    job = get_job(public_id)
    if letter is not None and job.letter_id != letter.id:
        raise InvalidationError(_l("No invalidation job has that id."))
    # Locked: a worker's chunk in progress finishes first, and two undos are one.
    db.session.scalars(select(InvalidationJob).where(InvalidationJob.id == job.id)
                       .with_for_update().execution_options(populate_existing=True)).one()
    if job.status == JOB_UNDONE:
        raise InvalidationError(_l("This job was already undone, by %(who)s on %(when)s.",
                                   who=job.undone_by or "?",
                                   when=job.undone_at.strftime("%Y-%m-%d %H:%M")
                                   if job.undone_at else "?"))
    target = letter or db.session.get(Letter, job.letter_id)
    assert target is not None
    later = aliased(InvalidationItem)
    later_job = aliased(InvalidationJob)
    taken_since = (select(later.signature_id)
                   .join(later_job, later_job.id == later.job_id)
                   .where(later.signature_id == Signature.id, later.job_id > job.id,
                          later_job.status != JOB_UNDONE).exists())
    before = (select(InvalidationItem.previous_moderation)
              .where(InvalidationItem.job_id == job.id,
                     InvalidationItem.signature_id == Signature.id).scalar_subquery())
    # One UPDATE, counted from what it wrote (RETURNING: the moderation put back), as
    # _take_off() does.
    restored_rows = db.session.execute(
        update(Signature).where(Signature.letter_id == target.id,
                                Signature.moderation == MOD_INVALID,
                                before.is_not(None), ~taken_since)
        .values(moderation=before)
        .returning(Signature.country, Signature.signer_type, Signature.display,
                   Signature.status, Signature.moderation)
        .execution_options(synchronize_session=False)).all()
    restored = len(restored_rows)
    if restored:
        counting.changed(target, added=[
            (row.country, row.signer_type, counting.is_listed(row.signer_type, row.display))
            for row in restored_rows
            if row.status == CONFIRMED and row.moderation in PUBLIC_MODERATION])
    job.status, job.undone_by, job.undone_at = JOB_UNDONE, actor[:254], utcnow()
    if job.finished_at is None:
        job.finished_at = job.undone_at
    audit.record(actor, "signature.invalidate.undo", letter_slug=target.slug, commit=False,
                 detail=f"job={job.public_id} restored={restored}")
    db.session.commit()
    return job


def restored_count(job: InvalidationJob) -> int:
    """How many of an undone job's signatures are no longer invalid (for its line)."""
    return db.session.scalar(
        select(func.count()).select_from(InvalidationItem)
        .join(Signature, Signature.id == InvalidationItem.signature_id)
        .where(InvalidationItem.job_id == job.id, Signature.moderation != MOD_INVALID)) or 0


def jobs(letter: Letter, limit: int = 50) -> list[InvalidationJob]:
    """The letter's jobs, newest first."""
    return list(db.session.scalars(
        select(InvalidationJob).where(InvalidationJob.letter_id == letter.id)
        .order_by(InvalidationJob.created_at.desc(), InvalidationJob.id.desc()).limit(limit)))


def conditions_of(job: InvalidationJob) -> dict[str, str]:
    """A job's conditions as recorded (strings)."""
    try:
        values = json.loads(job.conditions)
    except ValueError:
        return {}
    return {str(key): str(value) for key, value in values.items()} if isinstance(
        values, dict) else {}


# --- Flagged signatures ----------------------------------------------------------------------

@dataclass(frozen=True)
class Flagged:
    public_id: str
    reason: str
    created_at: dt.datetime
    status: str


def flagged(letter: Letter) -> list[Flagged]:
    """The letter's flagged signatures (over a soft limit, waiting for an organiser), with
    the reason, oldest first."""
    return [Flagged(public_id, reason or "", created_at, status)
            for public_id, reason, created_at, status in db.session.execute(
                select(Signature.public_id, Signature.flag_reason, Signature.created_at,
                       Signature.status)
                .where(Signature.letter_id == letter.id, Signature.moderation == MOD_FLAGGED)
                .order_by(Signature.created_at, Signature.id))]


__all__ = ["CHUNK", "SOURCES", "Conditions", "CurationError", "Flagged", "InvalidationError",
           "StaleSelection", "conditions_of", "count", "domain_hash", "domain_key", "flagged",
           "get_job", "jobs", "restored_count", "run_pending", "start", "undo", "work"]
