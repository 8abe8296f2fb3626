"""Letter use cases: create, update, translate, label, open and close. No request, no flash."""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError, localedata
from sqlalchemy import select

from . import countries
from .extensions import db
from .models import CLOSED, DRAFT, OPEN, CountryLabel, Letter, LetterText

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANG_MAX = 8  # letter.default_lang and LetterText.lang are String(8)


class LetterError(Exception):
    """A letter operation was refused; the message says why."""


class LetterNotFound(LetterError):
    """No letter has that slug."""


def get_letter(slug: str) -> Letter:
    letter = db.session.scalar(select(Letter).where(Letter.slug == slug))
    if letter is None:
        raise LetterNotFound(f"no letter with slug {slug!r}")
    return letter


def get_public_letter(slug: str) -> Letter:
    """The letter if the public may see it: drafts are as good as absent."""
    letter = get_letter(slug)
    if letter.status == DRAFT:
        raise LetterNotFound(f"no letter with slug {slug!r}")
    return letter


def bump_list_version(letter: Letter) -> None:
    """Mark the letter's public list as changed, in the caller's transaction.

    Call it in the same transaction as any change to what the public sees of a letter
    (confirmed signatures, moderation, labels, texts): every cache is keyed on the version.
    An SQL increment, not a read-modify-write, so concurrent changes never lose a bump.
    """
    letter.list_version = Letter.list_version + 1


def create_letter(
    slug: str,
    *,
    lang: str,
    title: str,
    body: str = "",
    goal: int | None = None,
    place: str | None = None,
    date: dt.date | None = None,
    moderate_organizations: bool = False,
    accepts_organizations: bool = True,
    accepts_individuals: bool = True,
) -> Letter:
    """Create an open letter with its first text."""
    if not SLUG_RE.match(slug) or len(slug) > 80:
        raise LetterError("the slug takes lower-case letters, digits and single hyphens")
    lang = check_language(lang)
    if db.session.scalar(select(Letter.id).where(Letter.slug == slug)) is not None:
        raise LetterError(f"a letter with slug {slug!r} already exists")
    if goal is not None and goal <= 0:
        raise LetterError("the goal must be a positive number")
    if not (accepts_organizations or accepts_individuals):
        raise LetterError("a letter must accept organisations, individuals or both")
    _check_title(title)
    letter = Letter(
        slug=slug,
        status=OPEN,
        default_lang=lang,
        goal=goal,
        place=place or None,
        date=date,
        moderate_organizations=moderate_organizations,
        accepts_organizations=accepts_organizations,
        accepts_individuals=accepts_individuals,
    )
    letter.texts.append(LetterText(lang=lang, title=title, body=body))
    db.session.add(letter)
    db.session.commit()
    return letter


class _Unchanged:
    """Marks an option that was not given (None is a value: "no goal")."""


UNCHANGED: Any = _Unchanged()


def update_letter(
    slug: str,
    *,
    goal: int | None = UNCHANGED,
    place: str | None = UNCHANGED,
    date: dt.date | None = UNCHANGED,
    accepts_organizations: bool = UNCHANGED,
    accepts_individuals: bool = UNCHANGED,
    moderate_organizations: bool = UNCHANGED,
) -> Letter:
    """Change a letter's settings; what is not given stays. None clears goal, place or date.

    Turning moderation on holds organisations that confirm from then on; those already
    listed stay listed.
    """
    letter = get_letter(slug)
    if goal is not UNCHANGED:
        if goal is not None and goal <= 0:
            raise LetterError("the goal must be a positive number")
        letter.goal = goal
    if place is not UNCHANGED:
        if place and len(place) > 200:
            raise LetterError("the place must be at most 200 characters")
        letter.place = (place or "").strip() or None
    if date is not UNCHANGED:
        letter.date = date
    if accepts_organizations is not UNCHANGED:
        letter.accepts_organizations = accepts_organizations
    if accepts_individuals is not UNCHANGED:
        letter.accepts_individuals = accepts_individuals
    if not (letter.accepts_organizations or letter.accepts_individuals):
        db.session.rollback()
        raise LetterError("a letter must accept organisations, individuals or both")
    if moderate_organizations is not UNCHANGED:
        letter.moderate_organizations = moderate_organizations
    bump_list_version(letter)
    db.session.commit()
    return letter


def translate_letter(slug: str, *, lang: str, title: str, body: str = "") -> LetterText:
    """Add or replace the text of a letter in one language."""
    lang = check_language(lang)
    _check_title(title)
    letter = get_letter(slug)
    text = next((text for text in letter.texts if text.lang == lang), None)
    if text is None:
        text = LetterText(lang=lang, title=title, body=body)
        letter.texts.append(text)
    else:
        text.title, text.body = title, body
    bump_list_version(letter)
    db.session.commit()
    return text


def set_label(slug: str, *, lang: str, code: str, label: str) -> CountryLabel:
    """Set the letter's own heading for a country or scope in one language."""
    lang = check_language(lang)  # a label under "french" would silently never show
    code = code.strip()
    code = code.lower() if code.lower() in countries.SCOPES else code.upper()
    if not countries.is_valid(code):
        raise LetterError(f"{code!r} is neither an ISO 3166-1 alpha-2 code nor a scope")
    label = label.strip()
    if not label or len(label) > 200:
        raise LetterError("the label must be 1 to 200 characters")
    letter = get_letter(slug)
    existing = next((l for l in letter.labels if l.lang == lang and l.code == code), None)
    if existing is None:
        existing = CountryLabel(lang=lang, code=code, label=label)
        letter.labels.append(existing)
    else:
        existing.label = label
    bump_list_version(letter)
    db.session.commit()
    return existing


def set_status(slug: str, status: str) -> Letter:
    if status not in (OPEN, CLOSED):
        raise LetterError(f"unknown status {status!r}")
    letter = get_letter(slug)
    letter.status = status
    bump_list_version(letter)
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
        hint = f" (did you mean {guess}?)" if guess else ""
        raise LetterError(
            f"unknown language {lang!r}{hint}: give a locale code such as fr, de or pt_BR"
        )
    if len(code) > LANG_MAX:
        raise LetterError(f"language code {code!r} is longer than {LANG_MAX} characters: "
                          f"use {_shortened(code)!r}")
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
    if not title.strip() or len(title) > 300:
        raise LetterError("the title must be 1 to 300 characters")
