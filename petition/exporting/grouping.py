"""Who goes under which heading, in which order. Used by the public page and every export.

Confirmed, publicly visible signatures only. Organisations first, then individuals; within
each, countries in the collation order of the language, then regions, then international;
names inside a group in the same collation (by the key stored with each name; initials by
the initials a reader sees). Individuals who chose not to be listed are counted, never named.

The result is cached per app, letter and language, and reused for as long as the letter's
signatures and labels are unchanged: one cheap aggregate query tells. Treat it as read-only.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from .. import countries
from ..collation import cyrillic_first, is_cyrillic, sort_key, stored_key
from ..extensions import db
from ..models import (
    ANONYMOUS,
    FULL,
    INDIVIDUAL,
    INITIALS,
    ORGANIZATION,
    Letter,
    Signature,
)
from .text import clean

_CACHE_SIZE = 32
_lock = threading.Lock()


@dataclass
class Group:
    code: str
    label: str
    names: list[str] = field(default_factory=list)
    unlisted: int = 0

    @property
    def count(self) -> int:
        return len(self.names) + self.unlisted


@dataclass
class Section:
    signer_type: str
    groups: list[Group]

    @property
    def count(self) -> int:
        return sum(group.count for group in self.groups)


def initials(name: str) -> str:
    """"Jean-Paul Sartre" → "J.-P. S."."""
    parts = []
    for word in name.split():
        pieces = [piece[0] + "." for piece in word.split("-") if piece]
        parts.append("-".join(pieces))
    return " ".join(parts)


def listed_name(signer_type: str, name: str, affiliation: str | None, display: str) -> str | None:
    """The line a signatory appears as, or None when counted but not listed."""
    if signer_type == ORGANIZATION:
        return clean(name)
    if display == ANONYMOUS:
        return None
    if display == INITIALS:
        return initials(clean(name))
    affiliation = clean(affiliation)
    return f"{clean(name)}, {affiliation}" if affiliation else clean(name)


@lru_cache(maxsize=50_000)
def _initials_key(line: str) -> bytes:
    # Initials repeat a lot ("J. S."): cache their keys rather than store them.
    return stored_key(line)


def public_rows(letter_id: int) -> list[tuple]:
    """(signer_type, name, affiliation, country, display, key) of every public signature."""
    table = Signature.__table__
    query = select(
        table.c.signer_type,
        table.c.name,
        table.c.affiliation,
        table.c.country,
        table.c.display,
        table.c.collation_key,
    ).where(
        table.c.letter_id == letter_id,
        Signature.is_public,
    )
    result = db.session.connection().execute(query)
    try:
        # Plain tuples from the driver: Row objects would add ~2 µs a row, 0.2 s for 100k.
        # Safe here: both drivers return these types (str, bytes) unconverted.
        return result.cursor.fetchall()
    finally:
        result.close()


def _collect(letter_id: int, lang: str) -> dict[tuple[str, str], tuple[list, list[int]]]:
    """Sort entries and unlisted counters per (signer type, country)."""
    by_script = cyrillic_first(lang)
    buckets: dict[tuple[str, str], tuple[list, list[int]]] = {}
    # The loop runs 100k times for a big petition: listed_name() is inlined on purpose.
    for signer_type, name, affiliation, country, display, key in public_rows(letter_id):
        bucket = buckets.get((signer_type, country))
        if bucket is None:
            bucket = buckets[(signer_type, country)] = ([], [0])
        if signer_type == ORGANIZATION or display == FULL:
            line = clean(name)
            if affiliation and signer_type != ORGANIZATION:
                affiliation = clean(affiliation)
                line = f"{line}, {affiliation}" if affiliation else line
            if key is None:  # a row written around the ORM (raw SQL): compute it now
                key = stored_key(name)
        elif display == INITIALS:
            line = initials(clean(name))
            key = _initials_key(line)
        else:
            bucket[1][0] += 1
            continue
        if by_script:
            bucket[0].append((0 if is_cyrillic(line) else 1, key, line))
        else:
            bucket[0].append((key, line))
    return buckets


def _build(letter: Letter, lang: str, overrides: dict[str, str]) -> list[Section]:
    groups_by_type: dict[str, list[Group]] = {}
    for (signer_type, country), (entries, unlisted) in _collect(letter.id, lang).items():
        # Ties (same name) fall back on the whole line: "Name, affiliation".
        entries.sort()
        label = clean(countries.display_name(country, lang, overrides)) or country
        group = Group(country, label, [entry[-1] for entry in entries], unlisted[0])
        groups_by_type.setdefault(signer_type, []).append(group)
    sections = []
    for signer_type in (ORGANIZATION, INDIVIDUAL):
        groups = groups_by_type.get(signer_type)
        if groups:
            groups.sort(key=lambda g: (countries.group_rank(g.code), sort_key(g.label, lang), g.code))
            sections.append(Section(signer_type=signer_type, groups=groups))
    return sections


def _fingerprint(letter_id: int) -> tuple[Any, ...]:
    # Any insert, delete or update (ORM or Core: updated_at has an onupdate) moves one of these.
    table = Signature.__table__
    return tuple(
        db.session.execute(
            select(func.count(), func.max(table.c.id), func.max(table.c.updated_at)).where(
                table.c.letter_id == letter_id
            )
        ).one()
    )


def _cache() -> OrderedDict:
    return current_app.extensions.setdefault("petition.grouping", OrderedDict())


def _building() -> set:
    return current_app.extensions.setdefault("petition.grouping.building", set())


def group_signatories(letter: Letter, lang: str, *, fresh: bool = True) -> list[Section]:
    """Sections (organisations, then individuals) of groups in reading order.

    With fresh=False (for pages), while another thread rebuilds a changed list the previous
    one is returned instead of rebuilding it once more: a burst of visitors right after a
    signature would otherwise each spend the rebuild's ~0.4 s (100k signatures).
    """
    overrides = letter.labels_for(lang)
    stamp = (_fingerprint(letter.id), tuple(sorted(overrides.items())))
    cache, building, key = _cache(), _building(), (letter.id, lang)
    with _lock:
        hit = cache.get(key)
        if hit is not None and (hit[0] == stamp or (not fresh and key in building)):
            cache.move_to_end(key)
            return hit[1]
        building.add(key)
    try:
        sections = _build(letter, lang, overrides)
    finally:
        with _lock:
            building.discard(key)
    with _lock:
        cache[key] = (stamp, sections)
        cache.move_to_end(key)
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    return sections


def total(sections: list[Section]) -> int:
    return sum(section.count for section in sections)
