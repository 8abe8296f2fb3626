"""What the back office's drive pages share: the drive and its letters or 404, a refusal
turned into a sentence, and a letter's text with the passages a censor may stop marked."""
from __future__ import annotations

from collections.abc import Callable

from flask import abort
from flask_babel import get_locale
from markupsafe import Markup, escape

from petition import countries
from petition.drive import batches, review, settings
from petition.drive.values import DriveNotFound, Passage
from petition.letters.values import LetterError
from petition.models import Letter
from petition.models.drive import Drive, DriveBatch, DriveLetter


def drive_or_404(letter: Letter) -> Drive:
    """The drive's settings; 404 for an open letter (its pages have no drive side)."""
    try:
        return settings.get_drive(letter)
    except DriveNotFound:
        abort(404)


def row_or_404(letter: Letter, public_id: str) -> DriveLetter:
    """A personal letter of this drive; 404 for another drive's, as for one that is not."""
    drive_or_404(letter)
    try:
        return review.get_letter_row(public_id, letter)
    except DriveNotFound:
        abort(404)


def batch_or_404(letter: Letter, public_id: str) -> DriveBatch:
    drive_or_404(letter)
    try:
        return batches.get_batch(public_id, letter)
    except DriveNotFound:
        abort(404)


def reason(error: LetterError) -> str:
    """The refusal (a DriveError, or a letter's check) in the page's language."""
    return error.translated()


def marked(text: str, passages: list[Passage]) -> Markup:
    """`text`, HTML-escaped, with each passage in <mark>: the offsets are the plain text's,
    so the text is cut first and each piece escaped on its own."""
    pieces: list[str] = []
    at = 0
    for passage in passages:
        if passage.start < at or passage.end > len(text):
            continue  # overlapping or out of range: never cut through an escaped entity
        pieces.append(escape(text[at:passage.start]))
        pieces.append(Markup("<mark>%s</mark>") % text[passage.start:passage.end])
        at = passage.end
    pieces.append(escape(text[at:]))
    return Markup("").join(pieces)


def country_namer(letter: Letter) -> Callable[[str], str]:
    """Names countries in the reader's language, the letter's own labels first."""
    lang = str(get_locale())
    overrides = letter.labels_for(lang)
    return lambda code: countries.display_name(code, lang, overrides)
