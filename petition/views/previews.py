"""Link previews: a letter's share image (/letters/<slug>/share.png), the site's favicon and
touch icon, and what the letter pages put in their <head> (description, Open Graph and
Twitter card tags). Its routes join the public blueprint (register(), from views/public.py).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from gettext import NullTranslations
from urllib.parse import quote, urlencode

from babel import Locale
from babel.core import get_global
from babel.numbers import format_decimal
from flask import Blueprint, Response, abort, current_app, request, url_for
from flask_babel import force_locale, get_translations
from flask_babel import gettext as _

from petition.drive import counts as drive_counts
from petition.exporting import icons, pdf, press_cache, share_image
from petition.exporting.grouping import list_token
from petition.extensions import db
from petition.letters import counting
from petition.letters.excerpt import excerpt
from petition.models import Letter, LetterText
from petition.views import public_letter_or_404
from petition.views.embargo import cache_headers
from petition.views.i18n import asked_language, set_no_cookie
from petition.views.site_identity import SiteIdentity, find_logo
from petition.views.templating import goal_percent

logger = logging.getLogger(__name__)

SHARE_IMAGE_MAX_AGE = 300  # seconds: a preview's count may lag this much behind the page
ICON_MAX_AGE = 24 * 3600


def register(bp: Blueprint) -> None:
    """Add the routes and the templates' helpers to the public blueprint."""
    bp.add_url_rule("/letters/<slug>/share.png", "share_image", share_png)
    bp.add_url_rule("/favicon.ico", "favicon", favicon)
    bp.add_url_rule("/apple-touch-icon.png", "touch_icon", touch_icon)
    # What iOS asks for when a page names no touch icon (an old page in a cache).
    bp.add_url_rule("/apple-touch-icon-precomposed.png", "touch_icon_precomposed", touch_icon)
    bp.add_app_template_global(link_preview)
    bp.add_app_template_global(letter_description)


# --- the share image -------------------------------------------------------------------------


def share_png(slug: str) -> Response:
    """The letter's preview image: built once per state of the list, language and look, and
    kept like the press lists (per process, and in Redis across processes)."""
    letter = public_letter_or_404(slug)
    lang, named = asked_language(letter.default_lang)
    set_no_cookie()  # shared caches keep only what sets no cookie
    try:
        fonts = _fonts()
    except pdf.FontMissing as error:
        logger.warning("share image: %s", error)
        abort(404)
    with force_locale(lang):  # the image's language, whatever the cookie says
        translations = get_translations()
        site_name = SiteIdentity().name
    count_public = letter.count_public
    # The count's state only when the count is public: during a count embargo the tag
    # stays the same, and says nothing of signatures coming in.
    base = list_token(letter.id) if count_public else "count-embargoed"
    token = f"{base}.{_look(letter, lang, count_public, site_name)}"
    tag = press_cache.etag(letter.id, token, lang, share_image.FORMAT)
    if request.if_none_match.contains(tag):
        response = Response(status=304)
    else:
        letter_id = letter.id
        try:
            built = press_cache.cache().get(
                (letter_id, lang, share_image.FORMAT), token, None,
                # A token made of list_version alone (a row written around the ORM) is not
                # unique across databases: kept in this process only.
                shareable=not base.startswith("version-"),
                build=lambda: share_image.draw(
                    _card(letter_id, lang, translations, site_name, count_public), fonts),
                wait=current_app.config["PRESS_BUILD_WAIT"])
        except LookupError:
            abort(404)
        response = Response(built.body(), content_type=share_image.MEDIA_TYPE)
        tag = press_cache.etag(letter.id, built.token, lang, share_image.FORMAT)
    response.set_etag(tag)
    response.headers["Content-Language"] = lang
    if not named:
        response.vary.add("Accept-Language")
    return cache_headers(response, letter, max_age=SHARE_IMAGE_MAX_AGE)


def _fonts() -> share_image.Fonts:
    files = pdf.font_files()
    return share_image.Fonts(regular=files[""], bold=files["B"])


def _look(letter: Letter, lang: str, count_public: bool, site_name: str) -> str:
    """What the image shows besides the count, hashed: a new title, goal, site name, or
    the letter closing draws it anew even when no signature came."""
    parts = (share_image.code_version(), lang, letter.text_for(lang).title, str(letter.goal),
             str(letter.is_open), str(count_public), letter.kind, site_name)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _card(letter_id: int, lang: str, translations: NullTranslations, site_name: str,
          count_public: bool) -> share_image.Card:
    """The card in `lang`; run by the press cache's builder, in a thread of its own with the
    app's context but no request: the catalogue is the request's, passed in."""
    letter = db.session.get(Letter, letter_id)
    if letter is None:
        raise LookupError(letter_id)  # deleted meanwhile: the request answers 404

    def number(value: int) -> str:
        return format_decimal(value, locale=lang)

    count_line = goal_line = None
    progress = None
    if count_public:
        if letter.is_drive:
            count = drive_counts.counts(letter).written
            count_line = translations.ngettext(
                "%(num)s letter written", "%(num)s letters written", count) % {
                    "num": number(count)}
        else:
            count = counting.public_total(letter_id)
            count_line = translations.ngettext(
                "%(num)s signature", "%(num)s signatures", count) % {"num": number(count)}
        if letter.goal:
            progress = count / letter.goal
            goal_line = translations.gettext("Goal: %(goal)s") % {"goal": number(letter.goal)}
            if count >= letter.goal:
                goal_line += " · " + translations.gettext("Goal reached")
            elif percent := goal_percent(count, letter.goal, lang):
                goal_line += " · " + translations.gettext("%(percent)s of the goal") % {
                    "percent": percent}
    status_line = None if letter.is_open else translations.gettext("Closed")
    return share_image.Card(title=letter.text_for(lang).title, site_name=site_name,
                            count_line=count_line, goal_line=goal_line, progress=progress,
                            status_line=status_line)


# --- favicon and touch icon ------------------------------------------------------------------


def favicon() -> Response:
    return _icon(icons.favicon, "image/x-icon")


def touch_icon() -> Response:
    return _icon(icons.touch_icon, "image/png")


def _icon(draw, mimetype: str) -> Response:
    logo = find_logo(current_app)
    path = logo.path if logo is not None else None
    try:
        stamp = path.stat().st_mtime if path is not None else 0.0
    except OSError:
        path, stamp = None, 0.0
    try:
        bold = pdf.font_files()["B"]
    except pdf.FontMissing:
        bold = None  # a plain square then
    body = draw(path, stamp, SiteIdentity().name, bold)
    response = Response(body, mimetype=mimetype)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = f"public, max-age={ICON_MAX_AGE}"
    response.make_conditional(request)  # a 304 when the client holds these bytes
    return response


# --- what a letter page puts in its <head> ---------------------------------------------------


@dataclass(frozen=True)
class LinkPreview:
    url: str  # the page, absolute, in its language
    description: str
    image: str
    image_alt: str
    locale: str  # Open Graph's form: "fr_FR"
    alternate_locales: tuple[str, ...]
    site_name: str
    title: str
    image_width: int = share_image.WIDTH
    image_height: int = share_image.HEIGHT


def letter_description(text: LetterText) -> str:
    """The letter's first sentences, plain text, for <meta name="description">."""
    return excerpt(text.body or "") or text.title


def link_preview(letter: Letter, text: LetterText, lang: str) -> LinkPreview:
    base = current_app.config["BASE_URL"]
    page = f"{base}/letters/{quote(letter.slug)}?{urlencode({'lang': lang})}"
    image = base + url_for("public.share_image", slug=letter.slug, lang=lang)
    return LinkPreview(
        url=page, description=letter_description(text), image=image,
        image_alt=_("%(title)s: the title of the letter and its count", title=text.title),
        locale=og_locale(lang),
        alternate_locales=tuple(og_locale(other) for other in letter.languages if other != lang),
        site_name=SiteIdentity().name, title=text.title)


@lru_cache(maxsize=32)
def og_locale(lang: str) -> str:
    """"fr" → "fr_FR": Open Graph wants a language and a territory (CLDR's likeliest)."""
    try:
        territory = Locale.parse(get_global("likely_subtags").get(lang, lang)).territory
    except (ValueError, TypeError):
        return lang
    return f"{lang}_{territory}" if territory else lang
