"""A letter's first sentences as plain text: the description search engines and link
previews show (meta description, og:description)."""
from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt

DESCRIPTION_LENGTH = 160  # what search engines show before cutting
_ELLIPSIS = "…"
_markdown = MarkdownIt("commonmark", {"html": False})
# A sentence ends at ".", "!", "?" or "…" (closing quotes and brackets included) then a space.
_SENTENCE_END = re.compile(r"([.!?…][\"'»”’)\]]*)\s+")


@lru_cache(maxsize=128)
def excerpt(markdown_text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """The whole sentences of the text that fit in `limit` characters; a first sentence
    longer than that, cut at a word and ended with "…". No markup: Markdown is read, and
    only its words are kept (a link's text, never its address)."""
    text = " ".join(_words(markdown_text).split())
    if len(text) <= limit:
        return text
    kept = ""
    for match in _SENTENCE_END.finditer(text):
        candidate = text[:match.end(1)]
        if len(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept
    cut = text[:limit - len(_ELLIPSIS) + 1]
    cut = cut[:cut.rfind(" ")] if " " in cut else cut[:-1]
    return cut.rstrip(" ,;:-–—") + _ELLIPSIS


def _words(markdown_text: str) -> str:
    """The text of each block, blocks apart by a space."""
    parts: list[str] = []
    for token in _markdown.parse(markdown_text or ""):
        if token.type == "inline":
            for child in token.children or ():
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
            parts.append(" ")
        elif token.type in ("code_block", "fence"):
            parts.append(token.content + " ")
    return "".join(parts)
