"""How long a cache may keep what the public is told about a letter under embargo."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from flask import Response, request

from petition.models import Letter, utcnow

PUBLIC_MAX_AGE = 30  # seconds a shared cache (a CDN) may keep public figures (the default of
# PUBLIC_CACHE_SECONDS, which views/public_cache.py reads)
# Seconds past max-age a cache may still hand out its copy while it asks for a fresh one:
# counters embedded on busy sites stay instant, and are at most this much behind.
STALE_WHILE_REVALIDATE = 60


def cache_headers(response: Response, letter: Letter, max_age: int = PUBLIC_MAX_AGE,
                  shared: bool = True) -> Response:
    """Let caches keep `response` up to max_age, never past the end of a running embargo.

    A CDN that kept the embargoed answer past the end would hide the list after its
    release; so while the embargo runs the answer lives no longer than the time left.
    (What a cache took before the embargo was set lives out its own max-age: set the
    embargo before the letter is opened.)
    """
    if letter.embargoed:
        max_age = min(max_age, letter.embargo_seconds_left)
    scope = "public" if shared else "private"
    response.headers["Cache-Control"] = f"{scope}, max-age={max_age}"
    return response


def embed_cache_headers(response: Response, letters: Iterable[Letter],
                        max_age: int = PUBLIC_MAX_AGE) -> Response:
    """Let shared caches keep `response` (about `letters`) up to max_age and serve it stale
    while revalidating, the two together never past the end of a running embargo."""
    stale = STALE_WHILE_REVALIDATE
    left = min((letter.embargo_seconds_left for letter in letters if letter.embargoed),
               default=None)
    if left is not None:
        max_age = min(max_age, left)
        stale = min(stale, left - max_age)
    response.headers["Cache-Control"] = (
        f"public, max-age={max_age}, stale-while-revalidate={stale}")
    return response


def validated(response: Response, prefix: str = "") -> Response:
    """A strong ETag over the body (after `prefix`, a format's version), and 304 Not
    Modified when the client already holds it.

    Over the bytes rather than the list version: the same version reads differently once a
    deadline passes or an embargo ends, and a corrected name changes the version but not
    the counts; bytes answer both. Hashing a few kilobytes costs microseconds.
    """
    digest = hashlib.sha256(response.get_data()).hexdigest()[:32]
    response.set_etag(f"{prefix}{digest}")
    response.make_conditional(request)  # in place
    return response


# Answers about one letter, per state of its public list (see kept()).
_KEPT: dict[tuple, bytes] = {}
KEPT_MAX = 512  # answers of a few kilobytes each


def kept(letter: Letter, what: str, lang: str, build: Callable[[], bytes]) -> bytes:
    """`what` about `letter` in `lang` as `build()` makes it, built once per state of the
    letter's public list in this process.

    Every change to what the public sees of a letter (counts, texts, labels, settings,
    status, a milestone crossed, a drive's letters) renews its list_token in the change's
    own transaction; time moves the rest, so the day (a deadline passing) and the
    embargo's end are in the key too.
    """
    if not letter.list_token:
        return build()
    key = (letter.id, letter.list_token, what, lang, utcnow().date(), letter.embargoed)
    answer = _KEPT.get(key)
    if answer is None:
        answer = build()
        if len(_KEPT) >= KEPT_MAX:
            _KEPT.clear()  # rebuilt on demand, a few milliseconds each
        _KEPT[key] = answer
    return answer
