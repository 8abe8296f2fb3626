"""What a name or affiliation on a public list may not hold: links, and characters that
deface the list or hide the name.

The confirmation mail echoes the name to whatever address was typed: a name holding a web
address would let a stranger send phishing text from the campaign's own mail server. And a
name of stacked accents or invisible characters defaces the page and the press list.

One rule for the sign form, the back office and imports. Messages are English templates
(N_ marks them for the catalogue); callers translate them where they show them.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pycountry

# Something shaped like an address inside free text (a provenance note).
_ADDRESS_IN_TEXT = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


def holds_address(text: str) -> bool:
    """Whether free text holds an address: one there would sit in plain text in the
    database, the pages and the audit log, the one place the project promises none is."""
    return bool(_ADDRESS_IN_TEXT.search(text))


def N_(message: str) -> str:
    """Mark a message for translation; it is translated where it is shown."""
    return message


LINK = N_("Please write this without a link, web or email address.")
STACKED = N_("Please remove the stacked accent marks: they would deface the list.")
BLANK = N_("Please write something visible: this holds only blank or invisible characters.")
FILLER = N_("Please remove the invisible filler characters.")
ONE_LINE = N_("Please write this on a single line.")
DIRECTION = N_("Please remove the invisible text-direction characters.")
CONTROL = N_("Please remove the invisible control characters.")

# The longest name and affiliation a signature takes, wherever it is typed.
NAME_MAX = 200
AFFILIATION_MAX = 200

# The control-character rule, written once for the form, the back office and imports.
# Bidi embeddings, overrides and isolates can make a name read differently from what is
# stored (and reorder a whole press list); control characters and line breaks can forge
# lines in exports and mail headers. Zero-width (non-)joiners and direction marks stay:
# some scripts need them.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_ALLOWED_FORMAT = frozenset("\u200c\u200d\u200e\u200f")

# Vietnamese needs two marks on a letter (decomposed "ễ"), Indic scripts two or three;
# "Zalgo" text stacks dozens.
MAX_MARKS_PER_LETTER = 4

# Characters drawn as nothing that are neither spaces nor format characters: Hangul
# fillers, the blank Braille pattern, Khmer inherent vowels, Mongolian selectors.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f")
_SEPARATORS = frozenset("\u2028\u2029\x85")

# Domain names that no name or affiliation needs: common generic ones, plus every country
# code (ISO 3166-1 alpha-2 from pycountry) and the few country TLDs outside it.
_GENERIC_TLDS = frozenset("""
    com net org info biz edu gov mil int arpa io co app dev xyz online site top club shop
    store live tv me ly gl gd to ai cc ws su uk eu asia onion link click page web blog news
    tech cloud pro mobi name zip mov icu vip win bid loan work email network group world
    space website art xxx porn sex bet casino fun ink lol wtf today life vc gg рф
""".split())

_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*://|hxxps?\b|\bwww\d*\.")
# Obfuscated dots ("example[.]com", "example(dot)com") are dots too.
_OBFUSCATED_DOT = re.compile(r"\s*[\[({]\s*(?:\.|dot)\s*[\])}]\s*")
_TOKEN_SPLIT = re.compile(r"[\s,;:!?'\"«»“”‘’<>()\[\]{}|/\\]+")
_LABEL = re.compile(r"[\w-]+")


@lru_cache(maxsize=1)
def top_level_domains() -> frozenset[str]:
    codes = {country.alpha_2.lower() for country in pycountry.countries}
    return frozenset(codes | _GENERIC_TLDS)


def _folded(text: str) -> str:
    """What a mail client or browser would read: compatibility forms (fullwidth letters,
    "．"), ideographic full stops as dots, lower case, obfuscated dots undone."""
    text = unicodedata.normalize("NFKC", text).replace("\u3002", ".").replace("\uff61", ".")
    return _OBFUSCATED_DOT.sub(".", text.casefold())


def _looks_like_domain(token: str) -> bool:
    """"example.org", "mail.example.co.uk" — not "J.-P.", "St.", "A.B.C." or "e.V."."""
    labels = token.strip(".-_").split(".")
    if len(labels) < 2 or labels[-1] not in top_level_domains():
        return False
    # The label before the TLD has at least two characters: "M.Sc" and "e.V" are no domains.
    return len(labels[-2]) >= 2 and all(_LABEL.fullmatch(label) for label in labels)


def holds_link(text: str) -> bool:
    """Whether `text` holds a URL scheme, www., an email address or a domain name."""
    folded = _folded(text)
    if _SCHEME.search(folded) or holds_address(folded):
        return True
    return any(_looks_like_domain(token) for token in _TOKEN_SPLIT.split(folded) if "." in token)


def _marks_stacked(text: str) -> bool:
    run = 0
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.category(char).startswith("M"):
            run += 1
            if run > MAX_MARKS_PER_LETTER:
                return True
        else:
            run = 0
    return False


def _visible(char: str) -> bool:
    category = unicodedata.category(char)
    return not (char.isspace() or char in _FILLERS or category[0] in "MZC")


def clean_text(value: str | None) -> str | None:
    """Trim and NFC-normalise; keep None as None."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", value.strip())


def has_hidden_controls(text: str) -> bool:
    """Whether `text` holds control, format (but the allowed joiners and marks), private-use
    or surrogate characters."""
    return any(unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs")
               and char not in _ALLOWED_FORMAT for char in text)


def plain_text_problem(text: str) -> str | None:
    """Why `text` is not one line of plain text (an English message), or None."""
    if "\r" in text or "\n" in text:
        return ONE_LINE
    if _BIDI_CONTROLS.search(text):
        return DIRECTION
    if has_hidden_controls(text):
        return CONTROL
    return None


def problem(text: str) -> str | None:
    """Why `text` may not stand on the list (an English message), or None."""
    if any(char in _SEPARATORS for char in text):
        return ONE_LINE
    if text and not any(_visible(char) for char in text):
        return BLANK
    if any(char in _FILLERS for char in text):
        return FILLER
    if _marks_stacked(text):
        return STACKED
    if holds_link(text):
        return LINK
    return None
