"""Letter use cases: create, update, translate, label, open and close. No request, no flash."""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError, localedata
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import countries
# Every change is logged here, in its own transaction, whoever makes it (web or command
# line: actor "cli"), so no caller can forget.
from .admin import audit
from .extensions import db
from .models import (
    CLOSED,
    DRAFT,
    LETTER_STATES,
    OPEN,
    CountryLabel,
    Letter,
    LetterText,
    utcnow,
)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Taken by the back office's own pages (/admin/letters/new).
RESERVED_SLUGS = frozenset({"new"})
LANG_MAX = 8  # letter.default_lang and LetterText.lang are String(8)


class LetterError(Exception):
    """A letter operation was refused; the message says why.

    The message is an English template with named values: str() gives it in English (the
    command line), translated() in the language of the page. pybabel extracts the templates
    (babel.cfg runs it with -k LetterError).
    """

    def __init__(self, template: str, **values: object) -> None:
        super().__init__(template % values if values else template)
        self.template, self.values = template, values

    def translated(self) -> str:
        from flask_babel import gettext

        return gettext(self.template, **self.values)


class LetterNotFound(LetterError):
    """No letter has that slug."""


def get_letter(slug: str) -> Letter:
    letter = db.session.scalar(select(Letter).where(Letter.slug == slug))
    if letter is None:
        raise LetterNotFound("no letter with slug %(slug)r", slug=slug)
    return letter


def get_public_letter(slug: str) -> Letter:
    """The letter if the public may see it: drafts are as good as absent."""
    letter = get_letter(slug)
    if letter.status == DRAFT:
        raise LetterNotFound("no letter with slug %(slug)r", slug=slug)
    return letter


def bump_list_version(letter: Letter) -> None:
    """Mark the letter's public list as changed, in the caller's transaction.

    Call it in the same transaction as any change to what the public sees of a letter
    (confirmed signatures, moderation, labels, texts): every cache is keyed on the version.
    An SQL increment, not a read-modify-write, so concurrent changes never lose a bump.
    """
    letter.list_version = Letter.list_version + 1


def _check_slug(slug: str) -> None:
    if not SLUG_RE.match(slug) or len(slug) > 80:
        raise LetterError("the slug takes lower-case letters, digits and single hyphens")
    if slug in RESERVED_SLUGS:
        raise LetterError("the slug %(slug)r is reserved: choose another", slug=slug)
    if db.session.scalar(select(Letter.id).where(Letter.slug == slug)) is not None:
        raise LetterError("a letter with slug %(slug)r already exists", slug=slug)


GOAL_MAX = 1_000_000_000  # the column is a 32-bit integer on PostgreSQL
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def _check_goal(goal: int | None) -> None:
    if goal is not None and goal <= 0:
        raise LetterError("the goal must be a positive number")
    if goal is not None and goal > GOAL_MAX:
        raise LetterError("the goal must be at most %(max)d", max=GOAL_MAX)


def _clean_place(place: str | None) -> str | None:
    place = (place or "").strip()
    if len(place) > 200:
        raise LetterError("the place must be at most 200 characters")
    return place or None


def _check_signers(accepts_organizations: bool, accepts_individuals: bool) -> None:
    if not (accepts_organizations or accepts_individuals):
        raise LetterError("a letter must accept organisations, individuals or both")


def parse_goal(value: str) -> int | None:
    """A goal as typed in a form: empty is no goal, anything else a positive whole number."""
    value = value.strip().replace(" ", "").replace("\u202f", "").replace("\xa0", "")
    if not value:
        return None
    if not _WHOLE_NUMBER.fullmatch(value):  # not str.isdigit(): "²" is a digit to it
        raise LetterError("the goal must be a whole number, not %(value)r", value=value)
    goal = int(value)
    _check_goal(goal)
    return goal


def parse_date(value: str, what: str = "date") -> dt.date | None:
    """A date as typed in a form (YYYY-MM-DD, what date inputs send); empty is none."""
    value = value.strip()
    if not value or value.lower() == "none":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        if what == "deadline":
            raise LetterError("the deadline %(value)r is not a date like 2026-05-21",
                              value=value) from None
        raise LetterError("the date %(value)r is not a date like 2026-05-21", value=value) from None


RETENTION_MIN, RETENTION_MAX = 1, 3650  # days; ten years is already a long time to keep them


def _check_retention(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int) \
            or not RETENTION_MIN <= days <= RETENTION_MAX:
        raise LetterError("the retention must be a whole number of days from %(min)d to %(max)d",
                          min=RETENTION_MIN, max=RETENTION_MAX)


def parse_retention(value: str) -> int:
    """Retention days as typed in a form: a whole number from 1 to 3650."""
    value = value.strip()
    if not _WHOLE_NUMBER.fullmatch(value):
        raise LetterError("the retention must be a whole number of days from %(min)d to %(max)d",
                          min=RETENTION_MIN, max=RETENTION_MAX)
    days = int(value)
    _check_retention(days)
    return days


def parse_embargo(value: str) -> dt.datetime | None:
    """An embargo end as typed: ISO "2026-12-24T09:00" or "2026-12-24 09:00", read as UTC
    unless it carries an offset (then converted); empty or "none" is no embargo.

    Returned naive UTC, to the minute's seconds, as the column stores it.
    """
    value = value.strip()
    if not value or value.lower() == "none":
        return None
    try:
        # A bare date would silently mean midnight: a press embargo is given with its hour.
        if len(value) <= 10:
            raise ValueError
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise LetterError("the embargo %(value)r is not a date and time like 2026-12-24T09:00 "
                          "(UTC unless an offset such as +02:00 is given)", value=value) from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.replace(microsecond=0)


def _check_embargo(old: dt.datetime | None, new: dt.datetime | None) -> None:
    # An end already past would embargo nothing: most likely a typo in the date.
    if new is not None and new != old and new <= utcnow():
        raise LetterError("the embargo end %(when)s UTC has already passed",
                          when=new.isoformat(sep=" ", timespec="minutes"))


def create_letter(
    slug: str,
    *,
    lang: str,
    title: str,
    body: str = "",
    goal: int | None = None,
    deadline: dt.date | None = None,
    place: str | None = None,
    date: dt.date | None = None,
    moderate_organizations: bool = False,
    accepts_organizations: bool = True,
    accepts_individuals: bool = True,
    embargo_until: dt.datetime | None = None,
    embargo_count: bool = False,
    fingerprint_retention_days: int | None = None,
    status: str = OPEN,
    actor: str = "cli",
) -> Letter:
    """Create a letter with its first text: open at once, or a draft the public cannot see
    until it is opened (so translations and settings can be added first)."""
    slug = slug.strip()
    _check_slug(slug)
    lang = check_language(lang)
    _check_goal(goal)
    _check_signers(accepts_organizations, accepts_individuals)
    _check_title(title)
    place = _clean_place(place)
    _check_embargo(None, embargo_until)
    if fingerprint_retention_days is None:
        fingerprint_retention_days = current_app.config["FINGERPRINT_RETENTION_DAYS"]
    _check_retention(fingerprint_retention_days)
    if status not in (DRAFT, OPEN):
        raise LetterError("a new letter is either a draft or open")
    letter = Letter(
        slug=slug,
        status=status,
        default_lang=lang,
        goal=goal,
        deadline=deadline,
        place=place,
        date=date,
        moderate_organizations=moderate_organizations,
        accepts_organizations=accepts_organizations,
        accepts_individuals=accepts_individuals,
        embargo_until=embargo_until,
        embargo_count=bool(embargo_count),
        fingerprint_retention_days=fingerprint_retention_days,
    )
    letter.texts.append(LetterText(lang=lang, title=title.strip(), body=_clean_body(body)))
    db.session.add(letter)
    audit.record(actor, "letter.create", letter_slug=slug, detail=f"status={status} lang={lang}",
                 commit=False)
    try:
        db.session.commit()
    except IntegrityError:  # the same slug created at the same moment by someone else
        db.session.rollback()
        raise LetterError("a letter with slug %(slug)r already exists", slug=slug) from None
    return letter


class _Unchanged:
    """Marks an option that was not given (None is a value: "no goal")."""


UNCHANGED: Any = _Unchanged()


def _shown(value: object) -> str:
    """A setting's value as the audit log shows it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes") + " UTC"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def update_letter(
    slug: str,
    *,
    goal: int | None = UNCHANGED,
    deadline: dt.date | None = UNCHANGED,
    place: str | None = UNCHANGED,
    date: dt.date | None = UNCHANGED,
    accepts_organizations: bool = UNCHANGED,
    accepts_individuals: bool = UNCHANGED,
    moderate_organizations: bool = UNCHANGED,
    embargo_until: dt.datetime | None = UNCHANGED,
    embargo_count: bool = UNCHANGED,
    fingerprint_retention_days: int = UNCHANGED,
    actor: str = "cli",
) -> Letter:
    """Change a letter's settings; what is not given stays. None clears goal, deadline,
    place, date or embargo. Only what really changes is written and logged, old → new.

    Turning moderation on holds organisations that confirm from then on; those already
    listed stay listed. A deadline in the past stops signing at once (the letter reads
    as closed). An embargo (naive UTC) hides the list from the public until it ends, and
    the count too unless embargo_count; its end must not be past already.
    """
    letter = get_letter(slug)
    wanted: dict[str, Any] = {}
    if goal is not UNCHANGED:
        _check_goal(goal)
        wanted["goal"] = goal
    if deadline is not UNCHANGED:
        wanted["deadline"] = deadline
    if place is not UNCHANGED:
        wanted["place"] = _clean_place(place)
    if date is not UNCHANGED:
        wanted["date"] = date
    if accepts_organizations is not UNCHANGED:
        wanted["accepts_organizations"] = bool(accepts_organizations)
    if accepts_individuals is not UNCHANGED:
        wanted["accepts_individuals"] = bool(accepts_individuals)
    if moderate_organizations is not UNCHANGED:
        wanted["moderate_organizations"] = bool(moderate_organizations)
    if embargo_until is not UNCHANGED:
        _check_embargo(letter.embargo_until, embargo_until)
        wanted["embargo_until"] = embargo_until
    if embargo_count is not UNCHANGED:
        wanted["embargo_count"] = bool(embargo_count)
    if fingerprint_retention_days is not UNCHANGED:
        _check_retention(fingerprint_retention_days)
        wanted["fingerprint_retention_days"] = fingerprint_retention_days
    _check_signers(wanted.get("accepts_organizations", letter.accepts_organizations),
                   wanted.get("accepts_individuals", letter.accepts_individuals))
    # Everything is checked above: nothing is set on the letter before it is all valid.
    changes = []
    for field, new in wanted.items():
        old = getattr(letter, field)
        if old != new:
            changes.append(f"{field}: {_shown(old)}→{_shown(new)}")
            setattr(letter, field, new)
    if changes:
        bump_list_version(letter)
        audit.record(actor, "letter.update", letter_slug=letter.slug, detail="; ".join(changes),
                     commit=False)
        db.session.commit()
    return letter


def save_texts(slug: str, texts: list[tuple[str, str, str]], actor: str = "cli") -> list[str]:
    """Add or replace the letter's texts, given as (lang, title, body): all or none.

    Returns the languages whose text changed; an unchanged text is not written again.
    """
    checked: dict[str, tuple[str, str]] = {}
    for lang, title, body in texts:
        lang = check_language(lang)
        _check_title(title)
        if lang in checked:
            raise LetterError("two texts in %(lang)s: give each language once", lang=lang)
        checked[lang] = (title.strip(), _clean_body(body))
    letter = get_letter(slug)
    changed = []
    for lang, (title, body) in checked.items():
        text = next((text for text in letter.texts if text.lang == lang), None)
        if text is None:
            letter.texts.append(LetterText(lang=lang, title=title, body=body))
            detail = f"lang={lang} added"
        elif (text.title, text.body) != (title, body):
            text.title, text.body = title, body
            detail = f"lang={lang} changed"
        else:
            continue
        changed.append(lang)
        audit.record(actor, "letter.text", letter_slug=letter.slug, detail=detail, commit=False)
    if changed:
        bump_list_version(letter)
        db.session.commit()
    return changed


def translate_letter(slug: str, *, lang: str, title: str, body: str = "",
                     actor: str = "cli") -> LetterText:
    """Add or replace the text of a letter in one language."""
    save_texts(slug, [(lang, title, body)], actor=actor)
    lang = check_language(lang)
    return next(text for text in get_letter(slug).texts if text.lang == lang)


def _label_key(lang: str, code: str) -> tuple[str, str]:
    """The stored (lang, code) of a label: "FR", " es" → ("fr", "ES"); scopes in lower case."""
    lang = check_language(lang)  # a label under "french" would silently never show
    code = countries.normalize_code(code)
    if not countries.is_valid(code):
        raise LetterError("%(code)r is neither an ISO 3166-1 alpha-2 code nor a scope", code=code)
    return lang, code


def set_label(slug: str, *, lang: str, code: str, label: str, actor: str = "cli") -> CountryLabel:
    """Set the letter's own heading for a country or scope in one language."""
    lang, code = _label_key(lang, code)
    label = label.strip()
    if not label or len(label) > 200:
        raise LetterError("the label must be 1 to 200 characters")
    letter = get_letter(slug)
    existing = next((l for l in letter.labels if l.lang == lang and l.code == code), None)
    old = existing.label if existing else None
    if existing is None:
        existing = CountryLabel(lang=lang, code=code, label=label)
        letter.labels.append(existing)
    elif existing.label == label:
        return existing
    else:
        existing.label = label
    bump_list_version(letter)
    audit.record(actor, "letter.label", letter_slug=letter.slug,
                 detail=f"lang={lang} code={code}: {_shown(old)}→{label}", commit=False)
    db.session.commit()
    return existing


def remove_label(slug: str, *, lang: str, code: str, actor: str = "cli") -> None:
    """Remove the letter's own heading: the country's usual name shows again."""
    lang, code = _label_key(lang, code)
    letter = get_letter(slug)
    existing = next((l for l in letter.labels if l.lang == lang and l.code == code), None)
    if existing is None:
        raise LetterError("the letter has no label for %(code)s in %(lang)s", code=code, lang=lang)
    letter.labels.remove(existing)  # delete-orphan: the row goes
    bump_list_version(letter)
    audit.record(actor, "letter.label", letter_slug=letter.slug,
                 detail=f"lang={lang} code={code}: {existing.label}→none", commit=False)
    db.session.commit()


# A letter goes from draft to open once (the public has seen it then), and between open
# and closed as often as needed. A draft is not closed: it was never open.
STATUS_MOVES = {(DRAFT, OPEN), (OPEN, CLOSED), (CLOSED, OPEN)}


def set_status(slug: str, status: str, actor: str = "cli") -> Letter:
    if status not in LETTER_STATES:
        raise LetterError("unknown status %(status)r", status=status)
    letter = get_letter(slug)
    old = letter.status
    if old == status:
        return letter  # already so: nothing to write or log
    if (old, status) not in STATUS_MOVES:
        raise LetterError("a letter cannot go from %(old)s to %(new)s", old=old, new=status)
    if status == OPEN and letter.past_deadline:
        raise LetterError("the deadline %(date)s has passed: move or clear it before opening "
                          "the letter", date=letter.deadline.isoformat())
    letter.status = status
    # Retention counts from the closing; a reopened letter starts afresh when closed again.
    letter.closed_at = utcnow() if status == CLOSED else None
    bump_list_version(letter)
    audit.record(actor, "letter.status", letter_slug=letter.slug,
                 detail=f"{old}→{status}", commit=False)
    db.session.commit()
    return letter


@lru_cache(maxsize=1)
def _known_languages() -> dict[str, str]:
    # Babel's identifiers ("fr", "pt_BR", "sr_Latn") by lower-case key: the form that
    # format_date, country names and force_locale take. "root" is no language.
    return {code.lower(): code for code in localedata.locale_identifiers() if code != "root"}


def accepted_languages() -> tuple[str, ...]:
    """Every language a letter may be written in, in its stored form."""
    return tuple(sorted(code for code in _known_languages().values() if len(code) <= LANG_MAX))


def check_language(lang: str) -> str:
    """The stored form of a letter's language ("FR" → "fr", "pt-br" → "pt_BR"), else LetterError.

    Any language CLDR knows is accepted, not only the interface's (en, fr, ru): a letter
    may be written in German. Its page then dates it and marks it up in that language.
    """
    code = _known_languages().get(lang.strip().replace("-", "_").lower())
    if code is None:
        guess = _language_named(lang) or _likely_language(lang)
        if guess:
            raise LetterError("unknown language %(lang)r (did you mean %(guess)s?): give a "
                              "locale code such as fr, de or pt_BR", lang=lang, guess=guess)
        raise LetterError("unknown language %(lang)r: give a locale code such as fr, de or "
                          "pt_BR", lang=lang)
    if len(code) > LANG_MAX:
        raise LetterError("language code %(code)r is longer than %(max)d characters: use "
                          "%(short)r", code=code, max=LANG_MAX, short=_shortened(code))
    return code


def _shortened(code: str) -> str:
    """The longest accepted code `code` starts with ("zh_Hant_TW" → "zh_Hant")."""
    while (len(code) > LANG_MAX or code.lower() not in _known_languages()) and "_" in code:
        code = code.rsplit("_", 1)[0]
    return code


def _language_named(name: str) -> str | None:
    """The code of the language called `name` in English or in itself ("French" → "fr")."""
    wanted = name.strip().casefold()
    if not wanted:
        return None
    for code in _known_languages().values():
        if "_" not in code:
            locale = Locale.parse(code)
            if wanted in {(locale.english_name or "").casefold(),
                          (locale.display_name or "").casefold()}:
                return code
    return None


def _likely_language(lang: str) -> str | None:
    """What CLDR takes `lang` to mean ("zh-TW" → "zh_Hant"), as an accepted code."""
    try:
        code = str(Locale.parse(lang.strip().replace("-", "_")))
    except (UnknownLocaleError, ValueError):  # unknown, or not even shaped like a locale
        return None
    return _shortened(code) if code.lower() in _known_languages() else None


def _check_title(title: str) -> None:
    if not title.strip() or len(title.strip()) > 300:
        raise LetterError("the title must be 1 to 300 characters")


def _clean_body(body: str) -> str:
    # Browsers send textareas with CRLF; the CLI reads files with LF. One form, so that
    # saving an untouched text is seen as no change.
    return body.replace("\r\n", "\n").replace("\r", "\n")
