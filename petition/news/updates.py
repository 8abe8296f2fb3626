"""News updates: written per language, previewed, tested, then sent once through the outbox.

Plain values in, NewsError out. Sending marks the update sent and queues one mail per
subscriber in one transaction, so an update goes to everyone or to no one, and never twice
(a second send, even a concurrent one, finds it already sent). The mails hold no address
and no body (news/mails.py renders them at delivery) and are spaced by
NEWS_MAILS_PER_MINUTE: the worker sends them at that rate, and a confirmation mail, due at
once, goes out between two of them. Every test and send is in the audit log.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, func, insert, select, update
from sqlalchemy.orm import selectinload

from petition.accounts import audit
from petition.addresses import canonical_email
from petition.extensions import db
from petition.letters.operations import get_letter
from petition.letters.values import LetterError
from petition.mail import outbox
from petition.models import (
    MAIL_DROPPED,
    MAIL_FAILED,
    MAIL_QUEUED,
    MAIL_SENDING,
    MAIL_SENT,
    Letter,
    OutboxMail,
    utcnow,
)
from petition.models.news import NEWS_DRAFT, NEWS_SENT, NewsSubscriber, NewsUpdate, NewsUpdateText
from petition.names import has_hidden_controls, plain_text_problem
from petition.news import mails, subscriptions

SUBJECT_MAX = 300  # news_update_text.subject
BODY_MAX = 20_000  # characters of Markdown: a long update, never a book


class NewsError(LetterError):
    """A news operation was refused; the message says why (an English template, translated
    on a page by translated(), as LetterError's)."""


class NewsNotFound(NewsError):
    """No update by that id on that letter."""


@dataclass(frozen=True)
class Text:
    """One language of an update, as typed."""

    subject: str
    body: str


def check_texts(letter: Letter, texts: Mapping[str, Text]) -> dict[str, Text]:
    """The texts cleaned (subject on one line, trimmed; body trimmed), one per language of
    the letter; a language left empty (subject and body) is skipped. NewsError names the
    first problem."""
    checked: dict[str, Text] = {}
    for lang, typed in texts.items():
        subject, body = " ".join(typed.subject.split()), typed.body.strip()
        if not subject and not body:
            continue
        if lang not in letter.languages:
            raise NewsError("the letter has no text in %(lang)s: news go out in the "
                            "letter's languages (%(languages)s)", lang=lang,
                            languages=", ".join(letter.languages))
        if not subject:
            raise NewsError("the subject in %(lang)s is missing", lang=lang)
        if not body:
            raise NewsError("the text in %(lang)s is missing", lang=lang)
        if len(subject) > SUBJECT_MAX:
            raise NewsError("the subject in %(lang)s is longer than %(limit)s characters",
                            lang=lang, limit=SUBJECT_MAX)
        if len(body) > BODY_MAX:
            raise NewsError("the text in %(lang)s is longer than %(limit)s characters",
                            lang=lang, limit=BODY_MAX)
        if plain_text_problem(subject) or has_hidden_controls(body.replace("\n", "")
                                                                .replace("\r", "")
                                                                .replace("\t", "")):
            raise NewsError("the text in %(lang)s holds control characters", lang=lang)
        checked[lang] = Text(subject, body.replace("\r\n", "\n"))
    if not checked:
        raise NewsError("write the update in at least one language")
    if letter.default_lang not in checked:
        # Subscribers whose language the update lacks get the letter's own.
        raise NewsError("write the update at least in the letter's own language (%(lang)s)",
                        lang=letter.default_lang)
    return checked


def create_update(slug: str, texts: Mapping[str, Text], actor: str,
                  commit: bool = True) -> NewsUpdate:
    """A draft update of the letter, written in `texts` (checked)."""
    letter = get_letter(slug)
    checked = check_texts(letter, texts)
    news = NewsUpdate(letter_id=letter.id, status=NEWS_DRAFT, created_by=actor[:254])
    news.texts = [NewsUpdateText(lang=lang, subject=text.subject, body=text.body)
                  for lang, text in checked.items()]
    db.session.add(news)
    db.session.flush()
    audit.record(actor, "news.draft", letter_slug=letter.slug,
                 detail=f"update {news.public_id}: {', '.join(checked)}", commit=False)
    if commit:
        db.session.commit()
    return news


def edit_update(slug: str, public_id: str, texts: Mapping[str, Text], actor: str) -> NewsUpdate:
    """Replace a draft's texts; a sent update stays as it went."""
    letter = get_letter(slug)
    news = get_update(letter, public_id)
    if news.status != NEWS_DRAFT:
        raise NewsError("this update was already sent: it cannot be changed")
    checked = check_texts(letter, texts)
    by_lang = {text.lang: text for text in news.texts}
    for lang in set(by_lang) - set(checked):
        news.texts.remove(by_lang[lang])
    for lang, text in checked.items():
        row = by_lang.get(lang)
        if row is None:
            news.texts.append(NewsUpdateText(lang=lang, subject=text.subject, body=text.body))
        else:
            row.subject, row.body = text.subject, text.body
    audit.record(actor, "news.draft", letter_slug=letter.slug,
                 detail=f"update {news.public_id} changed: {', '.join(checked)}", commit=False)
    db.session.commit()
    return news


def get_update(letter: Letter, public_id: str) -> NewsUpdate:
    news = db.session.scalar(select(NewsUpdate).where(
        NewsUpdate.letter_id == letter.id, NewsUpdate.public_id == public_id[:32])
        .options(selectinload(NewsUpdate.texts)))
    if news is None:
        raise NewsNotFound("no update %(id)s on this letter", id=public_id[:32])
    return news


def updates_of(letter: Letter) -> list[NewsUpdate]:
    """The letter's updates, newest first."""
    return list(db.session.scalars(
        select(NewsUpdate).where(NewsUpdate.letter_id == letter.id)
        .options(selectinload(NewsUpdate.texts))
        .order_by(NewsUpdate.created_at.desc(), NewsUpdate.id.desc())))


def texts_of(news: NewsUpdate) -> dict[str, Text]:
    return {text.lang: Text(text.subject, text.body) for text in news.texts}


def preview(letter: Letter, texts: Mapping[str, Text]) -> list[mails.Rendered]:
    """Each language's mail as a subscriber will read it (checked first), the letter's own
    language first; the unsubscribe link is each subscriber's own, so it is described."""
    checked = check_texts(letter, texts)
    return [mails.render_text(letter, lang, checked[lang].subject, checked[lang].body, None)
            for lang in _ordered(letter, checked)]


def rendered(letter: Letter, news: NewsUpdate) -> list[mails.Rendered]:
    """An update's stored texts as their mails read, the letter's own language first (no
    checks: a sent update is shown as it went)."""
    by_lang = texts_of(news)
    return [mails.render_text(letter, lang, by_lang[lang].subject, by_lang[lang].body, None)
            for lang in _ordered(letter, by_lang)]


def send_test(slug: str, texts: Mapping[str, Text], to: str, actor: str,
              update_id: str | None = None) -> int:
    """Queue one test mail per language to `to` (the organiser's own address), subject
    marked "[Test]"; not counted among the update's deliveries. How many were queued.

    Rendered now and stored with the row, unlike a subscriber's mail: it goes to the one
    asking, and the body goes from the row once sent."""
    letter = get_letter(slug)
    try:
        address = canonical_email(to)
    except ValueError as error:  # email-validator's EmailNotValidError is one
        raise NewsError("%(address)s is not a mail address", address=to[:254]) from error
    row_id = get_update(letter, update_id).id if update_id else None
    checked = check_texts(letter, texts)
    for lang in _ordered(letter, checked):
        made = mails.render_text(letter, lang, checked[lang].subject, checked[lang].body,
                                 None, test=True)
        queued = outbox.enqueue(kind=mails.NEWS_TEST, to=address, subject=made.subject,
                                text=made.text, html=made.html(), lang=lang)
        queued.news_update_id = row_id
    audit.record(actor, "news.test", letter_slug=letter.slug, commit=False,
                 detail=(f"update {update_id or '(not saved)'}: {len(checked)} test mail(s) "
                         f"({', '.join(_ordered(letter, checked))}) to one address"))
    db.session.commit()
    return len(checked)


def _ordered(letter: Letter, texts: Mapping[str, Text]) -> list[str]:
    """The languages of `texts`, the letter's own first."""
    return sorted(texts, key=lambda lang: (lang != letter.default_lang, lang))


@dataclass(frozen=True)
class Sent:
    """What a send queued: how many mails, at what rate, the last one due when."""

    public_id: str
    recipients: int
    per_minute: int
    last_due: dt.datetime


def mails_per_minute() -> int:
    rate = int(current_app.config["NEWS_MAILS_PER_MINUTE"])
    if rate < 1:
        raise NewsError("NEWS_MAILS_PER_MINUTE must be a whole number above 0")
    return rate


def send(slug: str, public_id: str, actor: str) -> Sent:
    """Send a draft to every subscriber of its letter, once: one transaction marks it sent
    and queues the mails (spaced by NEWS_MAILS_PER_MINUTE); NewsError when it was already
    sent or nobody subscribed."""
    letter = get_letter(slug)
    news = get_update(letter, public_id)
    result = _send(letter, news, actor)
    db.session.commit()
    return result


def create_and_send(slug: str, texts: Mapping[str, Text], actor: str) -> Sent:
    """create_update() and send() in one transaction: nothing is written if either refuses."""
    try:
        news = create_update(slug, texts, actor, commit=False)
        result = _send(get_letter(slug), news, actor)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def _send(letter: Letter, news: NewsUpdate, actor: str) -> Sent:
    rate = mails_per_minute()
    if news.status != NEWS_DRAFT:
        raise NewsError("this update was already sent on %(when)s",
                        when=f"{news.sent_at:%Y-%m-%d %H:%M} UTC" if news.sent_at else "?")
    subscribers = db.session.execute(
        select(NewsSubscriber.id, NewsSubscriber.lang)
        .where(NewsSubscriber.letter_id == letter.id).order_by(NewsSubscriber.id)).all()
    if not subscribers:
        raise NewsError("nobody has subscribed to this letter's news yet: nothing was sent")
    now = utcnow()
    # Conditional: of two sends racing, one changes the row and the other finds it sent.
    marked = cast(CursorResult[Any], db.session.execute(
        update(NewsUpdate).where(NewsUpdate.id == news.id, NewsUpdate.status == NEWS_DRAFT)
        .values(status=NEWS_SENT, sent_by=actor[:254], sent_at=now,
                recipients=len(subscribers))
        .execution_options(synchronize_session=False)))
    if marked.rowcount != 1:
        db.session.rollback()
        raise NewsError("this update was already sent")
    spacing = dt.timedelta(seconds=60 / rate)
    rows = [{"kind": mails.NEWS, "subject": "", "lang": lang, "status": MAIL_QUEUED,
             "attempts": 0, "next_attempt_at": now + index * spacing, "created_at": now,
             "news_update_id": news.id, "news_subscriber_id": subscriber_id}
            for index, (subscriber_id, lang) in enumerate(subscribers)]
    db.session.execute(insert(OutboxMail), rows)
    db.session.info[outbox.ENQUEUED_FLAG] = True  # wake the in-process worker
    audit.record(actor, "news.send", letter_slug=letter.slug, commit=False,
                 detail=f"update {news.public_id}: {len(rows)} mail(s) queued, "
                        f"{rate} a minute")
    db.session.expire(news)
    return Sent(news.public_id, len(rows), rate, rows[-1]["next_attempt_at"])


@dataclass(frozen=True)
class Figures:
    """An update's deliveries, from the outbox rows that name it (tests not counted)."""

    queued: int = 0  # waiting or being sent
    sent: int = 0
    failed: int = 0
    dropped: int = 0  # unsubscribed before their mail went


def figures(update_ids: list[int]) -> dict[int, Figures]:
    """Delivery figures per update id, in one query."""
    if not update_ids:
        return {}
    rows = db.session.execute(
        select(OutboxMail.news_update_id, OutboxMail.status, func.count())
        .where(OutboxMail.news_update_id.in_(update_ids), OutboxMail.kind == mails.NEWS)
        .group_by(OutboxMail.news_update_id, OutboxMail.status)).all()
    counts: dict[int, dict[str, int]] = {update_id: {} for update_id in update_ids}
    for update_id, status, number in rows:
        counts[update_id][status] = number
    return {update_id: Figures(
        queued=found.get(MAIL_QUEUED, 0) + found.get(MAIL_SENDING, 0),
        sent=found.get(MAIL_SENT, 0), failed=found.get(MAIL_FAILED, 0),
        dropped=found.get(MAIL_DROPPED, 0)) for update_id, found in counts.items()}


@dataclass(frozen=True)
class Overview:
    """The letter page's news section: subscribers counted, never listed; the updates."""

    subscribers: int
    updates: list[tuple[NewsUpdate, Figures]]


def overview(letter: Letter) -> Overview:
    found = updates_of(letter)
    by_id = figures([news.id for news in found])
    return Overview(subscriptions.count(letter.id), [(news, by_id[news.id]) for news in found])

