"""How long a cache may keep what the public is told about a letter under embargo."""
from __future__ import annotations

from flask import Response

from petition.models import Letter

PUBLIC_MAX_AGE = 30  # seconds a shared cache (a CDN) may keep public figures


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
