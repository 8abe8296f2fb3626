"""Countries and scopes: stored as codes, named at display time in the reader's language.

Names are CLDR's (through Babel), which are the short forms people use ("Moldavie",
never "Moldova, République de"). Kosovo (XK) is included although ISO has not assigned it.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import pycountry
from babel import Locale, UnknownLocaleError, localedata
from flask_babel import force_locale, gettext

from petition.collation import sorted_by

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


def normalize_code(code: str) -> str:
    """"es" → "ES", "Europe" → "europe": the stored form of a typed code (valid or not)."""
    code = code.strip()
    return code.lower() if code.lower() in SCOPES else code.upper()


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
    # CLDR's English where the language's own data lacks the place (e.g. Corsican, Swiss
    # German), rather than a bare code such as "europe" or "XK" under a heading.
    for names in (_territories(lang), _territories("en")):
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
    return list(_choices(lang, tuple(sorted((overrides or {}).items()))))


@lru_cache(maxsize=256)
def _choices(lang: str, overrides: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    # Every sign form builds this list: sorting 250 names costs ~1 ms, so keep it per
    # language and label set (labels change rarely; a new set is a new key).
    labels = dict(overrides)
    countries = sorted_by(
        [(code, display_name(code, lang, labels)) for code in country_codes()],
        key=lambda pair: pair[1],
        lang=lang,
    )
    scopes = [(code, display_name(code, lang, labels)) for code in SCOPES]
    return tuple(countries + scopes)


# --- Resolving what people type ("Allemagne", "Etats-Unis", "Германия", "DE") to a code ---

# Looked at first, in this order, when two languages give one name to different places.
_PRIMARY_LANGS = (
    "en", "fr", "ru", "de", "es", "it", "pt", "nl", "pl", "uk", "be", "cs", "sv", "da",
    "nb", "fi", "el", "tr", "ar", "he", "fa", "hu", "ro", "bg", "sr", "hr", "ca", "eu",
    "ka", "hy", "kk", "zh", "ja", "ko",
)
_ALIASES = {
    "uk": "GB", "usa": "US", "international": "international", "internationale": "international",
    "международные": "international", "международная": "international", "world": "international",
    "great britain": "GB", "grande bretagne": "GB", "российская федерация": "RU",
}
_ARTICLES = ("the", "la", "le", "les", "l", "el", "die", "der")
_PUNCTUATION = re.compile(r"[\W_]+")


def normalize_name(text: str) -> str:
    """Case-, accent- and punctuation-blind form of a place name, for lookups."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _PUNCTUATION.sub(" ", stripped.casefold()).strip()


def _add_territories(index: dict[str, str], names: dict[str, str]) -> None:
    codes = country_codes()
    scopes = {territory: scope for scope, territory in _SCOPE_TERRITORY.items()}
    for territory, name in names.items():
        code = territory if territory in codes else scopes.get(territory)
        if code:
            index.setdefault(normalize_name(name), code)


@lru_cache(maxsize=1)
def _primary_index() -> dict[str, str]:
    index = {normalize_name(alias): code for alias, code in _ALIASES.items()}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            if hasattr(country, attribute):
                index.setdefault(normalize_name(getattr(country, attribute)), country.alpha_2)
    for lang in _PRIMARY_LANGS:
        _add_territories(index, _territories(lang))
        index.setdefault(normalize_name(_international(lang)), "international")
    return index


@lru_cache(maxsize=1)
def _full_index() -> dict[str, str]:
    # Every language CLDR knows (~300, about a second): only built when a name is not
    # found among the primary languages.
    index = dict(_primary_index())
    for identifier in localedata.locale_identifiers():
        if "_" not in identifier and identifier != "root":
            _add_territories(index, dict(Locale.parse(identifier).territories))
    return index


def _code_for(text: str) -> str | None:
    cleaned = text.strip()
    if cleaned.lower() in SCOPES:
        return cleaned.lower()
    if len(cleaned) == 2 and cleaned.upper() in country_codes():
        return cleaned.upper()
    if len(cleaned) == 3 and cleaned.isalpha():
        country = pycountry.countries.get(alpha_3=cleaned.upper())
        return country.alpha_2 if country else None
    return None


def resolve(text: str, labels: Iterable[tuple[str, str]] = ()) -> str | None:
    """The country or scope code `text` names in any language, or None.

    `labels` are a letter's own headings as (code, label) pairs ("Etat espagnol" → ES);
    they win over CLDR names.
    """
    code = _code_for(text)
    if code:
        return code
    key = normalize_name(text)
    if not key:
        return None
    candidates = [key]
    first, _, rest = key.partition(" ")
    if rest and first in _ARTICLES:
        candidates.append(rest)
    own = {normalize_name(label): label_code for label_code, label in labels}
    for index in (own, _primary_index(), None):
        index = _full_index() if index is None else index
        for candidate in candidates:
            if candidate in index:
                return index[candidate]
    return None
