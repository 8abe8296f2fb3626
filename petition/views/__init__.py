"""Blueprints: thin views that turn use-case outcomes into responses."""
from __future__ import annotations

from flask import abort

from ..letters import LetterNotFound, get_public_letter
from ..models import Letter


def public_letter_or_404(slug: str) -> Letter:
    """The letter the public may see, or a 404 (unknown slug or draft)."""
    try:
        return get_public_letter(slug)
    except LetterNotFound:
        abort(404)
