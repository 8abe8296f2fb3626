"""A trend mailed to the letter's organisers once.

check_and_alert() runs on the signing path after record(): one query counts, over the
letter's last sixty minutes of events, those of the submission's block and of its domain
(a range of the (letter_id, at) index). Only when one reaches its threshold does it write:
an abuse_alert row (INSERT … ON CONFLICT DO NOTHING on the unique (letter, kind, value), so
a block or domain is recorded once however many requests race) and, for a row it inserted,
one request row in the outbox, which the mail worker turns into one mail per organiser
(expand_requests(), as for milestones: their addresses are read and encrypted there, not
while signing). A block or domain this process knows it has alerted about is not counted
again until the alert is forgotten. Without a block or domain, every trend of the letter's
last hour is checked (the back office and `flask abuse trends` do that).

The alert is deleted with the events (ABUSE_EVENT_HOURS): a block still sending after that
is mailed about again.
"""
from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from petition.abuse.events import window
from petition.abuse.trends import HOUR, thresholds
from petition.extensions import db
from petition.letters.milestones import expand_to_organisers
from petition.mail import outbox
from petition.mail.outbox import ABUSE_REQUEST, Obsolete
from petition.models import Letter, OutboxMail, utcnow
from petition.models.abuse import RULE_BLOCK, RULE_DOMAIN, AbuseAlert, AbuseEvent

ABUSE_MAIL = "abuse_alert"  # the mail one organiser receives; link_nonce: the alert's id

# (letter id, kind, value) → when this process saw it alerted: spares the count.
_ALERTED: dict[tuple[int, str, str], dt.datetime] = {}
_ALERTED_LOCK = threading.Lock()


def _known(letter_id: int, kind: str, value: str, now: dt.datetime) -> bool:
    at = _ALERTED.get((letter_id, kind, value))
    return at is not None and now - at < window()


def _remember(letter_id: int, kind: str, value: str, now: dt.datetime) -> None:
    with _ALERTED_LOCK:
        if len(_ALERTED) > 10_000:  # bounded: forgetting only costs a count
            _ALERTED.clear()
        _ALERTED[(letter_id, kind, value)] = now


def forget_known() -> None:
    """Drop what this process remembers (tests; after the events were forgotten)."""
    with _ALERTED_LOCK:
        _ALERTED.clear()


def check_and_alert(letter_id: int, block_hash: str | None = None,
                    email_domain: str | None = None, now: dt.datetime | None = None) -> int:
    """Record and queue the mail of each trend the letter has reached in the last hour:
    of this block and domain if given, else of any. The caller commits (the signing
    transaction, with the event). Returns how many alerts were recorded."""
    now = now or utcnow()
    limits = thresholds()
    db.session.flush()  # the event just recorded counts
    recent = (AbuseEvent.letter_id == letter_id, AbuseEvent.at >= now - HOUR,
              AbuseEvent.at <= now)
    crossed: list[tuple[str, str, int]] = []
    if block_hash is None and email_domain is None:
        for kind, column in ((RULE_BLOCK, AbuseEvent.block_hash),
                             (RULE_DOMAIN, AbuseEvent.email_domain)):
            crossed += [(kind, value, count) for value, count in db.session.execute(
                select(column, func.count()).where(*recent, column.is_not(None))
                .group_by(column).having(func.count() >= limits[kind]))]
    else:
        wanted = [(kind, value) for kind, value in ((RULE_BLOCK, block_hash),
                                                    (RULE_DOMAIN, email_domain))
                  if value and not _known(letter_id, kind, value, now)]
        if not wanted:
            return 0
        column_of = {RULE_BLOCK: AbuseEvent.block_hash, RULE_DOMAIN: AbuseEvent.email_domain}
        counts = db.session.execute(select(*(
            func.coalesce(func.sum(case((column_of[kind] == value, 1), else_=0)), 0)
            for kind, value in wanted)).where(*recent)).one()
        crossed = [(kind, value, int(count)) for (kind, value), count in zip(wanted, counts,
                                                                           strict=True)
                   if count >= limits[kind]]
    recorded = 0
    for kind, value, count in crossed:
        if _record(letter_id, kind, value, count, now):
            recorded += 1
        _remember(letter_id, kind, value, now)
    return recorded


def _record(letter_id: int, kind: str, value: str, count: int, now: dt.datetime) -> bool:
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    inserted = db.session.scalar(
        dialect.insert(AbuseAlert).values(letter_id=letter_id, kind=kind, value=value,
                                          count=count, at=now)
        .on_conflict_do_nothing(index_elements=["letter_id", "kind", "value"])
        .returning(AbuseAlert.id))
    if inserted is None:
        return False
    # The request: expanded into the organisers' mails by the worker.
    db.session.add(OutboxMail(kind=ABUSE_REQUEST, subject="", link_nonce=str(inserted),
                              status=outbox.MAIL_QUEUED, attempts=0, next_attempt_at=now,
                              created_at=now))
    db.session.info[outbox.ENQUEUED_FLAG] = True
    return True


def alerts(letter_id: int) -> list[AbuseAlert]:
    """The letter's alerts still remembered, newest first."""
    return list(db.session.scalars(select(AbuseAlert).where(AbuseAlert.letter_id == letter_id)
                                   .order_by(AbuseAlert.at.desc(), AbuseAlert.id.desc())))


def _alert_id(reference: str | None) -> int:
    return int(reference) if reference and reference.isdigit() else 0


def expand_requests(limit: int = 50) -> int:
    """Turn waiting alert requests into one mail per organiser, as milestones' are."""
    def letter_of(reference: str | None) -> int | None:
        alert = db.session.get(AbuseAlert, _alert_id(reference))
        return alert.letter_id if alert else None

    return expand_to_organisers(ABUSE_REQUEST, ABUSE_MAIL, letter_of, limit)


class AbuseMails:
    """The dispatcher's renderer of the organisers' alert mails (create_app())."""

    kinds: tuple[str, ...] = (ABUSE_MAIL,)

    def load(self, session: Session, mails: list[OutboxMail]) -> dict[int, Any]:
        ids = {_alert_id(mail.link_nonce) for mail in mails}
        found = session.scalars(select(AbuseAlert).where(AbuseAlert.id.in_(ids))).all()
        letters = session.scalars(
            select(Letter).where(Letter.id.in_({row.letter_id for row in found}))
            .options(selectinload(Letter.texts))).all()
        by_id = {letter.id: letter for letter in letters}
        return {row.id: (row, by_id[row.letter_id]) for row in found if row.letter_id in by_id}

    def render(self, mail: OutboxMail, session: Session,
               loaded: dict[int, Any]) -> outbox.Content:
        found = loaded.get(_alert_id(mail.link_nonce))
        if found is None:
            raise Obsolete("its alert or letter is gone")
        alert, letter = found
        lang = mail.lang or letter.default_lang
        with force_locale(lang):
            return _render(alert, letter, lang)


ABUSE_MAILS = AbuseMails()


def _render(alert: AbuseAlert, letter: Letter, lang: str) -> outbox.Content:
    base = current_app.config["BASE_URL"]
    title = letter.text_for(lang).title
    subject = gettext("Unusual signing on “%(title)s”", title=title)
    context = dict(lang=lang, title=title, block=alert.kind == RULE_BLOCK, value=alert.value,
                   count=alert.count, threshold=thresholds()[alert.kind],
                   abuse_url=f"{base}/admin/letters/{letter.slug}/abuse")
    return outbox.Content(subject=subject,
                          text=render_template("email/abuse_alert.txt", **context),
                          html=render_template("email/abuse_alert.html", **context))
