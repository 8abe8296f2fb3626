"""A drive's moderation in the back office: the queue of letters waiting for review, every
letter by state, one letter's page; approve, return to the writer with a note, reject.

Thin: the rules, the mails and the audit log live in petition/drive/review.py. Every page
here is ORGANISE: it shows the letters' texts and signatures.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from petition.admin import bp, current_account
from petition.admin.drive_common import country_namer, drive_or_404, marked, reason, row_or_404
from petition.drive import overview, review
from petition.drive.values import DriveError
from petition.models import Letter
from petition.models.drive import APPROVED, RETURNED, REVIEW, SENT, Drive, DriveLetter

QUEUE_SIZE = 20  # letters shown at once: each is up to a few pages of text
# What the list of letters may be narrowed to: a state, or one of letters_of's queues.
LIST_FILTERS = ("translation", "ready")


@dataclass(frozen=True)
class Shown:
    """A letter as a moderator reads it: its text with risky passages marked, and how many
    letters came from the same address."""

    row: DriveLetter
    reading: review.Reading
    body: Markup
    translation: Markup | None
    same_address: int


def _shown(rows: list[DriveLetter], letter: Letter) -> list[Shown]:
    same = overview.per_address(letter, rows)
    items = []
    for row in rows:
        seen = review.reading(row)
        items.append(Shown(
            row, seen, marked(seen.body, seen.body_passages),
            marked(seen.translation, seen.translation_passages)
            if seen.translation is not None else None,
            same.get(row.id, 1)))
    return items


def _page_args(letter: Letter, drive: Drive) -> dict:
    return dict(letter=letter, drive=drive, country_name=country_namer(letter),
                REVIEW=REVIEW, APPROVED=APPROVED, RETURNED=RETURNED, SENT=SENT)


@bp.get("/letters/<slug>/drive", endpoint="drive_queue")
def drive_queue(slug: str):
    """Letters waiting for review, oldest first, each with its decisions."""
    letter: Letter = g.letter
    drive = drive_or_404(letter)
    waiting = review.letters_of(letter, REVIEW)
    return render_template("admin/drive_queue.html", items=_shown(waiting[:QUEUE_SIZE], letter),
                           more=max(0, len(waiting) - QUEUE_SIZE),
                           counts=overview.state_counts(letter),
                           to_translate=len(review.letters_of(letter, "translation")),
                           ready=len(review.letters_of(letter, "ready")),
                           **_page_args(letter, drive))


@bp.get("/letters/<slug>/drive/letters", endpoint="drive_letters")
def drive_letters(slug: str):
    """Every letter of the drive, or those of one state, with their public ids."""
    letter: Letter = g.letter
    drive = drive_or_404(letter)
    state = request.args.get("state") or None
    error = None
    try:
        rows = review.letters_of(letter, state)
    except DriveError as refusal:
        rows, error = [], reason(refusal)
    return render_template("admin/drive_letters.html", rows=rows, state=state, error=error,
                           counts=overview.state_counts(letter), filters=LIST_FILTERS,
                           **_page_args(letter, drive)), 400 if error else 200


def letter_page(letter: Letter, row: DriveLetter, *, error: str | None = None,
                note: str = "", reply_text: str = "", status: int = 200):
    """One letter: its text, what is known of it, and what may be done with it now."""
    drive = drive_or_404(letter)
    item = _shown([row], letter)[0]
    return render_template(
        "admin/drive_letter.html", item=item, row=row, error=error, note=note,
        reply_text=reply_text,
        replies=overview.replies_of(row),
        translatable=review.needs_translation(row) and row.status in (REVIEW, APPROVED)
        and row.batch_id is None,
        may_reply=row.status == SENT and row.wants_reply and row.email_encrypted is not None,
        **_page_args(letter, drive)), status


@bp.get("/letters/<slug>/drive/letters/<public_id>", endpoint="drive_letter")
def drive_letter(slug: str, public_id: str):
    letter: Letter = g.letter
    return letter_page(letter, row_or_404(letter, public_id))


def _done(letter: Letter, row: DriveLetter, message: str):
    """Back where the decision was taken: the queue (at the next letter) or the letter."""
    flash(message)
    if request.form.get("back") == "queue":
        return redirect(url_for("admin.drive_queue", slug=letter.slug), 303)
    return redirect(url_for("admin.drive_letter", slug=letter.slug, public_id=row.public_id),
                    303)


@bp.post("/letters/<slug>/drive/letters/<public_id>/approve", endpoint="drive_approve")
def drive_approve(slug: str, public_id: str):
    letter: Letter = g.letter
    row = row_or_404(letter, public_id)
    try:
        review.approve(row.public_id, actor=current_account().email, letter=letter)
    except DriveError as refusal:
        return letter_page(letter, row, error=reason(refusal), status=400)
    return _done(letter, row, _("Letter %(id)s approved.", id=row.public_id))


@bp.post("/letters/<slug>/drive/letters/<public_id>/return", endpoint="drive_return")
def drive_return(slug: str, public_id: str):
    letter: Letter = g.letter
    row = row_or_404(letter, public_id)
    note = request.form.get("note", "")
    try:
        review.return_to_writer(row.public_id, note, actor=current_account().email,
                                letter=letter)
    except DriveError as refusal:
        return letter_page(letter, row, error=reason(refusal), note=note, status=400)
    return _done(letter, row, _("Letter %(id)s returned to its writer with your note.",
                                id=row.public_id))


@bp.post("/letters/<slug>/drive/letters/<public_id>/reject", endpoint="drive_reject")
def drive_reject(slug: str, public_id: str):
    """Rejecting deletes the text: the form must say the moderator knows (a ticked box)."""
    letter: Letter = g.letter
    row = row_or_404(letter, public_id)
    if request.form.get("confirm") not in ("1", "on", "yes"):
        return letter_page(letter, row, status=400, error=_(
            "Tick the box to confirm: rejecting deletes the letter's text for good."))
    try:
        review.reject(row.public_id, actor=current_account().email, letter=letter)
    except DriveError as refusal:
        return letter_page(letter, row, error=reason(refusal), status=400)
    return _done(letter, row, _("Letter %(id)s rejected: its text is deleted and its writer "
                                "told.", id=row.public_id))
