"""A news update as each subscriber receives it, rendered when it is delivered.

A queued news mail names its update and its subscriber and nothing readable: no address, no
body. At delivery the renderer reads the subscriber's address (decrypted for that mail
only), picks the update's text in the subscriber's language (else the letter's own, else
any), and adds the campaign block, a footer with the one-click unsubscribe link and the
List-Unsubscribe / List-Unsubscribe-Post headers (RFC 8058), so a mail program's own
"unsubscribe" button works too. A mail whose subscriber is gone (unsubscribed, erased: the
row's link was set NULL) is dropped, never sent.

A test mail is rendered by the same code when it is queued (it goes to the organiser's own
address, so nothing private is stored) and marked "[Test]".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.fernet import InvalidToken
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from petition.letters.campaign import block_for
from petition.mail import outbox
from petition.mail.errors import MailRejected
from petition.mail.outbox import Obsolete
from petition.models import Letter, OutboxMail
from petition.models.news import NewsSubscriber, NewsUpdate
from petition.news.subscriptions import email_of, unsubscribe_url

# An update to one subscriber (counted in the update's figures), and a test of one language
# to an organiser (not counted).
NEWS, NEWS_TEST = "news", "news_test"
ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass(frozen=True)
class Rendered:
    """One language of an update as its mail reads: the subject, the text part, and the
    HTML part's inside (the back office's preview shows it in its page)."""

    lang: str
    subject: str
    text: str
    html_body: Markup

    def html(self) -> str:
        return render_template("email/news.html", lang=self.lang, body=self.html_body)


def render_text(letter: Letter, lang: str, subject: str, body: str, unsubscribe: str | None,
                *, test: bool = False) -> Rendered:
    """One language's text as its mail reads, the mail's own words in `lang`.

    `unsubscribe`: the subscriber's link; None for a preview or a test, which say where the
    link will be instead of carrying one that would unsubscribe nobody."""
    with force_locale(lang):
        context: dict[str, Any] = {
            "lang": lang, "subject": subject, "body": body, "unsubscribe_url": unsubscribe,
            "title": letter.text_for(lang).title, "campaign": block_for(letter, lang),
            "letter_url": f"{current_app.config['BASE_URL']}/letters/{letter.slug}?lang={lang}",
        }
        text = render_template("email/news.txt", **context)
        html_body = Markup(render_template("email/_news.html", **context))
        shown = _("[Test] %(subject)s", subject=subject) if test else subject
    return Rendered(lang=lang, subject=shown, text=text, html_body=html_body)


def content(rendered: Rendered, *, to: str | None = None,
            unsubscribe: str | None = None) -> outbox.Content:
    headers: tuple[tuple[str, str], ...] = ()
    if unsubscribe:
        # RFC 8058: the URL in angle brackets, and the one-click POST it accepts.
        headers = (("List-Unsubscribe", f"<{unsubscribe}>"),
                   ("List-Unsubscribe-Post", ONE_CLICK))
    return outbox.Content(subject=rendered.subject, text=rendered.text, html=rendered.html(),
                          to=to, headers=headers)


@dataclass(frozen=True)
class Loaded:
    updates: dict[int, NewsUpdate]
    letters: dict[int, Letter]  # by id: their texts give the title and campaign block
    subscribers: dict[int, NewsSubscriber]


class NewsMails:
    """The dispatcher's renderer of news mails (registered in create_app())."""

    kinds: tuple[str, ...] = (NEWS,)

    def load(self, session: Session, mails: list[OutboxMail]) -> Loaded:
        """The updates (with their texts and letters' texts) and subscribers of a batch, in
        a few queries for the whole batch."""
        update_ids = {m.news_update_id for m in mails if m.news_update_id is not None}
        subscriber_ids = {m.news_subscriber_id for m in mails if m.news_subscriber_id is not None}
        updates = session.scalars(
            select(NewsUpdate).where(NewsUpdate.id.in_(update_ids)).options(
                selectinload(NewsUpdate.texts))
            .execution_options(populate_existing=True)).all() if update_ids else []
        letters = {letter.id: letter for letter in session.scalars(
            select(Letter).where(Letter.id.in_({u.letter_id for u in updates}))
            .options(selectinload(Letter.texts)))} if updates else {}
        subscribers = session.scalars(
            select(NewsSubscriber).where(NewsSubscriber.id.in_(subscriber_ids))
            .execution_options(populate_existing=True)).all() if subscriber_ids else []
        return Loaded({u.id: u for u in updates}, letters, {s.id: s for s in subscribers})

    def render(self, mail: OutboxMail, session: Session, loaded: Loaded) -> outbox.Content:
        subscriber = (loaded.subscribers.get(mail.news_subscriber_id)
                      if mail.news_subscriber_id is not None else None)
        if subscriber is None:
            raise Obsolete("its subscriber unsubscribed (or was erased)")
        update = loaded.updates.get(mail.news_update_id) if mail.news_update_id else None
        if update is None:
            raise Obsolete("its update is gone")
        letter = loaded.letters[update.letter_id]
        text = update.text_for(subscriber.lang, letter.default_lang)
        if text is None:
            raise Obsolete("its update has no text")
        try:
            to = email_of(subscriber)
        except InvalidToken as error:
            raise MailRejected("cannot decrypt the recipient: was EMAIL_KEY changed?") from error
        link = unsubscribe_url(subscriber)
        rendered = render_text(letter, text.lang, text.subject, text.body, link)
        return content(rendered, to=to, unsubscribe=link)


NEWS_MAILS = NewsMails()
