"""The confirmation link: GET shows one button, only POST confirms (mail scanners GET)."""
from __future__ import annotations

from flask import Blueprint, render_template, url_for

from petition.models import Signature
from petition.signatures import signing
from petition.signatures.submissions import Submission, listing
from petition.views.i18n import prefer_content_language, show_languages_at
from petition.views.public import current_lang

bp = Blueprint("confirm", __name__)


def _render_for(signature: Signature, template: str, submission: Submission | None = None,
                **context) -> str:
    """A page about one submission, in its language unless the reader chose one."""
    submission = submission or Submission.of(signature)
    prefer_content_language(submission.lang)
    lang = current_lang()
    letter = signature.letter
    return render_template(template, signature=signature, letter=letter,
                           text=letter.text_for(lang),
                           listing=listing(submission, letter, lang,
                                           _labels(signature, submission, lang)),
                           **context)


def _labels(signature: Signature, submission: Submission, lang: str) -> dict[str, str] | None:
    """The letter's labels for the submission's country, read with the signature; None
    (listing() reads them all) when a re-submission named another country."""
    if submission.country != signature.country:
        return None
    return {label.code: label.label for label in signature.country_labels if label.lang == lang}


def _problem(error: signing.SigningError, token: str):
    if isinstance(error, signing.LinkExpired):
        return render_template("confirm/expired.html", token=token), 410
    if isinstance(error, signing.AlreadyConfirmed):
        # What the thank-you page showed (a reload of it lands here): how the signature
        # appears, the share links, the way to withdraw.
        return _render_for(error.signature, "confirm/already.html"), 200
    if isinstance(error, signing.LetterClosed):
        return render_template("confirm/closed.html"), 409
    return render_template("confirm/invalid.html"), 404


@bp.get("/confirm/<token>")
def ask(token: str):
    try:
        link = signing.find_link(token)
    except signing.SigningError as error:
        return _problem(error, token)
    submission = link.submission
    return _render_for(link.signature, "confirm/ask.html", submission, token=token,
                       news=submission.news)


@bp.post("/confirm/<token>")
def confirm(token: str):
    try:
        signature = signing.confirm(token)
    except signing.SigningError as error:
        return _problem(error, token)
    return _render_for(signature, "confirm/done.html")


@bp.post("/confirm/<token>/resend")
def resend(token: str):
    show_languages_at(url_for("confirm.ask", token=token))  # this address takes POST only
    try:
        signing.resend_confirmation(token)
    except signing.SigningError as error:
        return _problem(error, token)
    # Same answer whatever happened: the address's owner reads the outcome in the mailbox.
    return render_template("confirm/resent.html")
