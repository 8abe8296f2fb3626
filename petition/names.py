"""What a name or affiliation on a public list may not hold: links, and characters that
deface the list or hide the name.

The confirmation mail echoes the name to whatever address was typed: a name holding a web
address would let a stranger send phishing text from the campaign's own mail server. And a
name of stacked accents or invisible characters defaces the page and the press list.

One rule for the sign form, the back office and imports. Messages are English templates
(N_ marks them for the catalogue); callers translate them where they show them.
"""
from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import lru_cache

from confusable_homoglyphs import categories, confusables
from publicsuffixlist import PublicSuffixList

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

_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*://|hxxps?\b|\bwww\d*\.")
# Obfuscated dots ("example[.]com", "example(dot)com") are dots too.
_OBFUSCATED_DOT = re.compile(r"\s*[\[({]\s*(?:\.|dot)\s*[\])}]\s*")
_TOKEN_SPLIT = re.compile(r"[\s,;:!?'\"«»“”‘’<>()\[\]{}|/\\]+")
# A host name followed by a path ("t.me/xyz", "wa.me:443/1"): a link whatever its length.
_HOST_WITH_PATH = re.compile(r"((?:[^\s./:@]+\.)+[^\s./:@]+)(?::[0-9]+)?/")
# IP literals: dotted IPv4 ("192.168.1.1/login"), IPv6 bare or in brackets ("[::1]").
_IPV4 = re.compile(r"(?<![0-9.])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?!\.?[0-9])")
_IPV6 = re.compile(r"(?<![\w:.])[0-9a-f]*:[0-9a-f:.]*:[0-9a-f.]*(?:%\w+)?(?![\w:])")
# Invisible characters a mail client skips when it reads an address: format characters
# (category Cf: zero-width (non-)joiners, soft hyphens, word joiners, direction marks),
# the combining grapheme joiner and variation selectors. "secure-bank\u200d.com" is a
# domain to whoever reads it.
_IGNORABLE = frozenset("\u034f") | frozenset(map(chr, range(0xFE00, 0xFE10)))


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    """The public suffix list the package ships (ICANN section: real top-level domains and
    the suffixes under them, "co.uk"), instead of a hand list that misses "support"."""
    return PublicSuffixList(accept_unknown=False, only_icann=True)


def _readable(char: str) -> bool:
    return unicodedata.category(char) != "Cf" and char not in _IGNORABLE \
        and not 0xE0100 <= ord(char) <= 0xE01EF


def _folded(text: str) -> str:
    """What a mail client or browser would read: invisible characters dropped,
    compatibility forms (fullwidth letters, "．"), ideographic full stops as dots, lower
    case, obfuscated dots undone."""
    text = "".join(char for char in text if _readable(char))
    text = unicodedata.normalize("NFKC", text).replace("\u3002", ".").replace("\uff61", ".")
    return _OBFUSCATED_DOT.sub(".", text.casefold())


def _is_label(label: str) -> bool:
    """A label of a host name: letters, digits, marks (IDNs), "-" inside, "_"."""
    return bool(label) and not label.startswith("-") and not label.endswith("-") and all(
        char.isalnum() or char in "-_" or unicodedata.category(char)[0] == "M"
        for char in label)


def _public_suffix_of(host: str) -> str | None:
    """The public suffix `host` ends in ("co.uk", "support"), None if none or if `host` is
    not made of host-name labels."""
    if not all(_is_label(label) for label in host.split(".")):
        return None
    try:
        return _suffixes().publicsuffix(host)
    except (ValueError, UnicodeError):  # a label IDNA cannot encode
        return None


def _looks_like_domain(token: str, *, with_path: bool = False) -> bool:
    """"example.org", "mail.example.co.uk", "paypal-verify.support" — not "J.-P.", "St.",
    "A.B.C.", "e.V." or "M.Sc."; with a path after it, "t.me" too."""
    host = token.strip(".-_")
    suffix = _public_suffix_of(host)
    if suffix is None or len(host) <= len(suffix):
        return False
    owner = host[:-len(suffix) - 1].rsplit(".", 1)[-1]
    # The label before the suffix has at least two characters: "M.Sc" and "e.V" are no
    # domains. A path makes one of any length: "t.me/xyz".
    return with_path or len(owner) >= 2


def _holds_ip_literal(folded: str) -> bool:
    for found in _IPV4.findall(folded):
        try:
            ipaddress.IPv4Address(found)
            return True
        except ValueError:
            pass
    for found in _IPV6.findall(folded):
        if not any(char in "0123456789abcdef" for char in found):
            continue  # "::" between words
        try:
            ipaddress.IPv6Address(found.split("%")[0])
            return True
        except ValueError:
            pass
    return False


def holds_link(text: str) -> bool:
    """Whether `text` holds a URL scheme, www., an email address, a domain name (any that
    ends in a public suffix) or an IP address."""
    folded = _folded(text)
    if _SCHEME.search(folded) or holds_address(folded) or _holds_ip_literal(folded):
        return True
    if any(_looks_like_domain(host, with_path=True) for host in _HOST_WITH_PATH.findall(folded)):
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


# --- look-alikes: letters of one script drawn like another's -------------------------------

# Writing systems that mix scripts inside one word by nature: Japanese (Han, Hiragana,
# Katakana), Korean (Hangul, Han), Chinese phonetic annotation (Han, Bopomofo) — TR39's
# "augmented script sets". Common (digits, punctuation) and Inherited (combining marks)
# belong to every script.
_ONE_WRITING_SYSTEM = (frozenset({"HAN", "HIRAGANA", "KATAKANA"}),
                       frozenset({"HAN", "HANGUL"}), frozenset({"HAN", "BOPOMOFO"}))
_ANY_SCRIPT = frozenset({"COMMON", "INHERITED", "Unknown"})


def _words(text: str) -> list[str]:
    """Runs of letters, marks and digits: "Sartre-Иванов" is two words."""
    words, word = [], []
    for char in unicodedata.normalize("NFC", text):
        if unicodedata.category(char)[0] in "LMN":
            word.append(char)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return words


def mixes_scripts(text: str) -> bool:
    """Whether a word of `text` mixes letters of two scripts ("Pаul" with a Cyrillic а):
    what a look-alike of a Latin name is made of, and no real name needs."""
    for word in _words(text):
        scripts = {script_alias(char) for char in word} - _ANY_SCRIPT
        if len(scripts) > 1 and not any(scripts <= allowed for allowed in _ONE_WRITING_SYSTEM):
            return True
    return False


def script_alias(char: str) -> str:
    """The Unicode script of `char` ("LATIN", "CYRILLIC", "COMMON"), from the Scripts.txt
    data confusable-homoglyphs ships."""
    return str(categories.alias(char))


def _without_marks(text: str) -> str:
    return text.replace("\u200e", "").replace("\u200f", "")


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    """TR39's confusables mapping: each character to the prototype it is drawn like
    (Cyrillic "А" → Latin "A", "m" → "rn", "0" → "O").

    confusable-homoglyphs ships confusables.txt as a table of homoglyphs kept in both
    directions (a source lists its prototype, a prototype lists all its sources), with
    direction marks around right-to-left glyphs. The mapping is read back from it: in TR39
    a prototype is never itself a source and a source has exactly one prototype, so a
    character listing a single homoglyph is a source unless that homoglyph lists only it
    in turn. For such a pair either may be the prototype: both then map to the lower code
    point, which keeps exactly TR39's classes, and so the same skeleton equality.
    """
    table: dict[str, list[str]] = {}
    for key, found in confusables.confusables_data.items():
        glyphs = table.setdefault(_without_marks(key), [])
        glyphs.extend(_without_marks(entry["c"]) for entry in found)
    table = {key: list(dict.fromkeys(glyphs)) for key, glyphs in table.items()}
    mapping: dict[str, str] = {}
    for char, glyphs in table.items():
        if len(char) != 1 or len(glyphs) != 1:
            continue  # a sequence (only ever a prototype), or the prototype of several
        target = glyphs[0]
        if len(target) == 1 and table.get(target) == [char] and target > char:
            continue  # a pair naming only each other: the lower one is the prototype
        mapping[char] = target
    return mapping


def skeleton(text: str) -> str:
    """The Unicode TR39 skeleton of `text`: NFD, each character replaced by its prototype,
    NFD again. Two strings drawn alike have the same skeleton ("Аmnesty", with a Cyrillic
    А, and "Amnesty"); case is kept, as in TR39 ("A" and "a" differ).

    Repeated until nothing changes: a few prototypes hold characters the data maps again
    ("ø" → "o" + U+0338, U+0338 → U+0337), and a look-alike must not escape through them.
    """
    prototypes = _prototypes()
    text = unicodedata.normalize("NFD", text)
    for _ in range(4):
        mapped = unicodedata.normalize("NFD", "".join(prototypes.get(char, char)
                                                      for char in text))
        if mapped == text:
            break
        text = mapped
    return text
