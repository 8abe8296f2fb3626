"""The public press list (txt, md, html) as served to anyone: built once per state of the
list, from a fresh grouping that is dropped once rendered (the bytes are all that is kept)."""
from __future__ import annotations

import io

from flask import current_app

from petition.exporting import grouping, press_cache
from petition.exporting.document import PRESS, Document
from petition.exporting.formats import check_lang, renderer
from petition.exporting.grouping import ListEmbargoed, ListState
from petition.extensions import db
from petition.models import Letter

__all__ = ["ListEmbargoed", "current_state", "etag", "press_file"]


def current_state(letter: Letter) -> ListState:
    """The list's state now, from the database; ListEmbargoed while the embargo runs. Ask
    it before anything else: no cache, shared or not, is read for an embargoed letter."""
    return grouping.public_state(letter.id)


def etag(letter: Letter, token: str, lang: str, fmt: str) -> str:
    """The tag of the file of the list at `token` (a ListState's or a Built's)."""
    return press_cache.etag(letter.id, token, lang, fmt)


def press_file(letter: Letter, state: ListState, lang: str, fmt: str) -> press_cache.Built:
    """The press file of the list at `state` or, for a big list while its build runs past
    PRESS_BUILD_WAIT, the previous one this process has: Built.token says which."""
    lang = check_lang(lang)
    letter_id = letter.id
    return press_cache.cache().get(
        (letter_id, lang, fmt), state.token, state.changed_at, state.shareable,
        lambda: _render(letter_id, lang, fmt), current_app.config["PRESS_BUILD_WAIT"])


def _render(letter_id: int, lang: str, fmt: str) -> bytes:
    """The file's bytes; in a thread of its own, so the letter is read in its own session."""
    letter = db.session.get(Letter, letter_id)
    if letter is None:
        raise ListEmbargoed(letter_id)  # gone meanwhile: nothing to publish
    document = Document(letter, lang, PRESS, public=True)
    # Built for this render only, not through the grouping cache: kept there, 100,000 names
    # would hold ~10 MB per language in every worker on top of the bytes.
    document.sections = grouping.build_public(letter_id, lang)
    out = io.BytesIO()
    renderer(fmt).render(document, out)
    return out.getvalue()
