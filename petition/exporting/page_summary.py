"""What a letter's page shows of its list: a small list in full, a big one as counts per
country first, each country's names folded or on a page of its own.

Three sizes, by the names the list shows (organisations and listed individuals):
- up to `open_limit` (the 43 organisations of an appeal): every name, unfolded, as before;
- up to the page's limits: a table of counts per country, then every country's names, each
  folded in its own <details>;
- past PUBLIC_NAMES_LIMIT listed individuals (or PUBLIC_ORGANIZATIONS_LIMIT organisations):
  that kind's names are on each country's own page (country_list()), the table links there.
  The table is then made from letter_count, without reading the names (page_sections).

The order is grouping's (one ordering); the country pages page through its groups.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from petition.exporting.grouping import (
    Group,
    Section,
    group_order,
    group_signatories,
    page_sections,
)
from petition.models import INDIVIDUAL, ORGANIZATION, Letter


@dataclass(frozen=True)
class Limits:
    """The page's thresholds (settings PUBLIC_NAMES_OPEN, PUBLIC_NAMES_LIMIT,
    PUBLIC_ORGANIZATIONS_LIMIT)."""

    open_names: int
    individuals: int
    organizations: int


@dataclass
class CountryRow:
    """One line of the table of counts: a country (or region), each kind's count, and
    whether that kind's names are on the letter page (else on the country's own page)."""

    code: str
    label: str
    organizations: int = 0
    individuals: int = 0
    organizations_here: bool = False
    individuals_here: bool = False


@dataclass
class PageList:
    """The list as the letter page shows it."""

    sections: list[Section]  # with the names shown on the page (possibly none)
    rows: list[CountryRow]  # the table of counts; empty for a small list shown in full
    folded: bool  # the names shown are folded per country
    individuals_elsewhere: bool  # the individuals' names are on the countries' pages
    organizations_elsewhere: bool
    total: int
    listed: int  # names the list shows, by name or initials

    @property
    def elsewhere(self) -> bool:
        return self.individuals_elsewhere or self.organizations_elsewhere


def letter_page_list(letter: Letter, lang: str, limits: Limits) -> PageList:
    """The page's list; raises grouping.ListEmbargoed while the embargo runs.

    The same object as long as page_sections() gives the same sections (the same state of
    the list): callers may key what they make of it on its identity.
    """
    sections, individuals_elsewhere = page_sections(letter, lang, limits.individuals)
    kept = current_app.extensions.setdefault("petition.page_summary", {})
    key = (letter.id, lang, limits)
    hit = kept.get(key)
    if hit is not None and hit[0] is sections:
        return hit[1]
    made = (_counts_only(sections, lang) if letter.is_petition
            else _page_list(sections, individuals_elsewhere, lang, limits))
    kept[key] = (sections, made)
    return made


def _counts_only(sections: list[Section], lang: str) -> PageList:
    """A petition's page: the table of counts per country and signer type, nothing else
    (its groups hold no name: see collect)."""
    return PageList(sections=[], rows=_rows(sections, [], lang), folded=True,
                    individuals_elsewhere=False, organizations_elsewhere=False,
                    total=sum(section.count for section in sections), listed=0)


def _page_list(sections: list[Section], individuals_elsewhere: bool, lang: str,
               limits: Limits) -> PageList:
    organizations = sum(len(group.names) for section in sections for group in section.groups
                        if section.signer_type == ORGANIZATION)
    organizations_elsewhere = organizations > limits.organizations
    listed = sum(len(group.names) + group.folded for section in sections
                 for group in section.groups)
    total = sum(section.count for section in sections)
    shown = [section for section in sections
             if not (section.signer_type == INDIVIDUAL and individuals_elsewhere)
             and not (section.signer_type == ORGANIZATION and organizations_elsewhere)]
    small = listed <= limits.open_names and not (individuals_elsewhere or organizations_elsewhere)
    return PageList(
        sections=shown,
        rows=[] if small else _rows(sections, shown, lang),
        folded=not small,
        individuals_elsewhere=individuals_elsewhere,
        organizations_elsewhere=organizations_elsewhere,
        total=total,
        listed=listed,
    )


def _rows(sections: list[Section], shown: list[Section], lang: str) -> list[CountryRow]:
    rows: dict[str, CountryRow] = {}
    for section in sections:
        here = section in shown
        for group in section.groups:
            row = rows.setdefault(group.code, CountryRow(group.code, group.label))
            if section.signer_type == ORGANIZATION:
                row.organizations, row.organizations_here = group.count, here
            else:
                row.individuals, row.individuals_here = group.count, here
    return sorted(rows.values(), key=lambda row: group_order(row.code, row.label, lang))


@dataclass
class CountryList:
    """One country's (or region's) part of the list, a page of it at a time."""

    code: str
    label: str
    organizations: list[str]  # the names on this page, in the list's order
    individuals: list[str]
    unlisted: int  # individuals counted, not named
    listed: int  # names of this country in all
    page: int
    pages: int
    first: int  # the number of this page's first name in the country's list (from 1)


class NoSuchPart(Exception):
    """No such country in this list, or no such page of it."""


def country_list(letter: Letter, lang: str, code: str, page: int, page_size: int
                 ) -> CountryList:
    """Page `page` (from 1) of the country's names: its organisations, then its individuals.

    Raises NoSuchPart, or grouping.ListEmbargoed while the embargo runs. While another
    thread rebuilds a changed list, the previous one is read (as the page does).
    """
    sections = group_signatories(letter, lang, fresh=False, public=True)
    found: dict[str, Group] = {}
    for section in sections:
        for group in section.groups:
            if group.code == code:
                found[section.signer_type] = group
    if not found:
        raise NoSuchPart(code)
    organizations = found[ORGANIZATION].names if ORGANIZATION in found else []
    people = found.get(INDIVIDUAL)
    individuals = people.names if people else []
    listed = len(organizations) + len(individuals)
    pages = max(1, -(-listed // page_size))
    if not 1 <= page <= pages:
        raise NoSuchPart(code, page)
    start, end = (page - 1) * page_size, page * page_size
    some = next(iter(found.values()))
    return CountryList(
        code=code,
        label=some.label,
        organizations=organizations[start:end],
        individuals=individuals[max(0, start - len(organizations)):
                                max(0, end - len(organizations))],
        unlisted=people.unlisted if people else 0,
        listed=listed,
        page=page,
        pages=pages,
        first=start + 1,
    )


def page_of(position: int, page_size: int) -> int:
    """The page (from 1) of a country's list holding its name number `position` (from 0)."""
    return position // page_size + 1
