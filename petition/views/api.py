"""JSON for counters and widgets: public figures only."""
from __future__ import annotations

import datetime as dt
from typing import TypedDict

from flask import Blueprint, current_app, jsonify

from petition import countries
from petition.drive import counts as drive_counts
from petition.letters import counting, milestones
from petition.letters.status import public_status
from petition.models import LETTER_DRIVE, Letter
from petition.views import public_letter_or_404
from petition.views.embargo import embed_cache_headers, kept, validated
from petition.views.i18n import asked_language, set_no_cookie

bp = Blueprint("api", __name__)


class CountryFigure(TypedDict):
    """One country's line in a letter's JSON figures."""

    code: str
    name: str
    count: int


@bp.get("/letters/<slug>.json")
def letter_json(slug: str):
    letter = public_letter_or_404(slug)
    # Never the language cookie: caches keep this answer (views/public_cache.py).
    lang, named = asked_language(current_app.config["BABEL_DEFAULT_LOCALE"])
    # Built once per state of the public list, language and day (embargo.kept): counters
    # poll this every few seconds, and a 100,000-signature letter's counts take a query.
    body = kept(letter, "letter.json", lang, lambda: _figures_json(letter, lang))
    response = current_app.response_class(body, mimetype="application/json")
    # Counters are embedded on other sites, whose scripts may revalidate with the ETag.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    if not named:  # the language came from Accept-Language
        response.vary.add("Accept-Language")
    set_no_cookie()
    return validated(embed_cache_headers(
        response, [letter], max_age=int(current_app.config["PUBLIC_CACHE_SECONDS"])))


def _figures_json(letter: Letter, lang: str) -> bytes:
    """The letter's public figures as JSON."""
    text = letter.text_for(lang)
    until = letter.embargo_until
    state = public_status(letter)  # "closed" from the day after the deadline, by itself
    figures: dict = dict(slug=letter.slug, title=text.title, lang=text.lang,
                         status=state.status, deadline=_iso(state.deadline),
                         closed_on=_iso(state.closed_on),
                         milestones=milestones.public_milestones(letter),
                         embargo_until=until.isoformat() + "Z" if until else None)
    if letter.is_drive:
        # Counts only: a drive's JSON never carries a letter, published or not.
        figures["kind"] = LETTER_DRIVE
        if letter.count_public:
            figures.update(_drive_figures(letter))
    elif not letter.embargoed:
        figures.update(_public_figures(letter, lang))
    elif letter.embargo_count:
        # Nothing of the list, and the count only if the organisers chose to show it.
        figures.update(total=counting.public_total(letter.id), goal=letter.goal)
    return jsonify(**figures).get_data()


def _drive_figures(letter: Letter) -> dict:
    """Letters written (confirmed, neither rejected nor withdrawn; `total` too, as a
    counter reads it), sent, and from how many countries, toward the goal and deadline."""
    figures = drive_counts.counts(letter)
    return dict(total=figures.written, written=figures.written, sent=figures.sent,
                countries=figures.countries, goal=letter.goal)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _public_figures(letter, lang: str) -> dict:
    by_country = counting.counts_by_country(letter.id)
    return dict(total=sum(by_country.values()), goal=letter.goal,
                by_country=country_figures(letter, by_country, lang))


def country_figures(letter: Letter, by_country: dict[str, int], lang: str) -> list[CountryFigure]:
    """Each country's count named in `lang` (the letter's own labels first), the largest
    first: the JSON's and the API's `by_country`."""
    overrides = letter.labels_for(lang)
    rows: list[CountryFigure] = [
        {"code": code, "name": countries.display_name(code, lang, overrides), "count": count}
        for code, count in by_country.items()
    ]
    rows.sort(key=lambda row: (-row["count"], countries.group_rank(row["code"]), row["code"]))
    return rows
