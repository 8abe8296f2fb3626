"""A letter's milestones: the thresholds its organisers set (by default 25, 50, 75 and 100 %
of the goal), each recorded once with the time the public count crossed it, and mailed once
to the letter's organisers.

The crossing is recorded in the transaction of the change that made it (a confirmation, a
drive letter counted, a moderator's approval), by one INSERT … SELECT that compares the
count just written with the letter's thresholds: `ON CONFLICT DO NOTHING` on the unique
(letter, threshold) makes a second crossing (after withdrawals) or a concurrent one add
nothing, and raise nothing. Its mail is queued in the same transaction, only for a row it
inserted, as a request row the mail worker turns into one mail per organiser
(expand_requests(): the addresses are read and encrypted then, not on the write path).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, cast

from flask import current_app, render_template
from flask_babel import force_locale, ngettext
from sqlalchemy import CursorResult, Integer, bindparam, delete, select, text, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import TextClause

from petition.addresses import encrypt
from petition.core.pipelining import Answer, Together, written_here
from petition.dates import long_date
from petition.extensions import db
from petition.letters.values import parse_milestone_items
from petition.mail import outbox
from petition.mail.outbox import MILESTONE_REQUEST, Obsolete
from petition.models import Letter, LetterMilestone, OutboxMail, utcnow
from petition.models.accounts import ROLE_ADMIN, ROLE_ORGANISER, Account, AccountLetter
from petition.models.drive import WRITTEN

# The mail an organiser receives; its row names the milestone in link_nonce (a request row
# too, until the worker has expanded it).
MILESTONE_MAIL = "milestone"
DEFAULT_PERCENTS = (25, 50, 75, 100)


# --- The thresholds --------------------------------------------------------------------

def thresholds(letter: Letter) -> tuple[int, ...]:
    """The counts the letter's milestones stand at now, ascending: its own (counts, or
    percentages of the goal) or 25, 50, 75 and 100 % of the goal; none without a goal
    unless the organisers gave counts."""
    return _thresholds(letter.milestones, letter.goal)


@lru_cache(maxsize=256)
def _thresholds(milestones: str | None, goal: int | None) -> tuple[int, ...]:
    items = (parse_milestone_items(milestones) if milestones
             else [(percent, True) for percent in DEFAULT_PERCENTS])
    counts = set()
    for number, is_percent in items:
        if not is_percent:
            counts.add(number)
        elif goal:
            counts.add(-(-goal * number // 100))  # rounded up: 25 % of 999 is reached at 250
    return tuple(sorted(counts))


@dataclass(frozen=True)
class Milestone:
    threshold: int
    reached_at: dt.datetime  # naive UTC


def reached_milestones(letter: Letter) -> list[Milestone]:
    """The letter's current milestones that have been reached, with when, ascending. A
    threshold the organisers removed stays recorded (it is not mailed again if set again)
    but is no longer shown."""
    current = thresholds(letter)
    if not current:
        return []
    rows = db.session.execute(
        select(LetterMilestone.threshold, LetterMilestone.reached_at)
        .where(LetterMilestone.letter_id == letter.id,
               LetterMilestone.threshold.in_(current))
        .order_by(LetterMilestone.threshold)).all()
    _known_reached(letter).update(threshold for threshold, _ in rows)
    return [Milestone(threshold, reached_at) for threshold, reached_at in rows]


# Thresholds this process has seen recorded, per letter: a row, once there, stays (until
# its letter is deleted: the key holds the letter's creation time, as SQLite may give a
# deleted letter's id to the next). Stale only the safe way (a threshold not known here
# is checked, and ON CONFLICT adds nothing), it spares a letter past its last milestone
# the check on every confirmation. Filled by the page's reads.
_REACHED: dict[tuple[int, dt.datetime], set[int]] = {}


def _known_reached(letter: Letter) -> set[int]:
    return _REACHED.setdefault((letter.id, letter.created_at), set())


def _all_reached(letter: Letter, current: tuple[int, ...]) -> bool:
    known = _REACHED.get((letter.id, letter.created_at))
    return known is not None and known.issuperset(current)


def public_milestones(letter: Letter) -> list[dict[str, object]]:
    """reached_milestones() as the JSON gives them, times in UTC ("…Z"); none while the
    count is hidden (an embargo that hides it)."""
    if not letter.count_public:
        return []
    return [{"threshold": milestone.threshold,
             "reached_at": milestone.reached_at.isoformat(timespec="seconds") + "Z"}
            for milestone in reached_milestones(letter)]


# --- Recording a crossing --------------------------------------------------------------

SIGNATURES, DRIVE_LETTERS = "signatures", "drive_letters"
# The public count as one row, read in the statement itself, after the change it follows.
_TOTALS = {
    SIGNATURES: "SELECT COALESCE(SUM(listed + unlisted), 0) AS total FROM letter_count"
                " WHERE letter_id = :letter_id",
    DRIVE_LETTERS: "SELECT COUNT(*) AS total FROM drive_letter WHERE letter_id = :letter_id"
                   " AND status IN (" + ", ".join(f"'{status}'" for status in WRITTEN) + ")",
}


@cache
def _insert_crossed(source: str, count: int, after_signature: str | None) -> TextClause:
    """INSERT of the thresholds t0…t(count-1) that the count crossed by going up by :added
    (total - added < t <= total), each once; RETURNING the new rows' ids.
    `after_signature`: SQL that holds only if the transaction confirmed the signature
    :signature_id (sent before that is known, on PostgreSQL)."""
    values = " UNION ALL ".join(f"SELECT CAST(:t{index} AS INTEGER) AS threshold"
                                for index in range(count))
    condition = ("" if after_signature is None else
                 " AND EXISTS (SELECT 1 FROM signature WHERE signature.id = :signature_id"
                 f" AND {after_signature})")
    statement = text(
        "INSERT INTO letter_milestone (letter_id, threshold, reached_at)"
        f" SELECT :letter_id, t.threshold, :now FROM ({values}) AS t, ({_TOTALS[source]}) AS c"
        " WHERE t.threshold <= c.total AND t.threshold > c.total - :added" + condition +
        " ON CONFLICT (letter_id, threshold) DO NOTHING RETURNING id")
    integers = [bindparam(f"t{index}", type_=Integer()) for index in range(count)]
    return statement.bindparams(bindparam("letter_id", type_=Integer()),
                                bindparam("added", type_=Integer()), *integers)


def _params(letter: Letter, current: tuple[int, ...], added: int,
            now: dt.datetime) -> dict[str, Any]:
    return {"letter_id": letter.id, "added": added, "now": now,
            **{f"t{index}": threshold for index, threshold in enumerate(current)}}


# The request for the mail of a milestone row: the worker makes it one mail per organiser.
_REQUEST_COLUMNS = ("INSERT INTO outbox_mail (kind, subject, link_nonce, lang, status, attempts,"
                    " next_attempt_at, created_at)"
                    f" SELECT '{MILESTONE_REQUEST}', '', CAST(letter_milestone.id AS VARCHAR(32)),"
                    f" NULL, '{outbox.MAIL_QUEUED}', 0, :now, :now FROM letter_milestone")
_REQUEST_FOR = text(_REQUEST_COLUMNS + " WHERE letter_milestone.id = :milestone_id")
# PostgreSQL, in a pipeline: for the row the INSERT above has just added, if it has (the
# row's xmin is this transaction's id; a row it found there already keeps its own).
_REQUEST_FOR_NEW = text(_REQUEST_COLUMNS + " WHERE letter_milestone.letter_id = :letter_id"
                        " AND letter_milestone.xmin = pg_current_xact_id()::xid")


def confirmed_here(together: Together, letter: Letter, signature_id: int) -> Answer | None:
    """Record the milestone the signature this transaction has just confirmed (and counted)
    makes the letter cross, if any, with its mail request: sent with the commit, after the
    count's upsert. Nothing is sent for a letter without thresholds. On PostgreSQL, the
    answer, for wake_if_recorded() after the commit."""
    current = thresholds(letter)
    if not current or _all_reached(letter, current):
        return None
    now = utcnow()
    params = {**_params(letter, current, 1, now), "signature_id": signature_id}
    if together.dialect == "postgresql":
        statement = _insert_crossed(SIGNATURES, len(current), written_here("postgresql"))
        inserted = together.returning(statement, params)
        together.execute(_REQUEST_FOR_NEW, {"letter_id": letter.id, "now": now})
        return inserted
    # SQLite: known at once (and the caller sends nothing unless the row was confirmed).
    found = together.returning(_insert_crossed(SIGNATURES, len(current), None), params).row
    if found is not None:
        _request(found.id, now)
    return None


def wake_if_recorded(inserted: Answer | None) -> None:
    """After the commit of confirmed_here(): wake the mail worker if it recorded a
    milestone (its request is waiting)."""
    if inserted is not None and inserted.row is not None:
        db.session.info[outbox.ENQUEUED_FLAG] = True


def count_went_up(letter: Letter, added: int, source: str = SIGNATURES) -> int:
    """Record the milestones the letter's count crossed by going up by `added` in this
    transaction (a moderator's approval, an import, a drive letter confirmed), with their
    mail requests; the caller commits. Returns how many were recorded."""
    current = thresholds(letter)
    if added <= 0 or not current or _all_reached(letter, current):
        return 0
    db.session.flush()  # the count must include this transaction's own rows
    now = utcnow()
    ids = list(db.session.scalars(_insert_crossed(source, len(current), None),
                                  _params(letter, current, added, now)))
    for milestone_id in ids:
        _request(milestone_id, now)
    return len(ids)


def _request(milestone_id: int, now: dt.datetime) -> None:
    db.session.execute(_REQUEST_FOR, {"milestone_id": milestone_id, "now": now})
    db.session.info[outbox.ENQUEUED_FLAG] = True


# --- The mail to the organisers --------------------------------------------------------

def recipients(letter_id: int) -> list[str]:
    """Who is told: the active organisers and admins the letter is given to; if nobody
    is, every active admin (a letter an admin runs alone is mailed to the admins). Press
    officers and translators are not: a milestone is the organisers' news to spread."""
    assigned = list(db.session.scalars(
        select(Account.email).join(AccountLetter, AccountLetter.account_id == Account.id)
        .where(AccountLetter.letter_id == letter_id, Account.active,
               Account.role.in_((ROLE_ORGANISER, ROLE_ADMIN)))
        .order_by(Account.email)))
    if assigned:
        return assigned
    return list(db.session.scalars(select(Account.email).where(
        Account.active, Account.role == ROLE_ADMIN).order_by(Account.email)))


def expand_requests(limit: int = 50) -> int:
    """Turn waiting milestone requests into one mail per recipient (expand_to_organisers)."""
    def letter_of(reference: str | None) -> int | None:
        milestone = db.session.get(LetterMilestone, _milestone_id(reference))
        return milestone.letter_id if milestone else None

    return expand_to_organisers(MILESTONE_REQUEST, MILESTONE_MAIL, letter_of, limit)


def expand_to_organisers(request_kind: str, mail_kind: str,
                         letter_of: Callable[[str | None], int | None], limit: int = 50) -> int:
    """Turn waiting requests of `request_kind` (a milestone, an abuse alert: the row's
    link_nonce names it, `letter_of` finds its letter) into one `mail_kind` mail per
    recipient(), in the letter's language (the interface's, else English); a request whose
    letter or recipients are gone is deleted. Returns how many were expanded. Several
    workers may run this: a request is expanded by whoever takes its row."""
    requests = db.session.execute(
        select(OutboxMail.id, OutboxMail.link_nonce)
        .where(OutboxMail.kind == request_kind, OutboxMail.status == outbox.MAIL_QUEUED)
        .order_by(OutboxMail.id).limit(limit)).all()
    db.session.commit()
    expanded = 0
    for request_id, reference in requests:
        # Take the row first (on SQLite this write locks the file: workers take turns).
        taken = cast(CursorResult[Any], db.session.execute(
            update(OutboxMail).where(OutboxMail.id == request_id,
                                     OutboxMail.kind == request_kind)
            .values(kind=mail_kind).execution_options(synchronize_session=False)))
        if taken.rowcount != 1:
            db.session.rollback()  # another worker expands it
            continue
        letter_id = letter_of(reference)
        letter = db.session.get(Letter, letter_id) if letter_id is not None else None
        emails = recipients(letter.id) if letter is not None else []
        if letter is None or not emails:
            db.session.execute(delete(OutboxMail).where(OutboxMail.id == request_id))
        else:
            languages = current_app.config["LANGUAGES"]
            lang = letter.default_lang if letter.default_lang in languages else languages[0]
            first, *others = emails
            db.session.execute(update(OutboxMail).where(OutboxMail.id == request_id).values(
                recipient_encrypted=encrypt(first), lang=lang)
                .execution_options(synchronize_session=False))
            for email in others:
                outbox.enqueue(kind=mail_kind, to=email, link_nonce=reference, lang=lang)
        db.session.commit()
        expanded += 1
    return expanded


def _milestone_id(reference: str | None) -> int:
    return int(reference) if reference and reference.isdigit() else 0


class MilestoneMails:
    """The dispatcher's renderer of the organisers' milestone mails (create_app())."""

    kinds: tuple[str, ...] = (MILESTONE_MAIL,)

    def load(self, session: Session, mails: list[OutboxMail]) -> dict[int, Any]:
        ids = {_milestone_id(mail.link_nonce) for mail in mails}
        milestones = session.scalars(
            select(LetterMilestone).where(LetterMilestone.id.in_(ids))).all()
        letters = session.scalars(
            select(Letter).where(Letter.id.in_({row.letter_id for row in milestones}))
            .options(selectinload(Letter.texts))).all()
        by_id = {letter.id: letter for letter in letters}
        return {row.id: (row, by_id[row.letter_id]) for row in milestones
                if row.letter_id in by_id}

    def render(self, mail: OutboxMail, session: Session,
               loaded: dict[int, Any]) -> outbox.Content:
        found = loaded.get(_milestone_id(mail.link_nonce))
        if found is None:
            raise Obsolete("its milestone or letter is gone")
        milestone, letter = found
        lang = mail.lang or letter.default_lang
        with force_locale(lang):
            return _render(milestone, letter, lang)


MILESTONE_MAILS = MilestoneMails()


def _render(milestone: LetterMilestone, letter: Letter, lang: str) -> outbox.Content:
    base = current_app.config["BASE_URL"]
    number = milestone.threshold
    title = letter.text_for(lang).title
    if letter.is_drive:
        subject = ngettext("Milestone: %(num)s letter written to “%(title)s”",
                           "Milestone: %(num)s letters written to “%(title)s”", number,
                           title=title)
    else:
        subject = ngettext("Milestone: %(num)s signature on “%(title)s”",
                           "Milestone: %(num)s signatures on “%(title)s”", number, title=title)
    context = dict(
        lang=lang, title=title, number=number, drive=letter.is_drive, goal=letter.goal,
        reached_on=long_date(milestone.reached_at.date(), lang),
        letter_url=f"{base}/letters/{letter.slug}?lang={lang}",
        admin_url=f"{base}/admin/letters/{letter.slug}",
    )
    return outbox.Content(subject=subject,
                          text=render_template("email/milestone.txt", **context),
                          html=render_template("email/milestone.html", **context))


