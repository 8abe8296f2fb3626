"""Which language a request is served in: ?lang=, then the cookie, then Accept-Language."""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, urlencode

from flask import Flask, Response, current_app, g, request
from flask_babel import refresh
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

LANG_COOKIE = "lang"


def supported() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def normalize(lang: str | None) -> str | None:
    """The supported language `lang` names ("fr-CA" → "fr"), or None."""
    if not lang:
        return None
    base = lang.strip().replace("_", "-").split("-")[0].lower()
    return base if base in supported() else None


def select_locale() -> str:
    if not request:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return (
        normalize(request.args.get("lang"))
        or normalize(request.cookies.get(LANG_COOKIE))
        or normalize(g.get("content_lang"))
        or accepted_language()
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def accepted_language() -> str | None:
    """The supported language the browser's Accept-Language prefers, or None."""
    return _best_match(request.headers.get("Accept-Language", ""), supported())


@lru_cache(maxsize=256)
def _best_match(header: str, languages: tuple[str, ...]) -> str | None:
    # Browsers send few distinct headers: each is negotiated once, not on every request.
    return parse_accept_header(header, LanguageAccept).best_match(languages)


def asked_language(fallback: str) -> tuple[str, bool]:
    """The language an embed or the API is asked for: ?lang=, else Accept-Language, else
    `fallback`; and whether ?lang= named it. Never the cookie: these answers are shared
    by caches, which can vary on Accept-Language (say so when False) but not on a cookie."""
    chosen = normalize(request.args.get("lang"))
    if chosen:
        return chosen, True
    return accepted_language() or fallback, False


def set_no_cookie() -> None:
    """Set no cookie on this answer, even for ?lang=: it is embedded on other sites or read
    by programs, and shared caches keep only what sets none."""
    g.sets_no_cookie = True


def prefer_content_language(lang: str) -> None:
    """Serve this page in `lang` unless the reader chose otherwise (?lang= or cookie).

    A confirmation link is often opened in another browser than the form was sent from;
    the signer's own language is a better guess there than Accept-Language.
    """
    g.content_lang = lang
    refresh()


def remember_choice(response: Response) -> Response:
    """Keep a language picked with ?lang= for the next pages."""
    chosen = normalize(request.args.get("lang"))
    if chosen and request.cookies.get(LANG_COOKIE) != chosen and not g.get("sets_no_cookie"):
        # Secure exactly when the session cookie is (production): which language a person
        # reads is worth hiding from the network too.
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True,
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def show_languages_at(url: str) -> None:
    """Send this page's language links to `url`: the page answers a POST, whose URL a GET
    would not show again (the sign form with errors would be a 405)."""
    g.language_links_to = url


def language_url(code: str) -> str:
    """This page in language `code`: its URL and query with lang= replaced.

    The page a view named with show_languages_at(), else the same path (after a POST,
    without its query).
    """
    if g.get("language_links_to"):
        path, args = g.language_links_to, []
    elif request.method in ("GET", "HEAD"):
        path = _this_path()
        args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    else:
        path, args = _this_path(), []
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}{urlencode(args + [('lang', code)])}"


def _this_path() -> str:
    """This request's path as a link that stays on this site: quoted (a backslash, a tab or
    a quote as %XX) and starting with exactly one "/". A 404 for /%5Cevil.example/x would
    otherwise link to "/\\evil.example/x", which browsers read as //evil.example/x."""
    path = quote(request.script_root + request.path, safe="/:@!$&'()*+,;=")
    return "/" + path.lstrip("/")


def init_app(app: Flask) -> None:
    app.after_request(remember_choice)
    app.jinja_env.globals["language_url"] = language_url
