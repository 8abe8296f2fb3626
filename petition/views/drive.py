"""A letter drive's public side: its page and the form to write a letter, and the blueprint
the writer's links share (views/drive_links.py: confirming, the private page)."""
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
from petition.drive import counts, settings, writing
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
from petition.models.drive import Drive
from petition.views import public_letter_or_404
from petition.views.drive_forms import LetterForm, language_name
from petition.views.errors import too_many
from petition.views.i18n import show_languages_at
from petition.views.submission_guard import client_key, too_fast

bp = Blueprint("drive", __name__)

# The endpoints that take a letter's text: its limit may reach BODY_MAX_LIMIT characters,
# each up to 4 UTF-8 bytes, each byte 3 characters once form-encoded.
_TEXT_ENDPOINTS = ("drive.write", "drive.confirm", "drive.edit")
_TEXT_BODY_MAX = 12 * BODY_MAX_LIMIT + 64 * 1024


def page_lang() -> str:
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
    lang = page_lang()
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
                           text=letter.text_for(page_lang())), 409


def _write_limit() -> str:
    return current_app.config["RATELIMIT_SIGN"]


@bp.post("/letters/<slug>/write")
@limiter.limit(_write_limit, key_func=client_key, methods=["POST"])
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
    if form.is_bot or too_fast():
        # Look exactly like success, store nothing: a bot learns nothing.
        return redirect(url_for("drive.check_mail", slug=slug), code=303)
    details = writing.LetterDetails(
        name=form.name.data, country=form.country.data, email=form.email.data,
        letter_lang=form.language.data, body=form.body.data, publish=form.publish.data,
        lang=page_lang(), wants_reply=bool(form.reply.data))
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
                           text=letter.text_for(page_lang()),
                           hours=current_app.config["CONFIRM_MAX_AGE"] // 3600,
                           per_hour=current_app.config["MAIL_PER_ADDRESS_PER_HOUR"])
