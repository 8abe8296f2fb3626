"""The letters an account sees, and one letter's figures."""
from __future__ import annotations

from flask import g, render_template
from flask_babel import get_locale
from sqlalchemy import func, select

from ..counting import public_counts
from ..countries import display_name
from ..exporting.document import LAYOUTS
from ..exporting.formats import FORMATS
from ..extensions import db
from ..models import CONFIRMED, Letter, Signature
from . import accounts, bp, current_account

PRIVATE_FORMATS = ("csv", "xlsx")


@bp.get("/")
def letters():
    account = current_account()
    visible = accounts.visible_letters(account)
    counts = public_counts([letter.id for letter in visible])
    return render_template("admin/letters.html", letters=visible, counts=counts)


def _grouped(letter: Letter, column, *conditions) -> list[tuple[str, int]]:
    rows = db.session.execute(
        select(column, func.count(Signature.id))
        .where(Signature.letter_id == letter.id, *conditions)
        .group_by(column)
        .order_by(func.count(Signature.id).desc(), column)
    )
    return [(value, count) for value, count in rows]


@bp.get("/letters/<slug>")
def letter(slug: str):
    letter: Letter = g.letter
    lang = str(get_locale())
    labels = letter.labels_for(lang)
    confirmed = Signature.status == CONFIRMED
    by_country = [(display_name(code, lang, labels), count)
                  for code, count in _grouped(letter, Signature.country, confirmed)]
    return render_template(
        "admin/letter.html",
        letter=letter,
        by_status=_grouped(letter, Signature.status),
        by_moderation=_grouped(letter, Signature.moderation, confirmed),
        by_type=_grouped(letter, Signature.signer_type, confirmed),
        by_country=by_country,
        formats=FORMATS,
        layouts=LAYOUTS,
        private_formats=PRIVATE_FORMATS,
        may_export_private=accounts.can_export_private(current_account()),
    )
