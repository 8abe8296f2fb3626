"""Make stored text safe to print in any format, whatever a signatory typed.

A line break inside a name would forge a heading in the plain-text press list, and XML
(docx, odt, xlsx) refuses most control characters: so controls become visible or a space
before any format sees them. Markup needs no treatment here: every format writes text as
text (escaped HTML, escaped Markdown, XML text nodes).
"""
from __future__ import annotations

import re

# Line and field separators read as a space; they must never break the one-name-per-line layout.
_SPACES = "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029"
_TABLE: dict[int, str] = {ord(char): " " for char in _SPACES}
# Other C0 controls and DEL show as their Unicode control pictures (␀, ␛, ␡): text, not lost.
_TABLE.update({code: chr(0x2400 + code) for code in range(0x20) if chr(code) not in _SPACES})
_TABLE[0x7F] = "\u2421"
# C1 controls and non-characters have no picture and are invalid in XML.
_TABLE.update({code: "\ufffd" for code in range(0x80, 0xA0) if chr(code) not in _SPACES})
_TABLE.update({0xFFFE: "\ufffd", 0xFFFF: "\ufffd"})
_TABLE.update({code: "\ufffd" for code in range(0xD800, 0xE000)})
_RUNS = re.compile(r" {2,}")
# Most names need no change; finding that out is much cheaper than translating them.
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]|  |^ | $")

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (and their full-width forms, which a spreadsheet may read as the ASCII ones).
_FORMULA_CHARS = "=+\\-@\t\r\n\uff1d\uff0b\uff0d\uff20"
# Where a spreadsheet may see a cell begin: at the start, and after any character it may
# split a line on (French and Russian Excel and Calc split a CSV file on ";", quotes or not),
# past spaces and quotes. An apostrophe put there keeps what follows text; one already there
# gets another, so that uncell() takes exactly one away.
_FORMULA_AT = re.compile(f"(^|[;,\t|])([\\s\"]*)('*[{_FORMULA_CHARS}])")
_GUARD_AT = re.compile(f"(^|[;,\t|])([\\s\"]*)'('*[{_FORMULA_CHARS}])")
# The same, cheaper to rule out: most cells need no apostrophe, and exports make millions.
_FORMULA_AFTER_SEPARATOR = re.compile(f"[;,\t|][\\s\"]*'*[{_FORMULA_CHARS}]")
_SUSPECT_STARTS = ("'", '"', *_FORMULA_CHARS.replace("\\", ""))


def clean(text: str | None) -> str:
    """`text` on one line, controls made visible, surrounding spaces removed."""
    if not text:
        return ""
    if _SUSPECT.search(text) is None:
        return text
    result = text.translate(_TABLE)
    if "  " in result:
        result = _RUNS.sub(" ", result)
    return result.strip()


def cell(text: str | None) -> str:
    """`text` cleaned, with an apostrophe before anything a spreadsheet would run as a formula,
    at the start or after a separator ("=1" → "'=1", "Jean;=1" → "Jean;'=1")."""
    result = clean(text)
    if (not result.startswith(_SUSPECT_STARTS) and not result[:1].isspace()
            and _FORMULA_AFTER_SEPARATOR.search(result) is None):
        return result
    return _FORMULA_AT.sub(r"\1\2'\3", result)


def uncell(text: str) -> str:
    """Undo `cell`'s apostrophes, so an exported sheet imports back unchanged."""
    if "'" not in text:
        return text
    return _GUARD_AT.sub(r"\1\2\3", text)


# Characters Markdown may read as syntax anywhere in a line (CommonMark backslash escapes).
_MD_INLINE = re.compile(r"([\\`*_\[\]<>#|~!&$])")
# At the start of a line, these open a list, quote or heading.
_MD_LINE_START = re.compile(r"^(\d+)([.)])|^([+\-=:])")


def markdown(text: str) -> str:
    """`text` (already cleaned) as Markdown that renders back to exactly `text`."""
    escaped = _MD_INLINE.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", escaped)


_MD_EACH_LINE_START = re.compile(_MD_LINE_START.pattern, re.MULTILINE)


def markdown_lines(text: str) -> str:
    """markdown() of each line of `text` (lines of cleaned text joined by LF), in one pass."""
    escaped = _MD_INLINE.sub(r"\\\1", text)
    return _MD_EACH_LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}",
                                   escaped)
