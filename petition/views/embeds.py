"""What other sites embed: a letter's badge (an SVG image) and its widget (a small counter
page, the one page of this site that may be framed).

Both are public figures only, in the language asked for, cached briefly by shared caches
(never past an embargo's end) and set no cookie: a visitor of the embedding site gets
nothing from this one but the figures.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, current_app, g, render_template
from flask_babel import force_locale, format_decimal, get_translations
from flask_babel import gettext as _
from markupsafe import escape

from petition.drive import counts as drive_counts
from petition.letters import counting
from petition.models import Letter
from petition.views import public_letter_or_404
from petition.views.embargo import embed_cache_headers, kept, validated
from petition.views.i18n import asked_language, set_no_cookie
from petition.views.sharing import letter_url

bp = Blueprint("embeds", __name__)

# An SVG opened on its own is a document of this site: no script, no style sheet, no frame.
BADGE_POLICY = "default-src 'none'; sandbox"
# The widget: this site's style sheet only, no script, no form, framed by any site.
WIDGET_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
                 "form-action 'none'; frame-ancestors *")
# About the width of an average character of the badge's 11 px sans-serif, and its margins.
CHAR_WIDTH, PADDING = 6.8, 8


@bp.before_request
def _no_cookie() -> None:
    set_no_cookie()


@dataclass(frozen=True)
class Figures:
    """What an embed shows of a letter: its count when public, toward its goal."""

    count: int | None  # None: an embargo hides it
    goal: int | None
    drive: bool


def figures(letter: Letter) -> Figures:
    count: int | None = None
    if letter.count_public:
        count = (drive_counts.counts(letter).written if letter.is_drive
                 else counting.public_total(letter.id))
    return Figures(count, letter.goal, letter.is_drive)


@bp.get("/letters/<slug>/badge.svg")
def badge(slug: str):
    letter = public_letter_or_404(slug, with_texts=False)  # loaded when built, not when kept
    lang, named = asked_language(letter.default_lang)
    svg = kept(letter, "badge", lang, lambda: _badge(letter, lang))
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = BADGE_POLICY
    return _shared(response, letter, named)


def _badge(letter: Letter, lang: str) -> bytes:
    shown = figures(letter)
    with force_locale(lang):
        parts = [_count_words(shown)]
        if shown.goal and shown.count is not None:
            parts.append(_("Goal reached") if shown.count >= shown.goal
                         else _("Goal: %(goal)s", goal=format_decimal(shown.goal)))
        return render_template("embeds/badge.svg", title=letter.text_for(lang).title,
                               label=" · ".join(parts), boxes=_boxes(parts)).encode()


@bp.get("/letters/<slug>/widget")
def widget(slug: str):
    letter = public_letter_or_404(slug, with_texts=False)
    lang, named = asked_language(letter.default_lang)
    page = kept(letter, "widget", lang, lambda: _widget(letter, lang))
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = WIDGET_POLICY
    g.framable = True  # the factory's security headers then add no X-Frame-Options
    return _shared(response, letter, named)


@dataclass(frozen=True)
class EmbedCode:
    """What an organiser copies into another site, in one language."""

    lang: str
    widget: str  # an <iframe> of the widget
    badge: str  # the badge's <img>, linked to the letter


@bp.app_template_global()
def embed_codes(letter: Letter) -> list[EmbedCode]:
    """The snippets for the back office, in every language of the site (the letter's own
    first): absolute addresses under BASE_URL, every value escaped."""
    base = letter_url(letter.slug)
    languages = dict.fromkeys([letter.default_lang, *current_app.config["LANGUAGES"]])
    codes = []
    for lang in languages:
        title = escape(letter.text_for(lang).title)
        widget = (f'<iframe src="{base}/widget?lang={lang}" title="{title}" width="340" '
                  'height="230" style="border:0" loading="lazy"></iframe>')
        badge = (f'<a href="{base}?lang={lang}"><img src="{base}/badge.svg?lang={lang}" '
                 f'alt="{title}"></a>')
        codes.append(EmbedCode(lang, widget, badge))
    return codes


def _widget(letter: Letter, lang: str) -> bytes:
    with force_locale(lang):
        return render_template("embeds/widget.html", letter=letter, lang=lang,
                               text=letter.text_for(lang), figures=figures(letter),
                               url=f"{letter_url(letter.slug)}?lang={lang}").encode()


def _count_words(shown: Figures) -> str:
    if shown.count is None:
        return _("Count not public yet")
    # The plural form chosen by the count, the count written as the language writes it
    # ("1 234"): flask_babel's ngettext would print the bare integer.
    plural = get_translations().ungettext
    if shown.drive:
        words = plural("%(num)s letter written", "%(num)s letters written", shown.count)
    else:
        words = plural("%(num)s signature", "%(num)s signatures", shown.count)
    return words % {"num": format_decimal(shown.count)}


@dataclass(frozen=True)
class Box:
    """One part of the badge: where it starts, how wide, its words."""

    x: int
    width: int
    text: str

    @property
    def middle(self) -> float:
        return self.x + self.width / 2

    @property
    def text_width(self) -> int:
        return self.width - 2 * PADDING


def _boxes(parts: list[str]) -> list[Box]:
    """Side by side, each as wide as its words are estimated to be (the SVG's textLength
    then fits the words to it whatever font the viewer has)."""
    boxes, x = [], 0
    for text in parts:
        width = round(len(text) * CHAR_WIDTH) + 2 * PADDING
        boxes.append(Box(x, width, text))
        x += width
    return boxes


def _shared(response: Response, letter: Letter, named: bool) -> Response:
    if not named:  # the language came from Accept-Language
        response.vary.add("Accept-Language")
    return validated(embed_cache_headers(response, [letter]))
