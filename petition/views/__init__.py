"""Blueprints: thin views that turn use-case outcomes into responses."""
from __future__ import annotations

from flask import abort

from petition.letters.operations import LetterNotFound, get_public_letter
from petition.models import Letter


def public_letter_or_404(slug: str, *, with_texts: bool = True) -> Letter:
    """The letter the public may see, or a 404 (unknown slug or draft).

    `with_texts=False` where a page is shown only on error (they load lazily then)."""
    try:
        return get_public_letter(slug, with_texts=with_texts)
    except LetterNotFound:
        abort(404)
