"""Countries and scopes: stored as codes, named at display time in the reader's language.

Names are CLDR's (through Babel), which are the short forms people use ("Moldavie",
never "Moldova, République de"). Kosovo (XK) is included although ISO has not assigned it.
"""
from __future__ import annotations

from functools import lru_cache

import pycountry
from babel import Locale, UnknownLocaleError
from flask_babel import force_locale, gettext

from .collation import sorted_by

# Regions and a non-country group, in the order they follow the countries.
SCOPES: tuple[str, ...] = ("europe", "africa", "americas", "asia", "oceania", "international")
# CLDR's region codes give us localized region names for free.
_SCOPE_TERRITORY = {
    "europe": "150",
    "africa": "002",
    "americas": "019",
    "asia": "142",
    "oceania": "009",
}
EXTRA_COUNTRIES = ("XK",)


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    codes = {country.alpha_2 for country in pycountry.countries}
    return frozenset(codes | set(EXTRA_COUNTRIES))


def is_country(code: str) -> bool:
    return code in country_codes()


def is_scope(code: str) -> bool:
    return code in SCOPES


def is_valid(code: str) -> bool:
    return is_country(code) or is_scope(code)


@lru_cache(maxsize=64)
def _territories(lang: str) -> dict[str, str]:
    try:
        return dict(Locale.parse(lang).territories)
    except (UnknownLocaleError, ValueError):
        return dict(Locale.parse("en").territories)


def _international(lang: str) -> str:
    with force_locale(lang):
        return gettext("International")


def cldr_name(code: str, lang: str) -> str:
    """The localized name without per-letter overrides."""
    if code == "international":
        return _international(lang)
    territory = _SCOPE_TERRITORY.get(code, code)
    names = _territories(lang)
    if territory in names:
        return names[territory]
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


def display_name(code: str, lang: str, overrides: dict[str, str] | None = None) -> str:
    """The heading for `code` in `lang`, the letter's own label first when it has one."""
    if overrides and code in overrides:
        return overrides[code]
    return cldr_name(code, lang)


def group_rank(code: str) -> int:
    """Countries first, then regions in SCOPES order, then international."""
    if code in SCOPES:
        return 1 + SCOPES.index(code)
    return 0


def country_choices(lang: str, overrides: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(code, name) pairs for a select: countries in collation order, then the scopes."""
    countries = sorted_by(
        [(code, display_name(code, lang, overrides)) for code in country_codes()],
        key=lambda pair: pair[1],
        lang=lang,
    )
    scopes = [(code, display_name(code, lang, overrides)) for code in SCOPES]
    return countries + scopes
