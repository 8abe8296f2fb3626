""""Find a name on this list": a search over what the list already shows, nothing else.

The index is made of the public list's lines (grouping, public=True): a name shown by
initials is found by its initials only, a signatory counted but not listed is never found,
and nothing is answered while the embargo runs. It is one string of every line folded
(accents dropped, case folded, punctuation as spaces), one line each, and the offsets where
lines start: a query is one str.find() loop over ~3 MB for 100,000 names, a few
milliseconds, then a bisect per hit. Built once per list version and language in each
process; after a change the previous index answers while a thread builds the next
(grouping.cached_or_previous), and the answer says so.
"""
from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_right
from dataclasses import dataclass

from petition.exporting.collect import between_batches
from petition.exporting.grouping import cached_or_previous, group_signatories, public_state
from petition.exporting.press_cache import _yield_to_requests as yield_to_requests
from petition.extensions import db
from petition.models import ORGANIZATION, Letter

MIN_QUERY = 2  # letters or digits: one would match half the list
MAX_QUERY = 200  # the longest name a form takes
SHOWN = 20  # matches listed in an answer
COUNTED = 1000  # matches counted past those shown, at most
_CHUNK = 5000  # lines folded at a time (one call holds the GIL throughout)
# Combining marks (what NFKD splits from a letter: accents, the diaeresis of ё and й's breve).
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_GAPS = re.compile(r"[^\w\n]+")
_EDGES = re.compile(r" *\n *")


class NameSearchError(Exception):
    """A query the search cannot take."""


class QueryTooShort(NameSearchError):
    """Fewer than MIN_QUERY letters or digits."""


class QueryTooLong(NameSearchError):
    """More than MAX_QUERY characters."""


def _fold_lines(text: str) -> str:
    """fold() of each line of `text`, in one pass over all of them."""
    text = _MARKS.sub("", unicodedata.normalize("NFKD", text)).casefold()
    return _EDGES.sub("\n", _GAPS.sub(" ", text))


def fold(text: str) -> str:
    """What a line or a query is compared as: no accents, no case, words split by one space."""
    return _fold_lines(text.replace("\n", " ")).strip()


@dataclass(frozen=True)
class Part:
    """A group of the list: a country's organisations or its individuals."""

    signer_type: str
    code: str
    label: str
    offset: int  # names of the country listed before this group (its organisations)


class NameIndex:
    """Every line of one list, folded, with where each came from."""

    def __init__(self, parts: list[Part], lines: list[str], part_of: array,
                 position: array) -> None:
        self.parts = parts
        self.lines = lines
        self.part_of = part_of  # per line: index into parts
        self.position = position  # per line: its number in its country's list (from 0)
        chunks = []
        for start in range(0, len(lines), _CHUNK):
            chunks.append(_fold_lines("\n".join(lines[start:start + _CHUNK])))
            if (pause := getattr(between_batches, "pause", None)) is not None:
                pause()  # a build in a thread of its own lets this process's requests go first
        folded = "\n" + "\n".join(chunks) + "\n"
        lengths = [len(line) for line in folded.split("\n")[1:-1]] if lines else []
        if len(lengths) != len(lines):  # a line NFKD split in two (none known): one by one
            folded = "\n" + "\n".join(fold(line) for line in lines) + "\n"
            lengths = [len(line) for line in folded.split("\n")[1:-1]]
        starts = array("q")
        offset = 1
        for length in lengths:
            starts.append(offset)
            offset += length + 1
        self.text = folded
        self.starts = starts

    def __len__(self) -> int:
        return len(self.lines)

    def find(self, query: str) -> tuple[list[int], int]:
        """Lines where a word starts with `query` (folded), at most SHOWN of them in list
        order, and how many more match (counted up to COUNTED)."""
        found: list[int] = []
        more = 0
        text, at = self.text, 0
        last = -1
        while more < COUNTED:
            at = text.find(query, at)
            if at < 0:
                break
            if text[at - 1] in " \n":
                line = bisect_right(self.starts, at) - 1
                if line != last:
                    last = line
                    if len(found) < SHOWN:
                        found.append(line)
                    else:
                        more += 1
            at += 1
        return found, more


def build_index(letter_id: int, lang: str) -> NameIndex:
    """The index of the letter's public list as readers of `lang` see it."""
    letter = db.session.get(Letter, letter_id)
    if letter is None:
        return NameIndex([], [], array("I"), array("I"))
    sections = group_signatories(letter, lang, public=True)
    organizations = {group.code: len(group.names) for section in sections
                     for group in section.groups if section.signer_type == ORGANIZATION}
    parts: list[Part] = []
    lines: list[str] = []
    part_of, position = array("I"), array("I")
    for section in sections:
        for group in section.groups:
            offset = 0 if section.signer_type == ORGANIZATION else organizations.get(
                group.code, 0)
            number = len(parts)
            parts.append(Part(section.signer_type, group.code, group.label, offset))
            lines.extend(group.names)
            part_of.extend([number] * len(group.names))
            position.extend(range(offset, offset + len(group.names)))
    return NameIndex(parts, lines, part_of, position)


@dataclass(frozen=True)
class Match:
    line: str
    signer_type: str
    code: str
    label: str
    position: int  # in the country's list, from 0


@dataclass(frozen=True)
class SearchAnswer:
    query: str
    matches: list[Match]
    more: int  # matches past those listed (at most COUNTED)
    listed: int  # names the list shows
    current: bool  # False: the list changed a moment ago and this answer is from before

    @property
    def countries(self) -> list[str]:
        """The labels the matches are under, each once, in the list's order."""
        return list(dict.fromkeys(match.label for match in self.matches))


def search(letter: Letter, lang: str, query: str) -> SearchAnswer:
    """The listed names where a word starts with `query`, accents and case aside.

    Raises QueryTooShort, QueryTooLong, or grouping.ListEmbargoed while the embargo runs
    (read from the database, as the page does).
    """
    if len(query) > MAX_QUERY:
        raise QueryTooLong(query)
    folded = fold(query)
    if sum(char.isalnum() for char in folded) < MIN_QUERY:
        raise QueryTooShort(query)
    stamp = public_state(letter.id).token
    letter_id = letter.id
    index, current = cached_or_previous((letter_id, lang, "names"), stamp,
                                        lambda: build_index(letter_id, lang),
                                        pause=yield_to_requests)
    found, more = index.find(folded)
    matches = []
    for line in found:
        part = index.parts[index.part_of[line]]
        matches.append(Match(index.lines[line], part.signer_type, part.code, part.label,
                             index.position[line]))
    return SearchAnswer(query=query.strip(), matches=matches, more=more, listed=len(index),
                        current=current)
