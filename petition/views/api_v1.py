"""The open API, version 1: read-only public figures of the letters, under /api/v1/.

What it answers is described by openapi.json beside this module, kept in the repository,
served as it is at /api/v1/openapi.json, and checked against real answers by the tests.
Every answer may be read by any site (CORS open), set no cookie and carry a strong ETag;
shared caches keep it briefly, never past an embargo's end.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request

from petition.drive import counts as drive_counts
from petition.letters import counting, milestones
from petition.letters.front_page import LetterSummary, front_page
from petition.letters.operations import LetterNotFound, get_public_letter
from petition.letters.status import public_status
from petition.models import SIGNER_TYPES, Letter
from petition.views.api import country_figures
from petition.views.embargo import embed_cache_headers, kept, validated
from petition.views.i18n import asked_language, set_no_cookie
from petition.views.sharing import letter_url

API_VERSION = "1"
# Read once at start: the document is part of the code, not of the data.
OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json").read_bytes()

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")


@bp.before_request
def _no_cookie() -> None:
    set_no_cookie()


@bp.after_request
def _open_to_every_site(response: Response) -> Response:
    """Any site's scripts may read every answer (errors and 304s too), its ETag included,
    and send If-None-Match, which is not among the headers a browser sends unasked."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    if request.method == "OPTIONS":  # a browser's preflight, answered by Flask
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.get("/letters")
def letters():
    lang, named = asked_language(current_app.config["BABEL_DEFAULT_LOCALE"])
    page = front_page(lang)
    summaries = [*page.open, *page.closed]
    items = [_summary(summary) for summary in summaries]
    response = jsonify({"api_version": API_VERSION, "lang": lang, "letters": items})
    return _shared(response, [summary.letter for summary in summaries], vary=not named)


@bp.get("/letters/<slug>")
def letter(slug: str):
    try:
        found = get_public_letter(slug, with_texts=False)  # loaded when built, not when kept
    except LetterNotFound:
        return _error(404, "not_found", "No public letter has this slug.")
    lang, named = asked_language(found.default_lang)
    body = kept(found, "api-v1", lang, lambda: jsonify(_details(found, lang)).get_data())
    return _shared(Response(body, mimetype="application/json"), [found], vary=not named)


@bp.get("/openapi.json")
def openapi():
    response = Response(OPENAPI_DOCUMENT, mimetype="application/json")
    return _shared(response, [], vary=False)


@bp.route("/")
@bp.route("/<path:rest>")
def unknown(rest: str = ""):
    return _error(404, "not_found",
                  "Nothing at this address; /api/v1/openapi.json describes the API.")


def _summary(summary: LetterSummary) -> dict:
    """One letter in the list: what a counter or a directory of campaigns needs."""
    letter, total = summary.letter, summary.count
    if letter.is_drive and total is not None:
        total = drive_counts.counts(letter).written
    return {**_identity(letter, summary.text.title, summary.text.lang), "total": total}


def _details(letter: Letter, lang: str) -> dict:
    """One letter: its figures as far as the public may see them now."""
    text = letter.text_for(lang)
    details = {**_identity(letter, text.title, text.lang), "api_version": API_VERSION,
               "lang": lang,
               "embargo_until": _utc(letter.embargo_until) if letter.embargoed else None,
               "total": None, "signatures": None, "letters": None, "milestones": None}
    if not letter.count_public:
        return details
    if letter.is_drive:
        figures = drive_counts.counts(letter)
        details["total"] = figures.written
        details["letters"] = {"written": figures.written, "sent": figures.sent,
                              "countries": figures.countries}
    elif letter.embargoed:
        # The count the organisers chose to show, and nothing of the list.
        details["total"] = counting.public_total(letter.id)
    else:
        details["signatures"] = _signatures(letter, lang)
        details["total"] = details["signatures"]["total"]
    details["milestones"] = _milestones(letter)
    return details


def _identity(letter: Letter, title: str, title_lang: str) -> dict:
    status = public_status(letter)
    return {"slug": letter.slug, "kind": letter.kind, "title": title, "title_lang": title_lang,
            "status": status.status, "closed_on": _day(status.closed_on),
            "goal": letter.goal, "deadline": _day(status.deadline),
            "days_left": status.days_left, "url": letter_url(letter.slug)}


def _signatures(letter: Letter, lang: str) -> dict:
    """An open letter's public count by country and by signer type, from letter_count."""
    by_country: dict[str, int] = defaultdict(int)
    by_type = dict.fromkeys(SIGNER_TYPES, 0)
    for (signer_type, country), (listed, unlisted) in counting.table(letter.id).items():
        by_country[country] += listed + unlisted
        by_type[signer_type] += listed + unlisted
    return {"total": sum(by_type.values()),
            "by_country": country_figures(letter, by_country, lang), "by_signer_type": by_type}


def _milestones(letter: Letter) -> list[dict]:
    """Every milestone the letter has now, ascending, with when it was reached (or null)."""
    reached = {milestone.threshold: milestone.reached_at
               for milestone in milestones.reached_milestones(letter)}
    return [{"threshold": threshold, "reached_at": _utc(reached.get(threshold))}
            for threshold in milestones.thresholds(letter)]


def _shared(response: Response, letters: list[Letter], vary: bool) -> Response:
    """The answer about `letters` as caches may keep it; `vary`: its language came from
    Accept-Language."""
    if vary:
        response.vary.add("Accept-Language")
    return validated(embed_cache_headers(response, letters), prefix=f"v{API_VERSION}-")


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    return embed_cache_headers(response, [])


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _utc(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None
