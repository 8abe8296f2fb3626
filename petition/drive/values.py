"""Checks of what a writer or an organiser types into a drive, the risky-word finder, and
DriveError, the refusal every drive use case raises."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app

from petition import addresses, names
from petition.letters.values import LetterError


class DriveError(LetterError):
    """A drive operation was refused; the message says why (an English template, translated
    on a page by translated(), as LetterError's)."""


class DriveNotFound(DriveError):
    """No personal letter, batch or drive by that name."""


BODY_MIN_DEFAULT = 1
BODY_MAX_LIMIT = 20000  # the most an organiser may allow: about ten printed pages
# A translation may run longer than its original (Russian is longer than English).
TRANSLATION_SLACK = 1.5

_LINE_ENDS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_BLANK_RUNS = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+\n")


def clean_letter_text(text: str) -> str:
    """NFC, one kind of line end, no trailing blanks, at most one empty line in a row."""
    text = unicodedata.normalize("NFC", _LINE_ENDS.sub("\n", text or ""))
    text = _TRAILING.sub("\n", text.replace("\t", "    "))
    return _BLANK_RUNS.sub("\n\n", text).strip()


class CheckedText(str):
    """A letter's text as check_letter_text() returned it: cleaned, without link or control
    character. The form's validator checks the text; the use case takes its CheckedText as
    it is (checked_letter_text): checking it twice was 1.4 ms of a 14 ms write. Anything
    made from it (strip(), +) is a plain str again, and is checked."""

    __slots__ = ()


def checked_letter_text(text: str, limit: int) -> str:
    """check_letter_text(), which a CheckedText within `limit` has passed already."""
    if type(text) is CheckedText and len(text) <= limit:
        return text
    return check_letter_text(text, limit)


# What a link needs in the text as names.holds_link reads it (invisible characters dropped,
# NFKC, ideographic full stops as dots, case folded: _read_as() below): an "@", "://",
# "hxxp" or "www" (_SIGNS); two colons around hex digits (an IPv6 address); a dot between
# two characters of a host name's labels (a domain, an IPv4 address: _DOT, _is_label_char);
# or an obfuscated dot ("[.]", "(dot)"), which holds_link reads as a dot.
_SIGNS = ("@", "://", "hxxp", "www")
_IPV6 = re.compile(r":[0-9a-f:.]*:")
_OBFUSCATED_DOT = re.compile(r"[\[({]\s*(?:\.|dot)\s*[\])}]")
_DOT = re.compile(r"(?<=\S)\.(?=\S)")
# names._IGNORABLE: dropped by holds_link's reading, as format characters (Cf) are.
_IGNORABLE = frozenset("\u034f") | frozenset(map(chr, range(0xFE00, 0xFE10)))


def _read_as(text: str) -> str:
    """`text` as names.holds_link folds it, but for obfuscated dots (_may_hold_link finds
    them). Each step maps a character, or a run between whitespace, on its own: a word's
    reading is a piece of the whole text's."""
    drop = {char for char in set(text) if char > "\x7f"  # ASCII has none to drop
            and (unicodedata.category(char) == "Cf" or char in _IGNORABLE
                 or 0xE0100 <= ord(char) <= 0xE01EF)}
    if drop:
        text = "".join(char for char in text if char not in drop)
    text = unicodedata.normalize("NFKC", text).replace("\u3002", ".").replace("\uff61", ".")
    return text.casefold()


def _is_label_char(char: str) -> bool:
    """A character a host name's label may start or end with (names._is_label)."""
    return char.isalnum() or char == "_" or unicodedata.category(char)[0] == "M"


def _may_hold_link(text: str) -> bool:
    """False only when no word of `text` can hold a link: nothing a link needs is in the
    whole text's reading. Most letters hold none: holds_link on each word cost 1.4 ms for
    800 characters, this 0.05 ms (tests/test_drive_write_path.py holds the two alike)."""
    read = _read_as(text)
    if any(sign in read for sign in _SIGNS):
        return True
    if ":" in read and _IPV6.search(read):
        return True
    if ("(" in read or "[" in read or "{" in read) and _OBFUSCATED_DOT.search(read):
        return True
    return any(_is_label_char(read[found.start() - 1]) and _is_label_char(read[found.end()])
               for found in _DOT.finditer(read))


def _link_word(text: str) -> str | None:
    """The first word of `text` that is a link, a web or an email address."""
    if not _may_hold_link(text):
        return None
    for word in text.split():
        if names.holds_link(word):
            return word.strip(".,;:!?()[]{}«»\"'")
    return None


_HIDDEN = ("Cc", "Cf", "Co", "Cs")
_SHOWN = frozenset("\n\u200c\u200d")
# ASCII's hidden characters: its controls (Cc), the line feed aside.
_ASCII_HIDDEN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def _holds_hidden(text: str) -> bool:
    """Whether `text` holds control, format (but the joiners), private-use or surrogate
    characters; each character beyond ASCII looked at once (a letter has a few dozen)."""
    return bool(_ASCII_HIDDEN.search(text)) or any(
        char > "\x7f" and unicodedata.category(char) in _HIDDEN and char not in _SHOWN
        for char in set(text))


def check_letter_text(text: str, limit: int) -> CheckedText:
    """The letter's text, cleaned; DriveError if it is empty, too long, holds invisible
    controls, or a link or an address (printed for a censor, it would stop the letter)."""
    text = clean_letter_text(text)
    if not text:
        raise DriveError("Please write your letter.")
    if len(text) > limit:
        raise DriveError("The letter is %(length)d characters long; the limit is %(limit)d.",
                         length=len(text), limit=limit)
    if _holds_hidden(text):
        raise DriveError("Please remove the invisible control characters.")
    word = _link_word(text)
    if word is not None:
        raise DriveError("Please write the letter without links or web or email addresses "
                         "(%(word)s): the letter is printed, and a censor would stop it.",
                         word=word)
    return CheckedText(text)


def check_signature(name: str) -> str:
    """How the letter is signed: one line, no link, not blank."""
    name = names.clean_text(name) or ""
    problem = names.plain_text_problem(name) or names.problem(name)
    if not name:
        raise DriveError("Please say how the letter is signed.")
    if problem is not None:
        raise DriveError(problem)
    if len(name) > names.NAME_MAX:
        raise DriveError("The signature is longer than %(limit)d characters.",
                         limit=names.NAME_MAX)
    return name


# Sealing: what a writer gives is kept encrypted at rest.

def seal(text: str | None) -> bytes | None:
    return None if text is None else addresses.encrypt(text)


def unseal(token: bytes | None) -> str | None:
    return None if token is None else addresses.decrypt(token)


def seal_bytes(data: bytes) -> bytes:
    return addresses.fernet(current_app.config["EMAIL_KEY"]).encrypt(data)


def unseal_bytes(token: bytes) -> bytes:
    return addresses.fernet(current_app.config["EMAIL_KEY"]).decrypt(bytes(token))


# Risky words: what prison censors refuse.

@dataclass(frozen=True)
class Passage:
    """Where a risky word or phrase stands in a text, and which entry of the list it is."""

    start: int
    end: int
    word: str


def word_list(text: str) -> list[str]:
    """The organiser's list, one word or phrase per line; blank lines and repeats dropped."""
    seen: dict[str, None] = {}
    for line in (text or "").splitlines():
        entry = " ".join(line.split())
        if entry and entry.casefold() not in {key.casefold() for key in seen}:
            seen[entry] = None
    return list(seen)


@lru_cache(maxsize=64)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    # An entry is a whole word or phrase ("war" never marks "warm"); one ending in "*" is a
    # stem that may go on, for languages that inflect ("войн*" finds "война" and "войны",
    # never "свойне"). Any spacing matches a phrase's space. Longest first, so a phrase
    # wins over a word inside it.
    alternatives = []
    for word in sorted(words, key=len, reverse=True):
        stem = word.endswith("*")
        body = re.escape(word.rstrip("*").strip()).replace(r"\ ", r"\s+")
        if body:
            alternatives.append(body + (r"\w*" if stem else r"(?!\w)"))
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


def risky_passages(text: str, words: list[str]) -> list[Passage]:
    """Every passage of `text` the list names, in order."""
    pattern = _pattern(tuple(words))
    if pattern is None or not text:
        return []
    return [Passage(found.start(), found.end(), found.group(0)) for found in pattern.finditer(text)]
