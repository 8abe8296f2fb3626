"""Locale-aware sort keys (Unicode Collation Algorithm, pyuca's DUCET table).

The CLDR root collation is what French, German, English and Russian readers expect for
accents (é sorts with e, ё with е). The one tailoring we need is script order: a Russian
reader expects Cyrillic before Latin, everyone else Latin first.

A pyuca key costs about 20 µs, so 100,000 names would take two seconds to sort. Signature
names therefore carry a stored key (`stored_key`, filled when the row is written): a byte
string whose plain byte order is the UCA order, comparable in Python and in SQL alike.
"""
from __future__ import annotations

import re
import struct
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TypeVar

from pyuca import Collator

T = TypeVar("T")

# Languages whose own script comes before Latin in their CLDR collation ([reorder Cyrl]).
_CYRILLIC_FIRST = {"ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "tg", "mn"}


@lru_cache(maxsize=1)
def _collator() -> Collator:
    # Loading the table takes ~0.2 s: only pay it in processes that sort.
    return Collator()


def fold_name(name: str) -> str:
    """A name as the moderation's sidestep check compares it: NFKC, casefolded, with
    whitespace, punctuation, symbols and invisible characters taken out ("Campagne
    #FREE-120" and "campagne free120" are one)."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return "".join(char for char in text if unicodedata.category(char)[0] not in "PZSC")


# Combining marks (accents, diaereses, breves…) that search_fold() drops after NFD; the same
# class is written into PostgreSQL's regexp_replace, so that both sides fold alike.
COMBINING_MARKS = "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
_COMBINING = re.compile(COMBINING_MARKS)


def search_fold(text: str | None) -> str | None:
    """`text` lower-cased, decomposed and without its accents, for searches that ignore both
    ("ÉLISE" and "Elise" are "elise", "Ёлка" is "елка"). Lower-case first, then NFD, as
    PostgreSQL's lower() and normalize() do it in SQL; SQLite calls this very function."""
    if text is None:
        return None
    if text.isascii():  # most names: SQLite calls this once per row searched
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFD", text.lower()))


def base_lang(lang: str) -> str:
    return lang.replace("_", "-").split("-")[0].lower()


def cyrillic_first(lang: str) -> bool:
    return base_lang(lang) in _CYRILLIC_FIRST


def is_cyrillic(text: str) -> bool:
    """Whether the first letter of `text` is Cyrillic."""
    for char in text:
        if char.isalpha():
            return "\u0400" <= char <= "\u052f"
    return False


def script_rank(text: str, lang: str) -> int:
    """0 for the script a reader of `lang` expects first, 1 for the others."""
    if cyrillic_first(lang):
        return 0 if is_cyrillic(text) else 1
    return 0


@lru_cache(maxsize=200_000)
def _uca_key(text: str) -> tuple[int, ...]:
    return _collator().sort_key(text)


def sort_key(text: str, lang: str) -> tuple[int, tuple[int, ...]]:
    """Key that orders `text` as a reader of `lang` expects."""
    return script_rank(text, lang), _uca_key(text)


def stored_key(text: str) -> bytes:
    """The UCA key of `text` as bytes: byte order equals collation order (root, no tailoring)."""
    weights = _collator().sort_key(text)
    # DUCET weights, implicit ones included, fit in 16 bits; big-endian keeps the order.
    return struct.pack(f">{len(weights)}H", *(min(weight, 0xFFFF) for weight in weights))


def sorted_by(items: Iterable[T], key: Callable[[T], str], lang: str) -> list[T]:
    """Sort `items` by the collation of `lang` applied to `key(item)`."""
    return sorted(items, key=lambda item: sort_key(key(item), lang))
