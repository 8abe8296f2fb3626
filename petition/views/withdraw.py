"""Withdrawal: the private link (GET shows what goes, only POST deletes; mail scanners GET)
and the form that mails a new link to the address a signer used."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from petition.extensions import limiter
from petition.letters.operations import get_letter
from petition.models import Signature
from petition.signatures import withdrawal
from petition.signatures.submissions import Submission, listing
from petition.views.forms import WithdrawLinkForm
from petition.views.i18n import prefer_content_language
from petition.views.public import current_lang

bp = Blueprint("withdraw", __name__)


def _withdraw_limit() -> str:
    return current_app.config["RATELIMIT_WITHDRAW"]


@bp.route("/withdraw", methods=["GET", "POST"])
@limiter.limit(_withdraw_limit, methods=["POST"])
def request_link():
    form = WithdrawLinkForm()
    if request.method == "GET":
        return render_template("withdraw/request.html", form=form)
    if not form.validate():
        return render_template("withdraw/request.html", form=form), 400
    if not form.is_bot:
        withdrawal.request_links(form.email.data, current_lang())
    # Same page and the same work whatever the address's history (or a bot's): the mail
    # worker looks the address up and answers with one mail either way, in this page's
    # language. No way to learn who signed.
    return render_template("withdraw/sent.html",
                           per_hour=current_app.config["MAIL_PER_ADDRESS_PER_HOUR"])


def _problem(error: withdrawal.WithdrawalError):
    gone = isinstance(error, withdrawal.SignatureGone)
    return render_template("withdraw/gone.html", gone=gone), 404


def _page(signature: Signature, token: str):
    """What the button removes, exactly as it appears, in the signer's language by default."""
    submission = Submission.of(signature)
    prefer_content_language(submission.lang)
    lang = current_lang()
    letter = signature.letter
    return render_template("withdraw/ask.html", signature=signature, letter=letter,
                           text=letter.text_for(lang), listing=listing(submission, letter, lang),
                           token=token, news=withdrawal.has_news(signature))


@bp.get("/withdraw/<token>")
def ask(token: str):
    try:
        signature = withdrawal.find(token)
    except withdrawal.WithdrawalError as error:
        return _problem(error)
    return _page(signature, token)


@bp.post("/withdraw/<token>")
def withdraw(token: str):
    # The box "also stop the news" is sent only when ticked; `news_choice` says the page
    # showed it. A page that did not (no subscription then) ends one made since: the default.
    end_news = "news_choice" not in request.form or request.form.get("stop_news") == "y"
    try:
        done = withdrawal.withdraw(token, end_news=end_news)
    except withdrawal.WithdrawalError as error:
        return _problem(error)
    prefer_content_language(done.lang)
    letter = get_letter(done.letter_slug)
    return render_template("withdraw/done.html", letter=letter,
                           text=letter.text_for(current_lang()), done=done)
