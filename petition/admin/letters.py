"""The letters an account sees, and one letter's figures."""
from __future__ import annotations

from flask import g, render_template
from flask_babel import get_locale
from flask_babel import gettext as _

from petition.accounts import operations as accounts
from petition.admin import bp, current_account
from petition.admin.chart import cumulative_chart
from petition.admin.labels import labelled
from petition.drive import counts as drive_counts
from petition.drive import overview as drive_overview
from petition.drive import review
from petition.drive.settings import get_drive
from petition.exporting.document import LAYOUTS
from petition.exporting.formats import FORMATS
from petition.letters import overview
from petition.letters.counting import public_counts
from petition.models import Letter
from petition.views.i18n import supported as supported_languages

PRIVATE_FORMATS = ("csv", "xlsx")


@bp.get("/")
def letters():
    account = current_account()
    visible = accounts.visible_letters(account)
    if accounts.is_translator(account):
        # Its drives and how many letters wait for a translation: nothing else of them.
        waiting = {letter.id: len(review.letters_of(letter, "translation"))
                   for letter in visible}
        return render_template("admin/drive_translator_home.html", letters=visible,
                               waiting=waiting)
    counts = public_counts([letter.id for letter in visible if not letter.is_drive])
    # A drive counts letters written, not signatures.
    counts.update({letter.id: drive_counts.counts(letter).written
                   for letter in visible if letter.is_drive})
    return render_template("admin/letters.html", letters=visible, counts=counts)


@bp.get("/letters/<slug>")
def letter(slug: str):
    letter: Letter = g.letter
    account = current_account()
    if letter.is_drive:
        return _drive_letter(letter)
    lang = str(get_locale())
    # During the embargo the counts per country say who signed where before the release:
    # shown to those preparing it (admins, organisers), not to press accounts.
    by_country = not letter.embargoed or accounts.can_export_embargoed(account)
    figures = overview.letter_overview(letter, lang, by_country=by_country)
    chart = cumulative_chart(
        figures.cumulative, id_prefix="signatures-chart",
        title=_("Public signatures over time"),
        desc=_("Running total of public signatures by the day they were confirmed (UTC)."))
    return render_template(
        "admin/letter.html",
        letter=letter,
        overview=figures,
        by_status=labelled(figures.by_status, "status"),
        by_moderation=labelled(figures.by_moderation, "moderation"),
        by_type=labelled(figures.by_type, "signer_types"),
        by_country=figures.by_country if by_country else None,
        chart=chart,
        formats=FORMATS,
        layouts=LAYOUTS,
        private_formats=PRIVATE_FORMATS,
        may_export_private=accounts.can_export_private(account),
        may_export=not letter.embargoed or accounts.can_export_embargoed(account),
        # The letter's own languages first, then the interface's: a list may be sent to a
        # ministry in a language the letter was not written in.
        export_languages=list(dict.fromkeys(
            [letter.default_lang, *letter.languages, *supported_languages()])),
    )


def _drive_letter(letter: Letter):
    """A drive's page: its figures, and the way to its queues, batches and settings."""
    return render_template(
        "admin/drive_overview.html", letter=letter, drive=get_drive(letter),
        counts=drive_counts.counts(letter), states=drive_overview.state_counts(letter),
        to_translate=len(review.letters_of(letter, "translation")),
        ready=len(review.letters_of(letter, "ready")))
