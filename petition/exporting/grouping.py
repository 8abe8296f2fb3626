"""Who goes under which heading, in which order. Used by the public page and every export.

Confirmed, publicly visible signatures only. Organisations first, then individuals; within
each, countries in the collation order of the language, then regions, then international;
names inside a group in the same collation (by the key stored with each name; initials by
the initials a reader sees). Individuals who chose not to be listed are counted, never named.

The result is cached per process, letter and language, keyed on the letter's list_token,
which every change to its public signatures or labels renews in its own transaction: a cache
hit costs one primary-key read. Treat the result as read-only.

The public page of a letter with more listed individuals than PUBLIC_NAMES_LIMIT shows them
as counts per country only (page_sections): it is then built from the organisations' rows
and the individuals' counts kept in letter_count, without reading or sorting every name.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import Row, select

from petition import countries
from petition.collation import is_cyrillic, sort_key
from petition.exporting.collect import between_batches, collect
from petition.extensions import db
from petition.letters import counting
from petition.models import (
    ANONYMOUS,
    INDIVIDUAL,
    INITIALS,
    ORGANIZATION,
    CountryLabel,
    Letter,
    initials,
    utcnow,
)
from petition.text import clean

logger = logging.getLogger(__name__)
_CACHE_SIZE = 32
_lock = threading.Lock()
T = TypeVar("T")


@dataclass
class Group:
    code: str
    label: str
    names: list[str] = field(default_factory=list)
    unlisted: int = 0
    # Listed signatories counted but not carried by name: the page's individuals past
    # PUBLIC_NAMES_LIMIT (their names are in the full list only).
    folded: int = 0

    @property
    def count(self) -> int:
        return len(self.names) + self.folded + self.unlisted


@dataclass
class Section:
    signer_type: str
    groups: list[Group]

    @property
    def count(self) -> int:
        return sum(group.count for group in self.groups)


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


def entry_order(line: str, key: bytes, by_script: bool) -> tuple[int, bytes, str]:
    """Where a listed line goes within its group: the one ordering of pages, exports and
    spreadsheets. By the stored key of what the list shows (never a hidden name), the whole
    line breaking ties; for a Russian reader Cyrillic names first."""
    return (0 if not by_script or is_cyrillic(line) else 1, key, line)


def _labels(letter_id: int, lang: str) -> dict[str, str]:
    # Read after the version, not from the letter loaded earlier: see group_signatories().
    rows = db.session.execute(select(CountryLabel.code, CountryLabel.label).where(
        CountryLabel.letter_id == letter_id, CountryLabel.lang == lang))
    return dict(rows.tuples().all())


def _grouped(letter_id: int, lang: str, overrides: dict[str, str],
             signer_type: str | None = None) -> dict[str, list[Group]]:
    """Groups of named signatories (of one signer type if given), names in order."""
    groups_by_type: dict[str, list[Group]] = {}
    for (kind, country), bucket in collect(letter_id, lang, signer_type).items():
        group = Group(country, _label(country, lang, overrides), bucket.names(), bucket.unlisted)
        groups_by_type.setdefault(kind, []).append(group)
    return groups_by_type


def _label(code: str, lang: str, overrides: dict[str, str]) -> str:
    return clean(countries.display_name(code, lang, overrides)) or code


def _build(letter_id: int, lang: str) -> list[Section]:
    return _sections(_grouped(letter_id, lang, _labels(letter_id, lang)), lang)


def _build_folded(letter_id: int, lang: str, organizations: list[Group],
                  counts: dict[tuple[str, str], tuple[int, int]]) -> list[Section]:
    """Organisations' groups as given (from _grouped()); individuals as counts per country,
    from `counts` (counting.table), without reading their rows."""
    overrides = _labels(letter_id, lang)
    individuals = [Group(country, _label(country, lang, overrides), [], unlisted, folded=listed)
                   for (kind, country), (listed, unlisted) in counts.items() if kind == INDIVIDUAL]
    # A copy: the organisations' list is shared with other pages through the cache.
    return _sections({ORGANIZATION: list(organizations), INDIVIDUAL: individuals}, lang)


def _sections(groups_by_type: dict[str, list[Group]], lang: str) -> list[Section]:
    """Organisations, then individuals; groups in reading order."""
    sections = []
    for signer_type in (ORGANIZATION, INDIVIDUAL):
        groups = groups_by_type.get(signer_type)
        if groups:
            groups.sort(key=lambda g: group_order(g.code, g.label, lang))
            sections.append(Section(signer_type=signer_type, groups=groups))
    return sections


def group_order(code: str, label: str, lang: str) -> tuple[int, Any, str]:
    """Where a country's group goes: countries, then regions, then international; each in
    the collation of `lang` by the label the reader sees."""
    return (countries.group_rank(code), sort_key(label, lang), code)


def list_token(letter_id: int) -> str:
    """The letter's list token as committed now (not as loaded earlier in the session)."""
    row = db.session.execute(select(Letter.list_token, Letter.list_version)
                             .where(Letter.id == letter_id)).one_or_none()
    return _token(row) if row is not None else ""


def _cache() -> OrderedDict:
    return current_app.extensions.setdefault("petition.grouping", OrderedDict())


def _building() -> set:
    return current_app.extensions.setdefault("petition.grouping.building", set())


class ListEmbargoed(Exception):
    """The list is under embargo: the public may not have it yet."""


@dataclass(frozen=True)
class ListState:
    """What the public list is now, as committed: its token and when it last changed."""

    token: str
    organizations_version: int
    changed_at: dt.datetime | None
    # False for a letter whose token is NULL (a row written around the ORM): its token is
    # then made of list_version, fine in one process, not unique enough to share.
    shareable: bool = True


def _token(row: Row[Any]) -> str:
    return row.list_token or f"version-{row.list_version or 0}"


def public_state(letter_id: int) -> ListState:
    """The list's state as committed now; ListEmbargoed while the embargo, as committed now
    (not as loaded earlier), still runs. Read before any cache is asked, shared or not."""
    row = db.session.execute(select(Letter.list_token, Letter.list_version,
                                    Letter.organizations_version, Letter.list_changed_at,
                                    Letter.embargo_until)
                             .where(Letter.id == letter_id)).one_or_none()
    if row is None:
        return ListState("", 0, None, shareable=False)
    if row.embargo_until is not None and utcnow() < row.embargo_until:
        raise ListEmbargoed(letter_id)
    return ListState(_token(row), row.organizations_version or 0, row.list_changed_at,
                     shareable=bool(row.list_token))


def group_signatories(letter: Letter, lang: str, *, fresh: bool = True,
                      public: bool = False) -> list[Section]:
    """Sections (organisations, then individuals) of groups in reading order.

    With fresh=False (for pages), while another thread rebuilds a changed list the previous
    one is returned instead of rebuilding it once more: a burst of visitors right after a
    signature would otherwise each spend the rebuild's ~0.4 s (100k signatures).

    With public=True (pages and files anyone may fetch) it raises ListEmbargoed while the
    letter's embargo runs, read from the database, not from `letter`: the cache holds the
    list the organisers exported during the embargo, and must not hand it to the public.
    """
    # The version is read before the rows and labels, so what is built is at least as new as
    # the version it is filed under: a change committed in between bumps the version again
    # and the next reader rebuilds. Never the other way round, which could file old rows
    # under a new version for good.
    stamp = public_state(letter.id).token if public else list_token(letter.id)
    return _cached((letter.id, lang), stamp, fresh, lambda: _build(letter.id, lang))


def build_public(letter_id: int, lang: str) -> list[Section]:
    """The public list built afresh, cached nowhere; ListEmbargoed while the embargo runs."""
    public_state(letter_id)
    return _build(letter_id, lang)


def page_sections(letter: Letter, lang: str, names_limit: int) -> tuple[list[Section], bool]:
    """What the public page lists, and whether its individuals are folded into counts.

    Up to `names_limit` listed individuals: group_signatories(). Past it, the organisations
    by name and the individuals as counts per country (Group.folded), from letter_count:
    rebuilt after a change without reading or sorting the individuals' rows. Raises
    ListEmbargoed as group_signatories(public=True) does; a rebuilding thread's previous
    result is returned meanwhile (fresh=False).
    """
    # Before the counts and rows: see group_signatories().
    state = public_state(letter.id)
    stamp, organizations_stamp = state.token, state.organizations_version

    def organizations() -> list[Group]:
        # Kept across changes that touch individuals only (organizations_version).
        return _grouped(letter.id, lang, _labels(letter.id, lang), ORGANIZATION).get(
            ORGANIZATION, [])

    # What is built is filed under `stamp`: so the parts are fresh, never a previous list
    # (the page as a whole is: while one thread builds it, others get the previous page).
    def build() -> tuple[list[Section], bool]:
        counts = counting.table(letter.id)
        if counting.listed_individuals(counts) <= names_limit:
            return group_signatories(letter, lang, public=True), False
        groups = _cached((letter.id, lang, "organizations"), organizations_stamp, True,
                         organizations)
        return _build_folded(letter.id, lang, groups, counts), True

    return _cached((letter.id, lang, "page"), stamp, False, build)


def _cached(key: tuple, stamp: object, fresh: bool, build: Callable[[], T]) -> T:
    """build() once per `stamp` (the list token) and key in this process.

    Not fresh: while another thread builds, its previous result is returned instead.
    """
    cache, building = _cache(), _building()
    with _lock:
        hit = cache.get(key)
        if hit is not None and (hit[0] == stamp or (not fresh and key in building)):
            cache.move_to_end(key)
            return hit[1]
        building.add(key)
    try:
        value = build()
    finally:
        with _lock:
            building.discard(key)
    with _lock:
        cache[key] = (stamp, value)
        cache.move_to_end(key)
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    return value


def cached_or_previous(key: tuple, stamp: object, build: Callable[[], T],
                       pause: Callable[[], None] | None = None) -> tuple[T, bool]:
    """build()'s value for `stamp` and True; or, when this process holds a value for an
    earlier stamp, that value and False while a thread of its own builds the new one.

    For answers that may be a moment old (the name search): a reader right after a change
    waits for nothing, and the change shows as soon as its build is done. `build` runs in
    an application context of its own there: it must take ids, not loaded rows; `pause`,
    called there between batches of rows, lets the process's requests go first.
    """
    cache, building = _cache(), _building()
    with _lock:
        hit = cache.get(key)
        if hit is not None and hit[0] == stamp:
            cache.move_to_end(key)
            return hit[1], True
        if hit is not None:
            if key not in building:
                building.add(key)
                _refresh_in_thread(key, stamp, build, pause)
            return hit[1], False
    return _cached(key, stamp, True, build), True


def _refresh_in_thread(key: tuple, stamp: object, build: Callable[[], T],
                       pause: Callable[[], None] | None) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        between_batches.pause = pause
        try:
            with app.app_context():
                _cached(key, stamp, True, build)
        except ListEmbargoed:  # set meanwhile: the next reader is told so
            pass
        except Exception:  # a reader keeps the previous answer; the next one tries again
            logger.exception("rebuilding %s failed", key)
        finally:
            with _lock:
                building.discard(key)

    building = _building()
    thread = threading.Thread(target=run, name=f"petition-refresh-{key}", daemon=True)
    app.extensions.setdefault("petition.grouping.threads", {})[key] = thread
    thread.start()


def total(sections: list[Section]) -> int:
    return sum(section.count for section in sections)
