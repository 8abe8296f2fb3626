"""The links a writer receives by mail: the one that confirms a letter (what will be sent,
what a censor may stop, editing first; only POST confirms), and the private page (the
letter's state, editing when returned, withdrawal until it is sent). Routes of the drive's
blueprint (views/drive.py), which registers them with the page's."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

from petition.drive import mails, review, settings, writing
from petition.drive.values import DriveError
from petition.models.drive import APPROVED, RETURNED, SENT, WITHDRAWABLE, DriveLetter
from petition.views.drive import bp, char_count, highlighted, page_lang
from petition.views.drive_forms import TextOnlyForm, language_name
from petition.views.i18n import prefer_content_language, show_languages_at

# --- confirming ------------------------------------------------------------------------------


def _link_problem(error: DriveError):
    if isinstance(error, writing.AlreadyConfirmed):
        row = error.row
        prefer_content_language(row.lang)
        return render_template("drive/already.html", row=row, letter=row.letter,
                               text=row.letter.text_for(page_lang()),
                               writer_url=mails.writer_url(row)), 200
    if isinstance(error, writing.LinkExpired):
        return render_template("drive/expired.html",
                               hours=current_app.config["CONFIRM_MAX_AGE"] // 3600), 410
    if isinstance(error, writing.DriveClosed):
        return render_template("drive/closed.html"), 409
    return render_template("drive/invalid.html"), 404


def _confirm_page(row: DriveLetter, token: str, form: TextOnlyForm | None = None,
                  status: int = 200):
    prefer_content_language(row.lang)
    lang = page_lang()
    letter = row.letter
    drive = settings.get_drive(letter)
    seen = writing.draft(row)
    if form is None:
        form = TextOnlyForm(formdata=None, body_max=drive.body_max, body=seen.body)
    else:
        show_languages_at(url_for("drive.confirm_page", token=token))
    return render_template(
        "drive/confirm.html", row=row, letter=letter, drive=drive,
        text=letter.text_for(lang), draft=seen, token=token,
        letter_html=highlighted(seen.body, seen.passages),
        risky=list(dict.fromkeys(passage.word for passage in seen.passages)),
        language=language_name(row.letter_lang, lang, False),
        guidance=settings.guidance_for(letter, lang), form=form,
        counter=char_count("body", drive.body_max, form.body.data or "", lang),
        edited=request.args.get("edited") == "1"), status


@bp.get("/drive/confirm/<token>")
def confirm_page(token: str):
    """What will be sent, with what a censor may stop: GET never confirms (mail scanners
    open links)."""
    try:
        row = _pending_in_open_drive(token)
    except DriveError as error:
        return _link_problem(error)
    return _confirm_page(row, token)


@bp.post("/drive/confirm/<token>")
def confirm(token: str):
    """With `body`: the text changed, the page again; without: the letter confirmed."""
    if "body" in request.form:
        return _edit_pending(token)
    try:
        row = writing.confirm(token)
    except DriveError as error:
        return _link_problem(error)
    prefer_content_language(row.lang)
    lang = page_lang()
    return render_template("drive/confirmed.html", row=row, letter=row.letter,
                           text=row.letter.text_for(lang),
                           drive=settings.get_drive(row.letter),
                           writer_url=mails.writer_url(row))


def _pending_in_open_drive(token: str):
    """The pending letter the link names, while its drive still takes letters."""
    row = writing.find_pending(token)
    if not row.letter.is_open:
        raise writing.DriveClosed("The drive is closed.")
    return row


def _edit_pending(token: str):
    try:
        row = _pending_in_open_drive(token)
    except DriveError as error:
        return _link_problem(error)
    form = TextOnlyForm(body_max=settings.get_drive(row.letter).body_max)
    if not form.validate():
        return _confirm_page(row, token, form, status=400)
    try:
        writing.edit_pending(token, form.body.data)
    except (writing.InvalidLink, writing.LinkExpired, writing.AlreadyConfirmed) as error:
        return _link_problem(error)
    except DriveError as error:
        form.body.errors = [error.translated()]
        return _confirm_page(row, token, form, status=400)
    return redirect(url_for("drive.confirm_page", token=token, edited=1), code=303)


# --- the writer's private page ---------------------------------------------------------------


def _state(row: DriveLetter) -> str:
    """The letter's state as its writer reads it (a key of drive/writer.html's sentences)."""
    if row.status == APPROVED and review.needs_translation(row) \
            and row.translation_encrypted is None:
        return "translation"
    return row.status


def _writer_page(row: DriveLetter, token: str, form: TextOnlyForm | None = None,
                 status: int = 200, problem: str | None = None):
    prefer_content_language(row.lang)
    lang = page_lang()
    letter = row.letter
    drive = settings.get_drive(letter)
    seen = writing.draft(row) if row.body_encrypted is not None else None
    if form is None and seen is not None and row.status == RETURNED:
        form = TextOnlyForm(formdata=None, body_max=drive.body_max, body=seen.body)
    elif form is not None:
        show_languages_at(url_for("drive.writer_page", token=token))
    sent_on = None
    if row.status == SENT:
        sent_on = (row.batch.sent_on if row.batch is not None and row.batch.sent_on
                   else row.sent_at.date() if row.sent_at else None)
    return render_template(
        "drive/writer.html", row=row, letter=letter, drive=drive,
        text=letter.text_for(lang), token=token, state=_state(row), draft=seen,
        letter_html=highlighted(seen.body, seen.passages) if seen else None,
        risky=list(dict.fromkeys(p.word for p in seen.passages)) if seen else [],
        language=language_name(row.letter_lang, lang, False),
        delivery_language=language_name(drive.delivery_lang, lang, False),
        sent_on=sent_on, withdrawable=row.status in WITHDRAWABLE,
        guidance=settings.guidance_for(letter, lang) if form is not None else None,
        form=form, problem=problem,
        counter=char_count("body", drive.body_max, form.body.data or "", lang)
        if form is not None else None), status


@bp.get("/drive/letter/<token>")
def writer_page(token: str):
    try:
        row = writing.writer_letter(token)
    except DriveError:
        return render_template("drive/invalid.html"), 404
    return _writer_page(row, token)


@bp.post("/drive/letter/<token>/edit")
def edit(token: str):
    """A returned letter, changed, goes back to the organisers."""
    try:
        row = writing.writer_letter(token)
    except DriveError:
        return render_template("drive/invalid.html"), 404
    if row.status != RETURNED:
        return _writer_page(row, token, status=409, problem=DriveError(
            "This letter is not waiting for changes.").translated())
    form = TextOnlyForm(body_max=settings.get_drive(row.letter).body_max)
    if not form.validate():
        return _writer_page(row, token, form, status=400)
    try:
        writing.resubmit(token, form.body.data)
    except DriveError as error:
        form.body.errors = [error.translated()]
        return _writer_page(row, token, form, status=400)
    return redirect(url_for("drive.writer_page", token=token), code=303)


@bp.post("/drive/letter/<token>/withdraw")
def withdraw(token: str):
    """Take the letter back until it is sent: its text and address are deleted."""
    try:
        row = writing.withdraw(token)
    except writing.InvalidLink:
        return render_template("drive/invalid.html"), 404
    except DriveError as error:  # sent already
        row = writing.writer_letter(token)
        return _writer_page(row, token, status=409, problem=error.translated())
    prefer_content_language(row.lang)
    return render_template("drive/withdrawn.html", letter=row.letter,
                           text=row.letter.text_for(page_lang()))
