"""A letter drive's public side: its page and the form to write a letter; the link that
confirms a letter (what will be sent, what a censor may stop, editing first; only POST
confirms); the writer's private page (the letter's state, editing when returned,
withdrawal until it is sent)."""
from __future__ import annotations

from dataclasses import dataclass

from babel import Locale
from babel.numbers import format_currency
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, get_locale, get_translations
from flask_babel import ngettext as _n
from markupsafe import Markup, escape

from petition import countries
from petition.drive import counts, mails, review, settings, writing
from petition.drive.values import (
    BODY_MAX_LIMIT,
    DriveError,
    DriveNotFound,
    Passage,
    clean_letter_text,
)
from petition.extensions import limiter
from petition.letters.front_page import FrontPage, closed_on
from petition.letters.operations import LetterNotFound, get_public_letter
from petition.models import Letter
from petition.models.drive import APPROVED, RETURNED, SENT, WITHDRAWABLE, Drive, DriveLetter
from petition.views import public_letter_or_404
from petition.views.drive_forms import LetterForm, TextOnlyForm, language_name
from petition.views.errors import too_many
from petition.views.i18n import prefer_content_language, show_languages_at

bp = Blueprint("drive", __name__)

# The endpoints that take a letter's text: its limit may reach BODY_MAX_LIMIT characters,
# each up to 4 UTF-8 bytes, each byte 3 characters once form-encoded.
_TEXT_ENDPOINTS = ("drive.write", "drive.confirm", "drive.edit")
_TEXT_BODY_MAX = 12 * BODY_MAX_LIMIT + 64 * 1024


def _lang() -> str:
    return str(get_locale())


def _text_body_limit() -> None:
    """Let a letter's form through MAX_CONTENT_LENGTH (sized for the sign form). Runs before
    every other hook of the app: CSRFProtect and the control-character guard read the form
    in theirs, which would apply the app's limit."""
    if request.method == "POST" and request.endpoint in _TEXT_ENDPOINTS:
        request.max_content_length = max(current_app.config.get("MAX_CONTENT_LENGTH") or 0,
                                         _TEXT_BODY_MAX)


@bp.record_once
def _install_text_body_limit(state) -> None:
    state.app.before_request_funcs.setdefault(None, []).insert(0, _text_body_limit)


@bp.after_request
def no_store(response: Response) -> Response:
    # These pages hold what a writer typed, or a private link's letter: no cache keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response


# --- what the templates show ------------------------------------------------------------------


def highlighted(text: str, passages: list[Passage]) -> Markup:
    """`text` escaped, each passage a censor may stop in a <mark>."""
    parts: list[Markup] = []
    at = 0
    for passage in passages:
        if passage.start < at:  # overlapping matches: the first one is marked
            continue
        parts.append(escape(text[at:passage.start]))
        parts.append(Markup("<mark>%s</mark>") % text[passage.start:passage.end])
        at = passage.end
    parts.append(escape(text[at:]))
    return Markup("").join(parts)


# Numbers that fall in each CLDR plural category of the site's languages (and most others).
_PLURAL_SAMPLES = (0, 1, 2, 3, 5, 11, 21, 22, 25, 100, 101, 102, 1000000)
_LEFT = ("%(count)s character left", "%(count)s characters left")
_OVER = ("%(count)s character too many", "%(count)s characters too many")


@dataclass(frozen=True)
class CharCount:
    """The remaining-characters count under a letter's box: as the page is sent, and the
    phrases the page's script picks from as the writer types (one per plural category)."""

    box_id: str
    limit: int
    text: str
    over: bool
    phrases: dict[str, str]  # data-left-one, data-over-few, …


def _phrase(forms: tuple[str, str], number: int, count: str) -> str:
    return get_translations().ungettext(forms[0], forms[1], number) % {"count": count}


def char_count(box_id: str, limit: int, text: str, lang: str) -> CharCount:
    left = limit - len(clean_letter_text(text or ""))
    try:
        plural_form = Locale.parse(lang).plural_form
    except (ValueError, LookupError):
        plural_form = Locale.parse("en").plural_form
    phrases: dict[str, str] = {}
    for sample in _PLURAL_SAMPLES:
        category = plural_form(sample)
        for kind, forms in (("left", _LEFT), ("over", _OVER)):
            phrases.setdefault(f"data-{kind}-{category}", _phrase(forms, sample, "{n}"))
    if left >= 0:
        shown = _n("%(count)s character left", "%(count)s characters left", left,
                   count=_number(left))
    else:
        shown = _n("%(count)s character too many", "%(count)s characters too many", -left,
                   count=_number(-left))
    return CharCount(box_id, limit, shown, left < 0, phrases)


def _number(value: int) -> str:
    return format_decimal(value)


@dataclass(frozen=True)
class ShownLetter:
    """A letter published on the drive's page."""

    name: str
    country: str
    letter_lang: str
    body: str
    translation: str | None


def _published(letter: Letter, lang: str) -> list[ShownLetter]:
    overrides = letter.labels_for(lang)
    return [ShownLetter(row.name, countries.display_name(row.country, lang, overrides),
                        row.letter_lang, row.body, row.translation)
            for row in counts.published(letter)]


def _languages(letter: Letter, drive: Drive) -> tuple[str, ...]:
    """The drive's own languages, offered with the usual ones."""
    return (drive.delivery_lang, letter.default_lang, *letter.languages)


def _letter_form(letter: Letter, drive: Drive, lang: str) -> LetterForm:
    return LetterForm(formdata=None, body_max=drive.body_max, language=lang,
                      publish="no")


def show(letter: Letter, form: LetterForm | None = None, status: int = 200,
         rate_limited: bool = False) -> Response:
    """The drive's page: the appeal, the count, the guidance and the form
    (public.show hands a drive over here)."""
    lang = _lang()
    drive = settings.get_drive(letter)
    if form is None:
        form = _letter_form(letter, drive, lang)
    if request.method == "POST":  # the form again: its language links lead to the page
        show_languages_at(url_for("public.show", slug=letter.slug))
    form.label_choices(lang, letter.labels_for(lang), _languages(letter, drive))
    figures = counts.counts(letter) if letter.count_public else None
    costs = None
    if drive.show_costs and figures is not None and figures.cost_cents:
        costs = format_currency(figures.cost_cents / 100, drive.currency, locale=lang)
    response = make_response(render_template(
        "drive/show.html",
        letter=letter,
        drive=drive,
        text=letter.text_for(lang),
        lang=lang,
        figures=figures,
        costs=costs,
        closed_on=closed_on(letter),
        delivery_language=language_name(drive.delivery_lang, lang, False),
        guidance=settings.guidance_for(letter, lang),
        published=[] if letter.embargoed else _published(letter, lang),
        form=form,
        counter=char_count("body", drive.body_max, form.body.data or "", lang),
        rate_limited=rate_limited,
    ), status)
    return response


def written_counts(page: FrontPage) -> dict[int, int]:
    """Letters written, per drive on the home page whose count is public."""
    return {summary.letter.id: counts.counts(summary.letter).written
            for summary in (*page.open, *page.closed)
            if summary.letter.is_drive and summary.count is not None}


# --- writing ---------------------------------------------------------------------------------


def _drive_or_404(slug: str) -> Letter:
    letter = public_letter_or_404(slug)
    if not letter.is_drive:
        abort(404)
    return letter


def _closed(letter: Letter):
    return render_template("drive/closed.html", letter=letter,
                           text=letter.text_for(_lang())), 409


def _write_limit() -> str:
    return current_app.config["RATELIMIT_SIGN"]


@bp.post("/letters/<slug>/write")
@limiter.limit(_write_limit, methods=["POST"])
def write(slug: str):
    # The drive's state and limit without its letter (writing.drive_to_write): the pages
    # shown when writing is refused read the letter then.
    try:
        drive = writing.drive_to_write(slug)
    except writing.DriveClosed:
        return _closed(_drive_or_404(slug))
    except DriveNotFound:
        abort(404)
    form = LetterForm(body_max=drive.body_max)
    if not form.validate():
        return show(_drive_or_404(slug), form, status=400)
    if form.is_bot:
        # Look exactly like success, store nothing: a bot learns nothing.
        return redirect(url_for("drive.check_mail", slug=slug), code=303)
    details = writing.LetterDetails(
        name=form.name.data, country=form.country.data, email=form.email.data,
        letter_lang=form.language.data, body=form.body.data, publish=form.publish.data,
        lang=_lang(), wants_reply=bool(form.reply.data))
    try:
        writing.submit(drive, details)  # False: the address's mails this hour are spent
    except writing.DriveClosed:
        return _closed(_drive_or_404(slug))
    except DriveError as error:
        form.body.errors = [error.translated()]
        return show(_drive_or_404(slug), form, status=400)
    # Same page whatever happened: the form tells nobody who wrote.
    return redirect(url_for("drive.check_mail", slug=slug), code=303)


@bp.get("/letters/<slug>/write")
def write_page(slug: str):
    """The form's address typed or reloaded: the drive's page."""
    _drive_or_404(slug)
    return redirect(url_for("public.show", slug=slug), code=303)


@bp.errorhandler(429)
def rate_limited(error):
    """Too many letters from one connection: the form again with what was typed."""
    slug = (request.view_args or {}).get("slug")
    if request.endpoint != "drive.write" or not slug:
        return too_many(error)
    try:
        letter = get_public_letter(slug)
    except LetterNotFound:
        return too_many(error)
    if not letter.is_drive or not letter.is_open:
        return too_many(error)
    form = LetterForm(body_max=settings.get_drive(letter).body_max)
    return show(letter, form, status=429, rate_limited=True)


@bp.get("/letters/<slug>/write/check-your-mail")
def check_mail(slug: str):
    letter = _drive_or_404(slug)
    return render_template("drive/check_mail.html", letter=letter,
                           text=letter.text_for(_lang()),
                           hours=current_app.config["CONFIRM_MAX_AGE"] // 3600,
                           per_hour=current_app.config["MAIL_PER_ADDRESS_PER_HOUR"])


# --- confirming ------------------------------------------------------------------------------


def _link_problem(error: DriveError):
    if isinstance(error, writing.AlreadyConfirmed):
        row = error.row
        prefer_content_language(row.lang)
        return render_template("drive/already.html", letter=row.letter,
                               text=row.letter.text_for(_lang()),
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
    lang = _lang()
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
        row = writing.find_pending(token)
    except DriveError as error:
        return _link_problem(error)
    if not row.letter.is_open:
        return _link_problem(writing.DriveClosed("The drive is closed."))
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
    lang = _lang()
    return render_template("drive/confirmed.html", row=row, letter=row.letter,
                           text=row.letter.text_for(lang),
                           drive=settings.get_drive(row.letter),
                           writer_url=mails.writer_url(row))


def _edit_pending(token: str):
    try:
        row = writing.find_pending(token)
    except DriveError as error:
        return _link_problem(error)
    if not row.letter.is_open:
        return _link_problem(writing.DriveClosed("The drive is closed."))
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
    lang = _lang()
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
                           text=row.letter.text_for(_lang()))
