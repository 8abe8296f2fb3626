"""A big list made readable: one country's names on a page of their own, and "find a name
on this list". Both show only what the public list already shows."""
from __future__ import annotations

from collections import OrderedDict

from babel.lists import format_list
from flask import Blueprint, abort, current_app, make_response, render_template, request
from flask_babel import get_locale
from markupsafe import Markup

from petition.exporting.grouping import ListEmbargoed
from petition.exporting.name_search import NameSearchError, QueryTooShort, search
from petition.exporting.page_summary import NoSuchPart, PageList, country_list, page_of
from petition.extensions import limiter
from petition.models import Letter
from petition.views import public_letter_or_404
from petition.views.embargo import cache_headers

bp = Blueprint("lists", __name__)
_FRAGMENTS = 32  # rendered lists kept in each process


def signatories_fragment(letter: Letter, lang: str, listing: PageList | None,
                         embargoed: bool) -> Markup:
    """The letter page's list section, rendered once per state of the list and language:
    its table of a few hundred localized numbers and links costs more than the rest of the
    page. (letter_page_list gives the same PageList while the list stays the same.)"""
    def render() -> Markup:
        return Markup(render_template("letters/_signatories.html", letter=letter, lang=lang,
                                      listing=listing, embargoed=embargoed))

    if listing is None or embargoed:
        return render()
    cache = current_app.extensions.setdefault("petition.signatories_html", OrderedDict())
    key = (letter.id, lang, letter.slug, letter.is_open)
    hit = cache.get(key)
    if hit is not None and hit[0] is listing:
        return hit[1]
    html = render()
    cache[key] = (listing, html)
    while len(cache) > _FRAGMENTS:
        cache.popitem(last=False)
    return html


def _search_limit() -> str:
    return current_app.config["RATELIMIT_NAME_SEARCH"]


@bp.get("/letters/<slug>/search")
@limiter.limit(_search_limit)
def search_names(slug: str):
    letter = public_letter_or_404(slug)
    if letter.is_drive or letter.is_petition:  # a petition has no list of names to search
        abort(404)
    lang = str(get_locale())
    query = request.args.get("q", "")
    answer, problem, status = None, None, 200
    embargoed = letter.embargoed
    if query.strip() and not embargoed:
        try:
            answer = search(letter, lang, query)
        except ListEmbargoed:
            embargoed = True
        except NameSearchError as error:
            problem, status = ("short" if isinstance(error, QueryTooShort) else "long"), 400
    response = make_response(render_template(
        "letters/search.html", letter=letter, text=letter.text_for(lang), lang=lang,
        query=query, answer=answer, problem=problem, embargoed=embargoed,
        places=format_list(answer.countries, locale=lang) if answer and answer.matches else "",
        page_size=current_app.config["SIGNATORIES_PAGE_SIZE"], page_of=page_of), status)
    # An answer from before the latest change is not kept anywhere.
    fresh = answer is None or answer.current
    return cache_headers(response, letter, max_age=30 if fresh and not embargoed else 0,
                         shared=fresh and not embargoed)


@bp.get("/letters/<slug>/signatories/<code>")
def country(slug: str, code: str):
    letter = public_letter_or_404(slug)
    if letter.is_drive or letter.is_petition:  # a petition's counts are on its own page
        abort(404)
    lang = str(get_locale())
    page = request.args.get("page", "1")
    if not (page.isascii() and page.isdigit()) or len(page) > 6:  # not "²", which int() refuses
        abort(404)
    try:
        part = country_list(letter, lang, code, int(page),
                            current_app.config["SIGNATORIES_PAGE_SIZE"])
    except ListEmbargoed:
        part = None
    except NoSuchPart:
        abort(404)
    response = make_response(render_template(
        "letters/country.html", letter=letter, text=letter.text_for(lang), lang=lang,
        part=part))
    return cache_headers(response, letter, max_age=30 if part else 0, shared=part is not None)
