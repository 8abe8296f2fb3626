"""A drive's translation queue: the letters not in the delivery language, each with its
original text, its signature and its language, and the translation to write beside it.

The only letter pages a translator may open (TRANSLATE): they show nothing else of a
letter (no address, no country, no state, no other account's name), and only letters that
may still be translated. Organisers see the same pages, plus who translated what, and
mark a translation reviewed (ORGANISE). The rules and the audit log are in
petition/drive/review.py.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from petition.accounts import operations as accounts
from petition.admin import bp, current_account
from petition.admin.drive_common import drive_or_404, marked, reason, row_or_404
from petition.drive import overview, review
from petition.drive.values import DriveError
from petition.models import Letter
from petition.models.drive import APPROVED, REVIEW, SENT, DriveLetter


def _organiser(letter: Letter) -> bool:
    account = current_account()
    return accounts.can_edit(account) and accounts.can_see_letter(account, letter)


def _translatable(row: DriveLetter) -> bool:
    """What review.translate accepts: in review or approved, in no batch, not in the
    delivery language."""
    return (row.status in (REVIEW, APPROVED) and row.batch_id is None
            and review.needs_translation(row))


@bp.get("/letters/<slug>/drive/translations", endpoint="drive_translations")
def drive_translations(slug: str):
    letter: Letter = g.letter
    drive = drive_or_404(letter)
    organiser = _organiser(letter)
    translated = overview.translated(letter)
    if not organiser:
        # A translator: what it may still change, nothing already sent or in a batch.
        translated = [row for row in translated if _translatable(row)]
    return render_template("admin/drive_translations.html", letter=letter, drive=drive,
                           waiting=review.letters_of(letter, "translation"),
                           translated=translated, organiser=organiser,
                           me=current_account().email)


def _page(letter: Letter, row: DriveLetter, *, error: str | None = None,
          text: str | None = None, status: int = 200):
    drive = drive_or_404(letter)
    seen = review.reading(row)
    return render_template(
        "admin/drive_translation.html", letter=letter, drive=drive, row=row,
        name=seen.name, original=marked(seen.body, seen.body_passages),
        translation=(marked(seen.translation, seen.translation_passages)
                     if seen.translation is not None else None),
        risky=len(seen.translation_passages),
        text=text if text is not None else (seen.translation or ""),
        editable=_translatable(row), organiser=_organiser(letter),
        me=current_account().email, error=error), status


@bp.route("/letters/<slug>/drive/translations/<public_id>", methods=["GET", "POST"],
          endpoint="drive_translation")
def drive_translation(slug: str, public_id: str):
    letter: Letter = g.letter
    row = row_or_404(letter, public_id)
    organiser = _organiser(letter)
    visible = _translatable(row) or (
        organiser and review.needs_translation(row) and row.status in (REVIEW, APPROVED, SENT))
    if not visible:
        abort(404)  # a translator learns nothing of letters it has no work on
    if request.method == "GET":
        return _page(letter, row)
    text = request.form.get("translation", "")
    try:
        review.translate(row.public_id, text, actor=current_account().email, letter=letter)
    except DriveError as refusal:
        return _page(letter, row, error=reason(refusal), text=text, status=400)
    flash(_("Translation of letter %(id)s saved.", id=row.public_id))
    return redirect(url_for("admin.drive_translation", slug=letter.slug,
                            public_id=row.public_id), 303)


@bp.post("/letters/<slug>/drive/translations/<public_id>/reviewed",
         endpoint="drive_translation_reviewed")
def drive_translation_reviewed(slug: str, public_id: str):
    letter: Letter = g.letter
    row = row_or_404(letter, public_id)
    try:
        review.review_translation(row.public_id, actor=current_account().email, letter=letter)
    except DriveError as refusal:
        return _page(letter, row, error=reason(refusal), status=400)
    flash(_("Translation of letter %(id)s marked reviewed.", id=row.public_id))
    return redirect(url_for("admin.drive_translation", slug=letter.slug,
                            public_id=row.public_id), 303)
