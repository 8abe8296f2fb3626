"""Checks and parsers of a letter's values (slug, goal, dates, milestones, retention, embargo,
language, title, body) as typed in a form or on the command line, and LetterError, the refusal every
letter use case raises."""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError, localedata
from sqlalchemy import select

from petition.extensions import db
from petition.models import DISPLAY_CHOICES, Letter, utcnow


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


SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Taken by the back office's own pages (/admin/letters/new).
RESERVED_SLUGS = frozenset({"new"})
LANG_MAX = 8  # letter.default_lang and LetterText.lang are String(8)


def check_slug(slug: str) -> None:
    if not SLUG_RE.match(slug) or len(slug) > 80:
        raise LetterError("the slug takes lower-case letters, digits and single hyphens")
    if slug in RESERVED_SLUGS:
        raise LetterError("the slug %(slug)r is reserved: choose another", slug=slug)
    if db.session.scalar(select(Letter.id).where(Letter.slug == slug)) is not None:
        raise LetterError("a letter with slug %(slug)r already exists", slug=slug)


GOAL_MAX = 1_000_000_000  # the column is a 32-bit integer on PostgreSQL
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def check_goal(goal: int | None) -> None:
    if goal is not None and goal <= 0:
        raise LetterError("the goal must be a positive number")
    if goal is not None and goal > GOAL_MAX:
        raise LetterError("the goal must be at most %(max)d", max=GOAL_MAX)


def clean_place(place: str | None) -> str | None:
    place = (place or "").strip()
    if len(place) > 200:
        raise LetterError("the place must be at most 200 characters")
    return place or None


def check_signers(accepts_organizations: bool, accepts_individuals: bool) -> None:
    if not (accepts_organizations or accepts_individuals):
        raise LetterError("a letter must accept organisations, individuals or both")


def check_individual_display(display: str) -> None:
    if display not in DISPLAY_CHOICES:
        raise LetterError("the default display of individuals is full, initials or anonymous")


def parse_goal(value: str) -> int | None:
    """A goal as typed in a form: empty is no goal, anything else a positive whole number."""
    value = value.strip().replace(" ", "").replace("\u202f", "").replace("\xa0", "")
    if not value:
        return None
    if not _WHOLE_NUMBER.fullmatch(value):  # not str.isdigit(): "²" is a digit to it
        raise LetterError("the goal must be a whole number, not %(value)r", value=value)
    goal = int(value)
    check_goal(goal)
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


MILESTONES_MAX = 20  # a letter's own milestones; letter.milestones is a String(200)
PERCENT_MAX = 1000  # "200%": a letter may go well past its goal
_MILESTONE = re.compile(r"([0-9]+)(%?)")
_SEPARATORS = re.compile(r"[,;]")
_INNER_SPACES = re.compile(r"[\s\u202f\xa0]+")  # "1 000", "25 %" (French puts a space)


def parse_milestones(value: str) -> str | None:
    """Milestones as typed: counts ("500, 1000"), percentages of the goal ("25%, 50%"), or
    both, separated by commas or semicolons; empty or "default": 25, 50, 75 and 100 % of the
    goal. Returned as stored: "500,1000,25%,50%" (counts, then percentages, ascending)."""
    value = value.strip()
    if not value or value.lower() in ("none", "default"):
        return None
    items = set(parse_milestone_items(value))
    if len(items) > MILESTONES_MAX:
        raise LetterError("give at most %(max)d milestones", max=MILESTONES_MAX)
    if not items:
        return None
    stored = ",".join(f"{number}{'%' if percent else ''}"
                      for number, percent in sorted(items, key=lambda item: (item[1], item[0])))
    assert len(stored) <= 200  # 20 items of at most 10 digits and a comma
    return stored


def parse_milestone_items(value: str) -> list[tuple[int, bool]]:
    """(number, is a percentage) for each milestone of `value` (see parse_milestones())."""
    items = []
    for raw in _SEPARATORS.split(value):
        item = _INNER_SPACES.sub("", raw)
        if not item:
            continue  # "500, 1000," or "500,,1000"
        found = _MILESTONE.fullmatch(item)  # not str.isdigit(): "²" is a digit to it
        if found is None:
            raise LetterError("%(item)r is not a milestone: give a number of signatures such "
                              "as 500 or a percentage of the goal such as 25%%", item=raw.strip())
        number, percent = int(found.group(1)), bool(found.group(2))
        if percent and not 1 <= number <= PERCENT_MAX:
            raise LetterError("a milestone percentage must be from 1%% to %(max)d%%, not "
                              "%(item)s", max=PERCENT_MAX, item=item)
        if not percent and not 1 <= number <= GOAL_MAX:
            raise LetterError("a milestone must be from 1 to %(max)d signatures, not %(item)s",
                              max=GOAL_MAX, item=item)
        items.append((number, percent))
    return items


def check_milestones(milestones: str | None, goal: int | None) -> None:
    """Percentages need a goal to be counted from."""
    if milestones and goal is None and any(
            percent for _, percent in parse_milestone_items(milestones)):
        raise LetterError("milestones in per cent need a goal: set one, or give numbers of "
                          "signatures such as 500")


RETENTION_MIN, RETENTION_MAX = 1, 3650  # days; ten years is already a long time to keep them


def check_retention(days: int) -> None:
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
    check_retention(days)
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


def check_embargo(old: dt.datetime | None, new: dt.datetime | None) -> None:
    # An end already past would embargo nothing: most likely a typo in the date.
    if new is not None and new != old and new <= utcnow():
        raise LetterError("the embargo end %(when)s UTC has already passed",
                          when=new.isoformat(sep=" ", timespec="minutes"))


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


def check_title(title: str) -> None:
    if not title.strip() or len(title.strip()) > 300:
        raise LetterError("the title must be 1 to 300 characters")


def clean_body(body: str) -> str:
    # Browsers send textareas with CRLF; the CLI reads files with LF. One form, so that
    # saving an untouched text is seen as no change.
    return body.replace("\r\n", "\n").replace("\r", "\n")
