"""A news subscription's one-click link: GET shows the letter and one button, POST ends the
subscription. The POST also answers RFC 8058 one-click unsubscribes, which a mail provider
sends as `List-Unsubscribe=One-Click` with neither a CSRF token nor a cookie: the view is
exempt from CSRFProtect, safely, as the token in the path is itself the secret, and the
POST does nothing but end the subscription the token names."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from petition.extensions import csrf, limiter
from petition.models import Letter
from petition.news import subscriptions
from petition.views.i18n import prefer_content_language
from petition.views.public import current_lang

bp = Blueprint("news", __name__)


def _unsubscribe_limit() -> str:
    return current_app.config["RATELIMIT_NEWS_UNSUBSCRIBE"]


def _problem(error: subscriptions.NewsLinkError):
    gone = isinstance(error, subscriptions.NotSubscribed)
    return render_template("news/gone.html", gone=gone), 404


def _render(template: str, letter: Letter, **context):
    return render_template(template, letter=letter, text=letter.text_for(current_lang()),
                           **context)


@bp.get("/news/unsubscribe/<token>")
def ask(token: str):
    try:
        subscriber = subscriptions.find(token)
    except subscriptions.NewsLinkError as error:
        return _problem(error)
    prefer_content_language(subscriber.lang)
    return _render("news/ask.html", subscriptions.letter_of(subscriber), token=token)


@bp.post("/news/unsubscribe/<token>")
@limiter.limit(_unsubscribe_limit, methods=["POST"])
@csrf.exempt
def unsubscribe(token: str):
    try:
        letter, lang = subscriptions.unsubscribe_link(token)
    except subscriptions.NewsLinkError as error:
        return _problem(error)
    prefer_content_language(lang)
    return _render("news/done.html", letter)
