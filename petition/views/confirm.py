"""The confirmation link: GET shows one button, only POST confirms (mail scanners GET)."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from .. import countries, signing
from ..i18n import prefer_content_language
from .public import current_lang

bp = Blueprint("confirm", __name__)


def _problem(error: signing.SigningError, token: str):
    lang = current_lang()
    if isinstance(error, signing.LinkExpired):
        return render_template("confirm/expired.html", token=token), 410
    if isinstance(error, signing.AlreadyConfirmed):
        prefer_content_language(error.signature.lang)
        lang = current_lang()
        letter = error.signature.letter
        return render_template("confirm/already.html", letter=letter,
                               text=letter.text_for(lang)), 200
    if isinstance(error, signing.LetterClosed):
        return render_template("confirm/closed.html"), 409
    return render_template("confirm/invalid.html"), 404


@bp.get("/confirm/<token>")
def ask(token: str):
    try:
        signature = signing.signature_for_link(token)
    except signing.SigningError as error:
        return _problem(error, token)
    prefer_content_language(signature.lang)
    lang = current_lang()
    letter = signature.letter
    country = countries.display_name(signature.country, lang, letter.labels_for(lang))
    return render_template("confirm/ask.html", token=token, signature=signature,
                           letter=letter, text=letter.text_for(lang), country=country)


@bp.post("/confirm/<token>")
def confirm(token: str):
    try:
        signature = signing.confirm(token)
    except signing.SigningError as error:
        return _problem(error, token)
    prefer_content_language(signature.lang)
    lang = current_lang()
    letter = signature.letter
    return render_template("confirm/done.html", signature=signature, letter=letter,
                           text=letter.text_for(lang))


@bp.post("/confirm/<token>/resend")
def resend(token: str):
    try:
        signing.signature_for_link(token)
    except signing.LinkExpired as expired:
        signing.resend_confirmation(expired.signature_id)
    except signing.SigningError as error:
        return _problem(error, token)
    # Same answer whatever happened: the address's owner reads the outcome in the mailbox.
    return render_template("confirm/resent.html")
