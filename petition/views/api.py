"""JSON for counters and widgets: public figures only."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from .. import countries, counting
from ..i18n import normalize
from . import public_letter_or_404
from .public import current_lang

bp = Blueprint("api", __name__)


@bp.get("/letters/<slug>.json")
def letter_json(slug: str):
    letter = public_letter_or_404(slug)
    lang = normalize(request.args.get("lang")) or current_lang()
    overrides = letter.labels_for(lang)
    by_country = counting.counts_by_country(letter.id)
    rows = [
        {"code": code, "name": countries.display_name(code, lang, overrides), "count": count}
        for code, count in by_country.items()
    ]
    rows.sort(key=lambda row: (-row["count"], countries.group_rank(row["code"]), row["code"]))
    text = letter.text_for(lang)
    response = jsonify(
        slug=letter.slug,
        title=text.title,
        lang=text.lang,
        status=letter.status,
        total=sum(by_country.values()),
        goal=letter.goal,
        by_country=rows,
    )
    # Counters are embedded on other sites.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=30"
    return response
