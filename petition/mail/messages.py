"""The mails petition sends, rendered in the signer's language (text + HTML)."""
from __future__ import annotations

import datetime as dt

from flask import current_app, render_template
from flask_babel import force_locale, gettext as _

from .. import tokens
from ..models import Letter, OutboxMail, Signature
from ..submissions import Link, Submission, listing
from .outbox import enqueue


def confirm_url(link: Link) -> str:
    return f"{current_app.config['BASE_URL']}/confirm/{link.token}"


def withdraw_url(signature: Signature) -> str:
    """The signer's private link to take the signature back, pending or confirmed."""
    return f"{current_app.config['BASE_URL']}/withdraw/{tokens.withdraw_token(signature.public_id)}"


def _letter_url(letter: Letter, lang: str) -> str:
    return f"{current_app.config['BASE_URL']}/letters/{letter.slug}?lang={lang}"


def _render(template: str, lang: str, **context) -> tuple[str, str]:
    with force_locale(lang):
        text = render_template(f"email/{template}.txt", lang=lang, **context)
        html = render_template(f"email/{template}.html", lang=lang, **context)
    return text, html


def queue_confirmation(letter: Letter, link: Link, email: str,
                       not_before: dt.datetime | None = None) -> OutboxMail:
    """The link that confirms exactly this submission, and how it will appear on the list."""
    submission = link.submission
    lang = submission.lang
    title = letter.text_for(lang).title
    hours = current_app.config["CONFIRM_MAX_AGE"] // 3600
    text, html = _render(
        "confirm", lang, name=submission.name, title=title, link=confirm_url(link),
        hours=hours, letter_url=_letter_url(letter, lang),
        listing=listing(submission, letter, lang), withdraw_url=withdraw_url(link.signature),
    )
    with force_locale(lang):
        subject = _("Please confirm your signature: %(title)s", title=title)
    return enqueue(kind="confirm", to=email, subject=subject, text=text, html=html,
                   signature_id=link.signature.id, not_before=not_before)


def queue_already_signed(signature: Signature, letter: Letter, email: str, lang: str,
                         not_before: dt.datetime | None = None) -> OutboxMail:
    title = letter.text_for(lang).title
    text, html = _render(
        "already_signed", lang, signature=signature, title=title,
        letter_url=_letter_url(letter, lang), withdraw_url=withdraw_url(signature),
    )
    with force_locale(lang):
        subject = _("You have already signed: %(title)s", title=title)
    return enqueue(kind="already_signed", to=email, subject=subject, text=text, html=html,
                   signature_id=signature.id, not_before=not_before)


def queue_withdraw_link(signature: Signature, email: str,
                        not_before: dt.datetime | None = None) -> OutboxMail:
    """The withdrawal link of one signature, asked for on the /withdraw form, in its language."""
    letter = signature.letter
    lang = signature.lang
    title = letter.text_for(lang).title
    text, html = _render(
        "withdraw_link", lang, title=title, link=withdraw_url(signature),
        letter_url=_letter_url(letter, lang),
        listing=listing(Submission.of(signature), letter, lang),
    )
    with force_locale(lang):
        subject = _("Your link to withdraw your signature: %(title)s", title=title)
    return enqueue(kind="withdraw_link", to=email, subject=subject, text=text, html=html,
                   signature_id=signature.id, not_before=not_before)
