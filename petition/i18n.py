"""Which language a request is served in: ?lang=, then the cookie, then Accept-Language."""
from __future__ import annotations

from flask import Flask, Response, current_app, request

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
        or request.accept_languages.best_match(supported())
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def remember_choice(response: Response) -> Response:
    """Keep a language picked with ?lang= for the next pages."""
    chosen = normalize(request.args.get("lang"))
    if chosen and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True)
    return response


def init_app(app: Flask) -> None:
    app.after_request(remember_choice)
