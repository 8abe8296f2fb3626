"""Creating and editing letters: settings, texts side by side, country labels, open/close.

Thin: read request.form, call petition.letters.operations (which checks everything, writes and
logs), then redirect with a flash, or show the page again with the reason and status 400.
"""
from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from petition.abuse import limits as soft_limits
from petition.accounts import operations as accounts
from petition.admin import bp, current_account
from petition.admin.labels import language_name
from petition.drive import settings as drive_settings
from petition.drive.values import DriveError
from petition.letters import operations as letters
from petition.letters import values as letter_values
from petition.letters.operations import LetterError
from petition.models import (
    CLOSED,
    DRAFT,
    INITIALS,
    LETTER_DRIVE,
    OPEN,
    OPEN_LETTER,
    PETITION,
    Letter,
)
from petition.models.accounts import ROLE_ORGANISER
from petition.models.drive import BODY_MAX_DEFAULT

# Offered in the language fields; any language CLDR knows may still be typed.
COMMON_LANGUAGES = ("en", "fr", "ru", "de", "es", "it", "pt", "pt_BR", "nl", "pl", "uk", "ar",
                    "tr", "el", "he", "fa", "zh", "ja")


def language_choices(extra: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    codes = dict.fromkeys((*extra, *current_app.config["LANGUAGES"], *COMMON_LANGUAGES))
    return [(code, language_name(code)) for code in codes]


def _checked(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "yes", "true")


def _refused(error: LetterError) -> str:
    return _("Nothing was saved: %(reason)s.", reason=error.translated())


# ----------------------------------------------------------------------------- new letter


@bp.route("/letters/new", methods=["GET", "POST"])
def new_letter():
    """An open letter, a petition (kind=petition), or a letter drive (kind=letter-drive)
    with its recipient."""
    account = current_account()
    form = request.form if request.method == "POST" else {
        "kind": OPEN_LETTER, "individual_display": INITIALS,
        "accepts_organizations": "1", "accepts_individuals": "1",
        "retention_days": current_app.config["FINGERPRINT_RETENTION_DAYS"],
        "body_max": BODY_MAX_DEFAULT,
    }
    if request.method == "GET":
        return _render_new(form)
    kind = request.form.get("kind") or OPEN_LETTER
    try:
        if kind == LETTER_DRIVE:
            letter = _create_drive(account.email)
        elif kind in (OPEN_LETTER, PETITION):
            letter = letters.create_letter(
                request.form.get("slug", ""),
                lang=request.form.get("lang", ""),
                title=request.form.get("title", ""),
                body=request.form.get("body", ""),
                **{"fingerprint_retention_days":
                   current_app.config["FINGERPRINT_RETENTION_DAYS"], **_settings()},
                status=DRAFT,  # texts and settings first; the public sees it once opened
                actor=account.email,
                kind=kind,
            )
        else:
            raise LetterError("unknown kind of letter %(kind)r", kind=kind)
    except LetterError as error:
        return _render_new(form, _refused(error)), 400
    if account.role == ROLE_ORGANISER:
        # Otherwise its creator could not see the letter just made.
        accounts.assign_letter(account.email, letter.slug, actor=account.email)
    flash(_("Letter %(slug)s created as a draft: the public cannot see it until it is opened.",
            slug=letter.slug))
    if letter.is_drive:
        return redirect(url_for("admin.drive_settings", slug=letter.slug), 303)
    return redirect(url_for("admin.edit_letter", slug=letter.slug), 303)


def _create_drive(actor: str) -> Letter:
    """A letter drive from the new-letter form: its recipient and delivery language, and of
    the letter's settings those a drive has (goal, deadline, retention)."""
    form = request.form
    body_max = form.get("body_max", "").strip()
    if body_max and not body_max.isdigit():
        raise DriveError("The length limit is a whole number of characters.")
    retention = (letter_values.parse_retention(form["retention_days"])
                 if "retention_days" in form else None)
    return drive_settings.create_drive(
        form.get("slug", ""), lang=form.get("lang", ""), title=form.get("title", ""),
        body=form.get("body", ""), recipient=form.get("recipient_name", ""),
        recipient_address=form.get("recipient_address", ""),
        delivery_lang=form.get("delivery_lang", ""),
        goal=letter_values.parse_goal(form.get("goal", "")),
        deadline=letter_values.parse_date(form.get("deadline", ""), "deadline"),
        body_max=int(body_max) if body_max else BODY_MAX_DEFAULT,
        fingerprint_retention_days=retention, status=DRAFT, actor=actor)


def _settings() -> dict:
    """The settings fields of the new-letter and edit forms, as the use cases take them."""
    settings = dict(
        goal=letter_values.parse_goal(request.form.get("goal", "")),
        deadline=letter_values.parse_date(request.form.get("deadline", ""), "deadline"),
        place=request.form.get("place", ""),
        date=letter_values.parse_date(request.form.get("date", "")),
        accepts_organizations=_checked("accepts_organizations"),
        accepts_individuals=_checked("accepts_individuals"),
        moderate_organizations=_checked("moderate_organizations"),
        # datetime-local sends "2026-12-24T09:00", which the page says is UTC.
        embargo_until=letter_values.parse_embargo(request.form.get("embargo_until", "")),
        embargo_count=_checked("embargo_count"),
    )
    if "individual_display" in request.form:  # likewise (a new letter: initials)
        settings["individual_display"] = request.form["individual_display"]
    if "retention_days" in request.form:  # a form without the field leaves it as it is
        settings["fingerprint_retention_days"] = letter_values.parse_retention(
            request.form["retention_days"])
    return settings


def _reach_settings() -> dict:
    """The edit page's milestones and chart; a form without them leaves both as they are."""
    if "milestones" not in request.form:
        return {}
    return dict(milestones=letter_values.parse_milestones(request.form["milestones"]),
                show_chart=_checked("show_chart"))


def _soft_limit_fields() -> dict[str, str] | None:
    """The edit page's three soft-limit fields, kind → text; None when the form has none
    (a drive's page, an older form): the letter's limits then stay as they are."""
    if not any(f"soft_limit_{kind}" in request.form for kind in soft_limits.KINDS):
        return None
    return {kind: request.form.get(f"soft_limit_{kind}", "") for kind in soft_limits.KINDS}


def soft_limit_label(kind: str) -> str:
    return {soft_limits.ADDRESS: _("Per client address"),
            soft_limits.BLOCK: _("Per address block"),
            soft_limits.DOMAIN: _("Per mail domain")}[kind]


def _soft_limit_error(error: soft_limits.SoftLimitError) -> str:
    """The use case's refusal in the reader's language, naming the field."""
    field = soft_limit_label(error.kind or soft_limits.ADDRESS)
    value = error.value[:60]
    if error.code == soft_limits.OUT_OF_RANGE:
        return _("%(field)s: “%(value)s” must allow 1 or more submissions, over a month "
                 "at most.", field=field, value=value)
    return _("%(field)s: “%(value)s” is not a rate such as “5 per 10 minutes;20 per day”, "
             "nor “off”.", field=field, value=value)


def _render_new(form, error: str | None = None) -> str:
    return render_template("admin/letter_new.html", form=form, error=error,
                           languages=language_choices())


# ----------------------------------------------------------------------------- edit page


def _render_edit(letter: Letter, *, error: str | None = None, section: str | None = None,
                 form=None, previewing: bool = False,
                 soft_limit_error: tuple[str, str] | None = None) -> str:
    """The edit page; after a refused change, that section shows the reason and what was
    typed (`form`), the others what is stored. `previewing`: the texts typed, rendered.
    `soft_limit_error`: (kind, message) shown beside that soft limit's field."""
    label_langs = tuple(dict.fromkeys((*letter.languages, *current_app.config["LANGUAGES"],
                                       *(label.lang for label in letter.labels))))
    codes = sorted({label.code for label in letter.labels})
    return render_template(
        "admin/letter_edit.html",
        letter=letter,
        error=error,
        section=section,
        form=form if form is not None else {},
        languages=language_choices(),
        label_langs=label_langs,
        label_codes=codes,
        label_table={(label.code, label.lang): label.label for label in letter.labels},
        OPEN=OPEN,
        CLOSED=CLOSED,
        DRAFT=DRAFT,
        previewing=previewing,
        soft_limit_own=soft_limits.overrides(letter),
        soft_limit_defaults=soft_limits.site_defaults(),
        soft_limit_kinds=soft_limits.KINDS,
        soft_limit_label=soft_limit_label,
        soft_limit_error=soft_limit_error,
    )


@bp.route("/letters/<slug>/edit", methods=["GET", "POST"])
def edit_letter(slug: str):
    letter: Letter = g.letter
    if request.method == "GET":
        return _render_edit(letter)
    fields = None if letter.is_drive else _soft_limit_fields()
    try:
        # Checked before anything is written: a bad rate leaves every setting as it was.
        wanted = soft_limits.parse_fields(fields) if fields is not None else None
        letters.update_letter(
            letter.slug,
            **_settings(),
            **_reach_settings(),
            actor=current_account().email,
        )
    except LetterError as error:
        return _render_edit(letter, error=_refused(error), section="settings",
                            form=request.form), 400
    except soft_limits.SoftLimitError as error:
        message = _soft_limit_error(error)
        return _render_edit(letter, error=_("Nothing was saved: a limit that flags "
                                            "submissions for review is not a rate (see "
                                            "below)."),
                            section="settings", form=request.form,
                            soft_limit_error=(error.kind or "", message)), 400
    if wanted is not None:
        # The command line's use case: audited as "letter.soft_limits" when they change.
        soft_limits.set_overrides(letter.slug, wanted, actor=current_account().email)
    flash(_("Settings saved."))
    return redirect(url_for("admin.edit_letter", slug=letter.slug), 303)


@bp.post("/letters/<slug>/texts")
def letter_texts(slug: str):
    """Every column of the side-by-side form at once, plus the new language if one is given."""
    letter: Letter = g.letter
    form = request.form
    if form.get("preview"):
        # The page again with what was typed, rendered as the public page renders it
        # (views/templating.py's markdown filter): nothing saved.
        return _render_edit(letter, section="texts", form=form, previewing=True)
    texts = [(lang, form.get(f"title-{lang}", ""), form.get(f"body-{lang}", ""))
             + ((form[f"place-{lang}"],) if f"place-{lang}" in form else ())
             for lang in letter.languages if f"title-{lang}" in form]
    new = (form.get("new_lang", ""), form.get("new_title", ""), form.get("new_body", ""),
           form.get("new_place", ""))
    if any(value.strip() for value in new):
        texts.append(new)
    try:
        changed = letters.save_texts(letter.slug, texts, actor=current_account().email)
    except LetterError as error:
        return _render_edit(letter, error=_refused(error), section="texts", form=form), 400
    if changed:
        flash(_("Texts saved: %(langs)s.", langs=", ".join(language_name(c) for c in changed)))
    else:
        flash(_("No text changed."))
    return redirect(url_for("admin.edit_letter", slug=letter.slug, _anchor="texts"), 303)


@bp.post("/letters/<slug>/labels")
def letter_labels(slug: str):
    """action=set (lang, code, label) adds or changes a label; action=remove takes it away."""
    letter: Letter = g.letter
    form = request.form
    actor = current_account().email
    try:
        if form.get("action") == "remove":
            letters.remove_label(letter.slug, lang=form.get("lang", ""),
                                 code=form.get("code", ""), actor=actor)
            message = _("Label removed: the usual name of the country shows again.")
        else:
            letters.set_label(letter.slug, lang=form.get("lang", ""), code=form.get("code", ""),
                              label=form.get("label", ""), actor=actor)
            message = _("Label saved.")
    except LetterError as error:
        return _render_edit(letter, error=_refused(error), section="labels", form=form), 400
    flash(message)
    return redirect(url_for("admin.edit_letter", slug=letter.slug, _anchor="labels"), 303)


@bp.post("/letters/<slug>/status")
def letter_status(slug: str):
    letter: Letter = g.letter
    wanted = request.form.get("status", "")
    try:
        letters.set_status(letter.slug, wanted, actor=current_account().email)
    except LetterError as error:
        return _render_edit(letter, error=_refused(error), section="status"), 400
    flash(_("The letter is open for signatures.") if wanted == OPEN
          else _("The letter is closed: it takes no more signatures; its list stays public."))
    return redirect(url_for("admin.edit_letter", slug=letter.slug), 303)
