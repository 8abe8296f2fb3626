"""A drive's own settings in the back office: the recipient's name and postal address, the
delivery language, the length limit, the currency of the costs and whether the page shows
them; and per language, the guidance beside the form and the words censors refuse.

Thin: petition/drive/settings.py checks, writes and logs. The letter's own settings (goal,
deadline, texts, open and close) stay on the letter's edit page.
"""
from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from petition.admin import bp, current_account
from petition.admin.drive_common import drive_or_404, reason
from petition.admin.labels import language_name
from petition.admin.letter_edit import language_choices
from petition.drive import overview, settings
from petition.drive.values import DriveError
from petition.extensions import db
from petition.letters.values import LetterError
from petition.models import Letter


def _body_max(value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise DriveError("The length limit is a whole number of characters.") from None


def _page(letter: Letter, *, error: str | None = None, section: str | None = None,
          form=None, status: int = 200):
    """The settings page; after a refused change, that section shows the reason and what
    was typed, the others what is stored."""
    drive = drive_or_404(letter)
    stored = overview.guidance_rows(letter)
    # Every language the drive speaks or delivers in, and any with guidance already.
    langs = list(dict.fromkeys((*letter.languages, drive.delivery_lang,
                                *current_app.config["LANGUAGES"], *stored)))
    return render_template("admin/drive_settings.html", letter=letter, drive=drive,
                           guidance=stored, langs=langs, error=error, section=section,
                           form=form if form is not None else {},
                           languages=language_choices()), status


@bp.route("/letters/<slug>/drive/settings", methods=["GET", "POST"], endpoint="drive_settings")
def drive_settings(slug: str):
    letter: Letter = g.letter
    drive_or_404(letter)
    if request.method == "GET":
        return _page(letter)
    form = request.form
    try:
        settings.update_drive(
            letter.slug, actor=current_account().email,
            recipient_name=form.get("recipient_name", ""),
            recipient_address=form.get("recipient_address", ""),
            delivery_lang=form.get("delivery_lang", ""),
            body_max=_body_max(form.get("body_max", "")),
            currency=form.get("currency", ""),
            show_costs=form.get("show_costs") in ("1", "on", "yes"))
    except LetterError as refusal:  # DriveError, or a language check's LetterError
        db.session.rollback()  # a setting checked before the refused one is not kept
        return _page(letter, error=reason(refusal), section="settings", form=form, status=400)
    flash(_("Drive settings saved."))
    return redirect(url_for("admin.drive_settings", slug=letter.slug), 303)


@bp.post("/letters/<slug>/drive/guidance", endpoint="drive_guidance")
def drive_guidance(slug: str):
    """The guidance and risky words of one language (the form's `lang`)."""
    letter: Letter = g.letter
    drive_or_404(letter)
    form = request.form
    lang = form.get("lang", "")
    try:
        row = settings.set_guidance(letter.slug, lang, guidance=form.get("guidance", ""),
                                    risky_words=form.get("risky_words", ""),
                                    actor=current_account().email)
    except LetterError as refusal:
        db.session.rollback()  # the new language's row is not kept
        return _page(letter, error=reason(refusal), section=f"guidance-{lang}", form=form,
                     status=400)
    flash(_("Guidance in %(lang)s saved.", lang=language_name(row.lang)))
    return redirect(url_for("admin.drive_settings", slug=letter.slug,
                            _anchor=f"guidance-{row.lang}"), 303)
