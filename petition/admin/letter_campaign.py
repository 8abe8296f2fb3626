"""The campaign block of a letter, one form per language: a back-office page for organisers.

Thin: read the form, call petition.letters.campaign (which checks, writes, logs and bumps the
list version), then redirect with a flash, or show the page again with the reason and 400.
"""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from petition.admin import bp, current_account
from petition.admin.labels import language_name
from petition.letters import campaign
from petition.letters.values import LetterError
from petition.models import Letter


def _render(letter: Letter, *, error: str | None = None, lang: str = "", form=None) -> str:
    """One form per language the letter has a text in; after a refused change, that
    form shows the reason and what was typed."""
    blocks = {text.lang: campaign.own_block(text) for text in letter.texts}
    return render_template("admin/letter_campaign.html", letter=letter, error=error,
                           error_lang=lang, form=form or {}, blocks=blocks)


@bp.route("/letters/<slug>/campaign", methods=["GET", "POST"])
def letter_campaign(slug: str):
    letter: Letter = g.letter
    if request.method == "GET":
        return _render(letter)
    form = request.form
    lang = form.get("lang", "")
    changes: dict[str, str | list[str]] = {
        name: form.get(name, "") for name in campaign.FIELDS if name != "channels"}
    changes["channels"] = form.get("channels", "").splitlines()
    try:
        campaign.set_campaign(letter.slug, lang, changes, actor=current_account().email)
    except LetterError as error:
        return _render(letter, lang=lang, form=form, error=_(
            "Nothing was saved: %(reason)s.", reason=error.translated())), 400
    flash(_("Campaign block saved (%(language)s).", language=language_name(lang)))
    return redirect(url_for("admin.letter_campaign", slug=letter.slug, _anchor=f"campaign-{lang}"),
                    303)
