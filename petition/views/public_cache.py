"""Public pages any shared cache may keep, and their forms' CSRF protection without a token.

See docs/caching.md for the choices and the threat model. In short:

- A public GET opens no session and sets no cookie (admin/cookie.py opens a session under
  /admin only; i18n.set_no_cookie() keeps the language cookie off), so no `Vary: Cookie`
  and nothing personal in what a cache keeps.
- The HTML pages a cache keeps are in the language their URL names (?lang=): without it,
  a 302 to the URL with the reader's language (cookie, else Accept-Language), itself kept
  by no shared cache. The cached answers vary on nothing but their URL.
- The public forms (sign, a drive's letter, confirm, withdraw, the news page's button)
  carry no token: CSRFProtect skips their blueprints, and a POST to them must come from
  this site by what the browser itself says (Sec-Fetch-Site, else Origin, else Referer).
  The back office keeps its session and Flask-WTF's token.
"""
from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, urlencode, urlsplit

from flask import Flask, Response, current_app, redirect, request
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response as BaseResponse

from petition.models import Letter
from petition.views.embargo import embed_cache_headers, validated
from petition.views.i18n import LANG_COOKIE, accepted_language, normalize, set_no_cookie

# The blueprints whose forms are public: no session, so no token; checked by origin below.
PUBLIC_FORM_BLUEPRINTS = ("public", "drive", "confirm", "withdraw", "news")
# A POST that needs no same-origin proof: the one-click unsubscribe of RFC 8058 is posted
# by mail clients, with no Origin; its token is in the URL, and unsubscribing is all it does.
ORIGIN_FREE_ENDPOINTS = frozenset({"news.unsubscribe"})
# What Sec-Fetch-Site may say of a form this site accepts: "none" is a navigation the
# person started (never another site's page), "same-origin" a form of ours. Not
# "same-site": a sibling subdomain is another party.
SAME_ORIGIN_FETCH = frozenset({"same-origin", "none"})


def init_app(app: Flask) -> None:
    """After the blueprints are registered: CSRFProtect exempts them by object."""
    from petition.extensions import csrf

    for name in PUBLIC_FORM_BLUEPRINTS:
        csrf.exempt(app.blueprints[name])
    app.before_request(_public_form_from_this_site)
    app.after_request(_errors_not_kept)


def _public_form_from_this_site() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.blueprint not in PUBLIC_FORM_BLUEPRINTS:
        return
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.endpoint in ORIGIN_FREE_ENDPOINTS:
        return
    problem = cross_site_problem()
    if problem:
        raise CSRFError(problem)


def cross_site_problem() -> str | None:
    """Why this request is not shown to come from this site's own pages, or None.

    Sec-Fetch-Site first: a browser sets it and no page can change it. Browsers without it
    (before 2020-2023) send Origin on a cross-site POST; the Referer when there is one,
    else the Origin, as petition/__init__.py's check of the back office's forms. Neither
    header: refused, as there (a browser sends one of the three on every form POST).
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        if fetch_site.strip().lower() in SAME_ORIGIN_FETCH:
            return None
        return "Sec-Fetch-Site says another site sent this form."
    here = origin_of(f"{request.scheme}://{request.host}/")
    referrer, origin = request.headers.get("Referer"), request.headers.get("Origin")
    if not referrer and not origin:
        return "Neither a Referer nor an Origin header."
    for header, value in (("Referer", referrer), ("Origin", origin)):
        if value and origin_of(value) != here:
            return f"The {header} header is not this site's."
    return None


def origin_of(url: str) -> tuple[str, str, int] | None:
    """Scheme, host and port (the scheme's default filled in) of a URL; None for "null"
    or anything that is no absolute URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or {"http": 80, "https": 443}[scheme]


def _errors_not_kept(response: Response) -> Response:
    # An error (a 404 before a letter opens, a 429, a database away) must not outlive its
    # cause in a cache; unless its view chose (an embargoed list's 404, kept until the end).
    if response.status_code >= 400 and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def language_redirect() -> BaseResponse | None:
    """None when the URL names a language (?lang=); else a redirect to this URL with the
    reader's language, kept by no shared cache (it depends on a cookie and a header)."""
    asked = request.args.getlist("lang")
    if len(asked) == 1 and normalize(asked[0]) == asked[0]:
        return None
    # "?lang=FR" or "?lang=fr-CA" lead to "?lang=fr": one cached copy per language.
    lang = (normalize(request.args.get("lang")) or normalize(request.cookies.get(LANG_COOKIE))
            or accepted_language() or current_app.config["BABEL_DEFAULT_LOCALE"])
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    # Quoted and with one leading "/": a path of "/\\evil.example" stays on this site.
    path = "/" + quote(request.script_root + request.path, safe="/:@!$&'()*+,;=").lstrip("/")
    target = path + "?" + urlencode(args + [("lang", lang)])
    response = redirect(target, code=302)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Accept-Language, Cookie"
    set_no_cookie()
    return response


def shared(response: Response, letters: Iterable[Letter] = (), etag: bool = True) -> Response:
    """Let shared caches keep `response`, a public GET's, for PUBLIC_CACHE_SECONDS and hand
    it out stale while they fetch a new one, never past a running embargo of `letters`;
    with a strong ETag (304 to a client holding it) unless `etag` is False (a page with a
    form: its form_started stamp makes every copy differ, so a tag would never match).
    Sets no cookie."""
    set_no_cookie()
    response = embed_cache_headers(response, list(letters),
                                   max_age=int(current_app.config["PUBLIC_CACHE_SECONDS"]))
    return validated(response) if etag else response
