"""A letter as the public will see it, before it is opened: a back-office page for organisers.

Behind the admin guard rather than a signed link: an organiser is already signed in, a
forwarded link shows nothing to anyone else, and taking the letter from an account ends its
preview at once, with no token to expire or revoke.
"""
from __future__ import annotations

from flask import abort, g

from petition.admin import bp
from petition.models import Letter
from petition.views.public import render_preview


@bp.get("/letters/<slug>/preview")
def letter_preview(slug: str):
    """The public letter page in the language of ?lang= (else the reader's), with the sign
    form disabled. Kept out of search engines and of every shared cache."""
    letter: Letter = g.letter
    if letter.is_drive:  # a drive's page has its own form: not previewed here
        abort(404)
    response = render_preview(letter)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "private, no-store"
    return response
