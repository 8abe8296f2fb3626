"""A letter's list as a sequence of blocks every format renders the same way.

`press` is the list as it goes under a press release; `submission` adds the letter's title
and text, place and date, counts per group and in total, the time of the export and the
SHA-256 digest of the list. The digest is that of the press list in plain text (UTF-8, LF),
so two copies of a submission in one language carry the same digest exactly when their
lists are the same, and anyone can recompute it from `export --format txt --layout press`.

The page (size, margins) and the language tag the printable formats (docx, odt, pdf) are
written with are defined here once, so the three print the same way.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

from babel import Locale
from babel.core import get_global
from babel.numbers import format_decimal
from flask_babel import force_locale, get_translations, gettext
from markdown_it import MarkdownIt

from petition.dates import long_date, long_date_time
from petition.exporting.grouping import Group, Section, group_signatories, total
from petition.models import ORGANIZATION, Letter, utcnow
from petition.text import clean

PRESS, SUBMISSION = "press", "submission"
LAYOUTS = (PRESS, SUBMISSION)


def place_and_date(place: str | None, date: dt.date | None, lang: str) -> str:
    """"Paris, le 21 mai 2026" in French, "Paris, 21 May 2026" in English."""
    if not date:
        return place or ""
    when = long_date(date, lang)
    if not place:
        return when
    if lang == "fr":
        return f"{place}, le {when}"
    return f"{place}, {when}"


class Kind(Enum):
    """What a block is; formats map each kind to a style."""

    TITLE = "title"  # the letter's title (submission)
    PARAGRAPH = "paragraph"  # the letter's text, place and date (submission)
    SECTION = "section"  # "Organisations" / "Individuals" when a list has both
    GROUP = "group"  # a country or scope heading
    NAME = "name"  # one listed signatory
    NOTE = "note"  # "and 3 other signatories"
    META = "meta"  # total, export time, digest (submission)


@dataclass(frozen=True)
class PageSetup:
    """Page size and margins in millimetres, portrait."""

    width: float
    height: float
    top: float
    bottom: float
    left: float
    right: float


# A4 is the paper nearly everywhere but North America, where the lists rarely go; 2 cm all
# round leaves room for the PDF's page numbers in the bottom margin and for a punch hole.
A4 = PageSetup(width=210, height=297, top=20, bottom=20, left=20, right=20)

# A language alone leaves word processors to guess the region (Word guesses en-US) and pick
# spelling and hyphenation from it. The app's own languages get the region whose usage
# the texts follow (the English strings spell "Organisations"); others Babel's likely one.
_REGIONS = {"en": "GB", "fr": "FR", "ru": "RU"}


@dataclass(frozen=True)
class DocumentLanguage:
    """The language a document declares, split as ODF wants it and joined as BCP 47."""

    language: str  # "fr"
    country: str | None  # "FR"
    script: str | None = None  # "Latn" only when the locale names it (sr_Latn)

    @property
    def tag(self) -> str:
        """BCP 47, as docx (w:lang), PDF (/Lang) and Dublin Core want it: "fr-FR"."""
        return "-".join(part for part in (self.language, self.script, self.country) if part)


def document_language(lang: str) -> DocumentLanguage:
    """The language and region to declare for `lang` in Babel's spelling ("fr", "pt_BR")."""
    locale = Locale.parse(lang)
    country = locale.territory or _REGIONS.get(locale.language)
    if country is None:
        likely_subtags = get_global("likely_subtags")
        likely = (locale.script and likely_subtags.get(f"{locale.language}_{locale.script}")
                  or likely_subtags.get(locale.language))
        country = Locale.parse(likely).territory if likely else None
    if country and not country.isalpha():  # "001", the world: no country for ODF's fo:country
        country = None
    return DocumentLanguage(locale.language, country, locale.script)


class Document:
    """Everything a format needs; the list is grouped on first use (csv and xlsx rows need not)."""

    def __init__(self, letter: Letter, lang: str, layout: str = PRESS, private: bool = False,
                 public: bool = False) -> None:
        self.letter, self.lang, self.layout = letter, lang, layout
        self.private = private  # csv/xlsx: real names of those who chose initials or none
        self.public = public  # for anyone: refused (ListEmbargoed) while the embargo runs
        text = letter.text_for(lang)
        self.title = clean(text.title)
        self.body = text.body or ""  # Markdown, as the organiser wrote it
        self.place = text.dateline_place  # as the text's language names it
        self.exported_at: dt.datetime = utcnow()
        self.page = A4  # docx, odt and pdf
        self.language = document_language(lang)

    @property
    def is_submission(self) -> bool:
        return self.layout == SUBMISSION

    @cached_property
    def sections(self) -> list[Section]:
        return group_signatories(self.letter, self.lang, public=self.public)

    @cached_property
    def total(self) -> int:
        return total(self.sections)

    @cached_property
    def digest(self) -> str:
        return list_digest(self.sections, self.lang)

    @cached_property
    def texts(self) -> dict[str, str]:
        """Localized fixed strings of the submission layout."""
        lang = self.lang
        num = format_decimal(self.total, locale=lang)
        when = long_date_time(self.exported_at, lang)
        with force_locale(lang):
            return {
                "total": ngettext(
                    "Total: %(num)s signatory", "Total: %(num)s signatories", self.total, num=num
                ),
                "exported": gettext("List exported on %(when)s.", when=when),
                "digest": gettext("SHA-256 of the list: %(digest)s", digest=self.digest),
                "signatories": gettext("Signatories"),
            }


def ngettext(singular: str, plural: str, n: int, **variables: str) -> str:
    """Flask-Babel's ngettext, but %(num)s may be the number already formatted ("12 345")."""
    return get_translations().ungettext(singular, plural, n) % variables


def unlisted_line(group: Group, lang: str) -> str:
    """The localized line that counts a group's unlisted signatories."""
    with force_locale(lang):
        return _unlisted_line(group, lang)


def _unlisted_line(group: Group, lang: str) -> str:
    """unlisted_line() inside force_locale(lang)."""
    num = format_decimal(group.unlisted, locale=lang)
    if group.names:
        return ngettext(
            "and %(num)s other signatory", "and %(num)s other signatories", group.unlisted, num=num
        )
    return ngettext("%(num)s signatory", "%(num)s signatories", group.unlisted, num=num)


def section_title(signer_type: str, lang: str) -> str:
    with force_locale(lang):
        return gettext("Organisations") if signer_type == ORGANIZATION else gettext("Individuals")


def list_blocks(sections: list[Section], lang: str,
                counts: bool = False) -> Iterator[tuple[Kind, str]]:
    """The list itself: section and group headings, names, unlisted counts."""
    both = len(sections) > 1
    for section in sections:
        if both:
            title = section_title(section.signer_type, lang)
            yield Kind.SECTION, (
                f"{title} ({format_decimal(section.count, locale=lang)})" if counts else title
            )
        for group in section.groups:
            label = group.label
            yield Kind.GROUP, (
                f"{label} ({format_decimal(group.count, locale=lang)})" if counts else label
            )
            for name in group.names:
                yield Kind.NAME, name
            if group.unlisted:
                yield Kind.NOTE, unlisted_line(group, lang)


def press_chunks(sections: list[Section], lang: str) -> Iterator[tuple[str, str, list[str], str]]:
    """list_blocks() without counts, a heading at a time: ("section", title, [], "") or
    ("group", label, names, unlisted line or ""). For renderers that join a group's names in
    one go rather than block by block (the press list of a big letter, on the public site)."""
    both = len(sections) > 1
    # Every note and title under one force_locale: entering it costs more than the line.
    with force_locale(lang):
        titles = {section.signer_type: section_title(section.signer_type, lang)
                  for section in sections}
        notes = {id(group): _unlisted_line(group, lang) for section in sections
                 for group in section.groups if group.unlisted}
    for section in sections:
        if both:
            yield "section", titles[section.signer_type], [], ""
        for group in section.groups:
            yield "group", group.label, group.names, notes.get(id(group), "")


def text_lines(blocks: Iterator[tuple[Kind, str]]) -> Iterator[str]:
    """Plain text: a blank line before each heading or paragraph, names and notes under theirs."""
    previous = None
    for kind, text in blocks:
        if previous is not None and kind not in (Kind.NAME, Kind.NOTE) and not (
            kind is previous is Kind.META
        ):
            yield ""
        yield text.upper() if kind is Kind.SECTION else text
        previous = kind


def press_lines(sections: list[Section], lang: str) -> Iterator[str]:
    """The plain-text press list, line by line (without line ends)."""
    return text_lines(list_blocks(sections, lang))


def list_digest(sections: list[Section], lang: str) -> str:
    """SHA-256 (hex) of the press list in plain text."""
    digest = hashlib.sha256()
    for line in press_lines(sections, lang):
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def build(letter: Letter, lang: str, layout: str = PRESS, private: bool = False,
          public: bool = False) -> Document:
    """The letter's list in `lang`, as `layout` shows it."""
    return Document(letter, lang, layout, private, public)


_markdown = MarkdownIt("commonmark", {"html": False})


def body_paragraphs(body: str) -> list[str]:
    """The letter's Markdown text as plain paragraphs, for formats without Markdown."""
    paragraphs = []
    for token in _markdown.parse(body):
        if token.type == "inline":
            parts: list[str] = []
            link_start, href = 0, ""
            for child in token.children or []:
                if child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
                elif child.type == "link_open":
                    link_start, href = len(parts), str(child.attrs.get("href") or "")
                elif child.type == "link_close":
                    # On paper a link is its words and its address: "words (url)", the
                    # address once when the words already are it.
                    words = "".join(parts[link_start:])
                    if href and words not in (href, href.removeprefix("mailto:")):
                        parts.append(f" ({href})")
                elif child.content:
                    parts.append(child.content)
            text = clean("".join(parts))
            if text:
                paragraphs.append(text)
    return paragraphs


def blocks(document: Document) -> Iterator[tuple[Kind, str]]:
    """The document as (kind, text) blocks in reading order; texts are clean, unescaped."""
    if not document.is_submission:
        yield from list_blocks(document.sections, document.lang)
        return
    yield Kind.TITLE, document.title
    for paragraph in body_paragraphs(document.body):
        yield Kind.PARAGRAPH, paragraph
    where = clean(place_and_date(document.place, document.letter.date, document.lang))
    if where:
        yield Kind.PARAGRAPH, where
    if len(document.sections) < 2:  # otherwise "Organisations" and "Individuals" say it
        yield Kind.SECTION, document.texts["signatories"]
    yield from list_blocks(document.sections, document.lang, counts=True)
    yield Kind.META, document.texts["total"]
    yield Kind.META, document.texts["exported"]
    yield Kind.META, document.texts["digest"]
