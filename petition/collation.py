"""Locale-aware sort keys (Unicode Collation Algorithm, pyuca's DUCET table).

The CLDR root collation is what French, German, English and Russian readers expect for
accents (é sorts with e, ё with е). The one tailoring we need is script order: a Russian
reader expects Cyrillic before Latin, everyone else Latin first.
"""
from __future__ import annotations

from functools import lru_cache

from pyuca import Collator

_collator = Collator()

# Languages whose own script comes before Latin in their CLDR collation ([reorder Cyrl]).
_CYRILLIC_FIRST = {"ru", "uk", "be", "bg", "sr", "mk", "kk"}


def _is_cyrillic(text: str) -> bool:
    for char in text:
        if char.isalpha():
            return "\u0400" <= char <= "\u052f"
    return False


@lru_cache(maxsize=200_000)
def _uca_key(text: str) -> tuple[int, ...]:
    return _collator.sort_key(text)


def sort_key(text: str, lang: str) -> tuple[int, tuple[int, ...]]:
    """Key that orders `text` as a reader of `lang` expects."""
    script_rank = 0
    if lang.split("-")[0].split("_")[0] in _CYRILLIC_FIRST:
        script_rank = 0 if _is_cyrillic(text) else 1
    return script_rank, _uca_key(text)


def sorted_by(items, key, lang: str) -> list:
    """Sort `items` by the collation of `lang` applied to `key(item)`."""
    return sorted(items, key=lambda item: sort_key(key(item), lang))
