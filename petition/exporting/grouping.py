"""Who goes under which heading, in which order. Used by the public page and every export.

Confirmed, publicly visible signatures only. Organisations first, then individuals; within
each, countries in the collation order of the language, then regions, then international;
names inside a group in the same collation. Individuals who chose not to be listed are
counted, never named.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from .. import countries
from ..collation import sort_key
from ..extensions import db
from ..models import (
    ANONYMOUS,
    CONFIRMED,
    INDIVIDUAL,
    INITIALS,
    ORGANIZATION,
    PUBLIC_MODERATION,
    Letter,
    Signature,
)


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
        return name
    if display == ANONYMOUS:
        return None
    if display == INITIALS:
        return initials(name)
    return f"{name}, {affiliation}" if affiliation else name


def public_rows(letter_id: int):
    """(signer_type, name, affiliation, country, display) of every publicly counted signature."""
    return db.session.execute(
        select(
            Signature.signer_type,
            Signature.name,
            Signature.affiliation,
            Signature.country,
            Signature.display,
        ).where(
            Signature.letter_id == letter_id,
            Signature.status == CONFIRMED,
            Signature.moderation.in_(PUBLIC_MODERATION),
        )
    )


def group_signatories(letter: Letter, lang: str) -> list[Section]:
    """Sections (organisations, then individuals) of groups in reading order."""
    overrides = letter.labels_for(lang)
    by_type: dict[str, dict[str, Group]] = {ORGANIZATION: {}, INDIVIDUAL: {}}
    for signer_type, name, affiliation, country, display in public_rows(letter.id):
        groups = by_type.setdefault(signer_type, {})
        group = groups.get(country)
        if group is None:
            label = countries.display_name(country, lang, overrides)
            group = groups[country] = Group(code=country, label=label)
        line = listed_name(signer_type, name, affiliation, display)
        if line is None:
            group.unlisted += 1
        else:
            group.names.append(line)
    sections = []
    for signer_type in (ORGANIZATION, INDIVIDUAL):
        groups = list(by_type[signer_type].values())
        if not groups:
            continue
        for group in groups:
            group.names.sort(key=lambda text: sort_key(text, lang))
        groups.sort(key=lambda g: (countries.group_rank(g.code), sort_key(g.label, lang)))
        sections.append(Section(signer_type=signer_type, groups=groups))
    return sections
