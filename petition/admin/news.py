"""A letter's news in the back office: write an update per language, preview it, send a
test to oneself, then send it to every subscriber behind a confirmation step.

Thin: read request.form, call petition.news.updates (which checks, writes, queues and logs),
then redirect with a flash, or show the page again with the reason and status 400.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from petition.admin import bp, current_account
from petition.models import Letter
from petition.models.news import NEWS_DRAFT, NewsUpdate
from petition.news import subscriptions, updates
from petition.news.updates import NewsError, NewsNotFound, Text


@bp.context_processor
def _news_section() -> dict:
    # The letter page's news section reads its figures itself: subscribers counted, updates.
    return {"news_overview": updates.overview}


def _typed(letter: Letter) -> dict[str, Text]:
    """The editor's columns as typed, one per language of the letter."""
    return {lang: Text(request.form.get(f"subject-{lang}", ""),
                       request.form.get(f"body-{lang}", "")) for lang in letter.languages}


def _update(letter: Letter, public_id: str) -> NewsUpdate:
    try:
        return updates.get_update(letter, public_id)
    except NewsNotFound:
        abort(404)


def _editor(letter: Letter, news: NewsUpdate | None, texts: dict[str, Text], *,
            error: str | None = None, previews: list | None = None) -> str:
    languages = sorted(letter.languages, key=lambda lang: (lang != letter.default_lang, lang))
    return render_template(
        "admin/news_edit.html", letter=letter, news=news, texts=texts, error=error,
        languages=languages, previews={item.lang: item for item in previews or []},
        subscribers=subscriptions.count(letter.id),
        body_max=updates.BODY_MAX, subject_max=updates.SUBJECT_MAX)


def _refused(error: NewsError) -> str:
    return _("Nothing was saved: %(reason)s.", reason=error.translated())


@bp.route("/letters/<slug>/news/new", methods=["GET", "POST"])
def news_new(slug: str):
    letter: Letter = g.letter
    if request.method == "GET":
        return _editor(letter, None, {})
    texts = _typed(letter)
    if request.form.get("action") == "preview":
        return _preview(letter, None, texts)
    try:
        news = updates.create_update(letter.slug, texts, actor=current_account().email)
    except NewsError as error:
        return _editor(letter, None, texts, error=_refused(error)), 400
    flash(_("Update saved as a draft: preview it, send a test to yourself, then send it."))
    return redirect(url_for("admin.news_update", slug=letter.slug, public_id=news.public_id),
                    303)


def _preview(letter: Letter, news: NewsUpdate | None, texts: dict[str, Text]):
    try:
        previews = updates.preview(letter, texts)
    except NewsError as error:
        return _editor(letter, news, texts, error=_("No preview: %(reason)s.",
                                                    reason=error.translated())), 400
    return _editor(letter, news, texts, previews=previews)


@bp.route("/letters/<slug>/news/<public_id>", methods=["GET", "POST"])
def news_update(slug: str, public_id: str):
    letter: Letter = g.letter
    news = _update(letter, public_id)
    if news.status != NEWS_DRAFT:
        return render_template("admin/news_sent.html", letter=letter, news=news,
                               figures=updates.figures([news.id])[news.id],
                               previews=updates.rendered(letter, news))
    if request.method == "GET":
        return _editor(letter, news, updates.texts_of(news))
    texts = _typed(letter)
    if request.form.get("action") == "preview":
        return _preview(letter, news, texts)
    try:
        updates.edit_update(letter.slug, news.public_id, texts, actor=current_account().email)
    except NewsError as error:
        return _editor(letter, news, texts, error=_refused(error)), 400
    flash(_("Draft saved."))
    return redirect(url_for("admin.news_update", slug=letter.slug, public_id=news.public_id),
                    303)


@bp.route("/letters/<slug>/news/<public_id>/test", methods=["POST"])
def news_test(slug: str, public_id: str):
    letter: Letter = g.letter
    news = _update(letter, public_id)
    account = current_account()
    try:
        count = updates.send_test(letter.slug, updates.texts_of(news), account.email,
                                  actor=account.email, update_id=news.public_id)
    except NewsError as error:
        flash(_("No test was sent: %(reason)s.", reason=error.translated()))
    else:
        flash(ngettext("A test of each language (%(num)s mail) is on its way to %(address)s.",
                       "A test of each language (%(num)s mails) is on its way to %(address)s.",
                       count, address=account.email))
    return redirect(url_for("admin.news_update", slug=letter.slug, public_id=news.public_id),
                    303)


@bp.route("/letters/<slug>/news/<public_id>/send", methods=["GET", "POST"])
def news_send(slug: str, public_id: str):
    """GET: what will go, to how many, and the one button; POST: send."""
    letter: Letter = g.letter
    news = _update(letter, public_id)
    if news.status != NEWS_DRAFT:
        flash(_("This update was already sent."))
        return redirect(url_for("admin.news_update", slug=letter.slug,
                                public_id=news.public_id), 303)
    try:
        if request.method == "GET":
            return render_template(
                "admin/news_send.html", letter=letter, news=news,
                subscribers=subscriptions.count(letter.id),
                per_minute=updates.mails_per_minute(),
                previews=updates.rendered(letter, news))
        sent = updates.send(letter.slug, news.public_id, actor=current_account().email)
    except NewsError as error:
        flash(_("Nothing was sent: %(reason)s.", reason=error.translated()))
        return redirect(url_for("admin.news_update", slug=letter.slug,
                                public_id=news.public_id), 303)
    flash(ngettext("Sending to %(num)s subscriber, %(rate)s mails a minute: the figures below "
                   "follow the delivery.",
                   "Sending to %(num)s subscribers, %(rate)s mails a minute: the figures below "
                   "follow the delivery.", sent.recipients, rate=sent.per_minute))
    return redirect(url_for("admin.news_update", slug=letter.slug, public_id=news.public_id),
                    303)

