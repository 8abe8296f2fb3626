"""Which language a request is served in: ?lang=, then the cookie, then Accept-Language."""
from __future__ import annotations

from flask import current_app, request

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
