"""Jinja helpers: safe Markdown, localized dates and numbers."""
from __future__ import annotations

import datetime as dt
import re

import nh3
from babel.numbers import format_currency, format_percent
from flask import Flask
from flask_babel import format_decimal, get_locale, get_translations
from jinja2 import pass_context
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from petition import dates
from petition.exporting.document import place_and_date
from petition.letters import campaign, milestones
from petition.letters.status import public_status
from petition.views import forms, submission_guard

# CommonMark with raw HTML off; nh3 then strips anything that still is not plain markup.
# Linkify (linkify-it-py): a bare "https://t.me/…" in a letter text becomes a link too.
_markdown = MarkdownIt(
    "commonmark", {"html": False, "linkify": True, "typographer": False}
).enable("linkify")
_ALLOWED_TAGS = {
    "p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote", "h2", "h3", "h4",
    "code", "pre", "hr",
}


def render_markdown(text: str | None) -> Markup:
    html = _markdown.render(text or "")
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)


# Where a mail program finds a link in text: "t.me/x", "a@b.org", "host:port".
_LINK_PUNCTUATION = re.compile(r"([.@:/])")


def unlinked(text: str | None) -> Markup:
    """`text` for an HTML mail, escaped, with each dot, "@", colon and slash in an element of
    its own: no text node then holds anything a mail program could turn into a link (a
    name the link rule let through still reaches whatever address was typed)."""
    return Markup(_LINK_PUNCTUATION.sub(r"<span>\1</span>", str(escape(text or ""))))


def utc_when(value: dt.datetime, lang: object = None) -> str:
    """A naive UTC time as a reader of `lang` writes it: "December 24, 2026, 9:00 AM UTC"."""
    return dates.long_utc_time(value, str(lang or get_locale()))


def long_date(value: dt.date, lang: object = None) -> str:
    """A date as a reader of `lang` (else the page's language) writes it, CLDR's long form:
    "February 1, 2027", "1er février 2027", "1 февраля 2027 г."."""
    return dates.long_date(value, str(lang or get_locale()))


def goal_percent(count: int, goal: int | None, lang: object = None) -> str:
    """How far `count` is towards `goal`, to a tenth of a per cent under 10 %:
    "0.4 %" reads better than "0 %" for a letter that has started; "" if not started."""
    if not goal or count <= 0:
        return ""
    # Rounded down, in whole numbers: 999 of 1,000 is not "100 %".
    per_mille = count * 1000 // goal
    ratio = per_mille / 1000 if per_mille < 100 else (count * 100 // goal) / 100
    if ratio == 0:
        return ""
    return format_percent(ratio, locale=str(lang or get_locale()), decimal_quantization=False)


def bcp47(lang: object) -> str:
    """A stored locale code as HTML's lang attribute wants it: "pt_BR" → "pt-BR"."""
    return str(lang).replace("_", "-")


def bound_translations() -> dict:
    """`gettext` and `ngettext` for one render, bound to the translations in force now.

    flask_babel's own look the locale and the catalogue up again on every call: 20 to 40
    calls a page, 40 % of rendering the thank-you page. A template's `_()` resolves
    `gettext` from its context first, so these win; they behave as Jinja's "newstyle"
    gettext (jinja2.ext), which flask_babel installs: escaped, then %-formatted.
    """
    translations = get_translations()
    return {"gettext": _newstyle_gettext(translations.ugettext),
            "ngettext": _newstyle_ngettext(translations.ungettext)}


def _newstyle_gettext(translate):
    @pass_context
    def gettext(context, string: str, **variables):
        text = translate(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        # "до %(date)s." with a date ending "г.": one full stop (dates.one_full_stop).
        # %-formatted always, as Jinja does: "%%" is "%" with or without values.
        return dates.one_full_stop(text, variables) % variables
    return gettext


def _newstyle_ngettext(translate):
    @pass_context
    def ngettext(context, singular: str, plural: str, number: int, **variables):
        variables.setdefault("num", number)
        text = translate(singular, plural, number)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return dates.one_full_stop(text, variables) % variables
    return ngettext


def money(cents: int, currency: str) -> str:
    """An amount kept in cents, as the reader's language writes it: "3,20 €", "€3.20"."""
    return format_currency(cents / 100, currency, locale=str(get_locale()))


def campaign_block(letter, lang: object = None) -> campaign.Block | None:
    """The letter's campaign block in `lang` (else the page's language), else in the
    letter's own language: for templates/letters/_campaign.html, on pages and in mails."""
    return campaign.block_for(letter, str(lang or get_locale()))


def init_app(app: Flask) -> None:
    app.context_processor(bound_translations)
    app.jinja_env.filters["bcp47"] = bcp47
    app.jinja_env.filters["utc_when"] = utc_when
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["unlinked"] = unlinked
    app.jinja_env.globals["place_and_date"] = place_and_date
    app.jinja_env.globals["goal_percent"] = goal_percent
    app.jinja_env.globals["public_status"] = public_status
    app.jinja_env.globals["campaign_block"] = campaign_block
    app.jinja_env.globals["reached_milestones"] = milestones.reached_milestones
    app.jinja_env.globals["milestone_thresholds"] = milestones.thresholds
    app.jinja_env.globals["error_list"] = forms.error_list
    app.jinja_env.globals["field_aria"] = forms.field_aria
    app.jinja_env.globals["form_started_field"] = submission_guard.stamp_field
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["number"] = format_decimal  # 70 000 in French, 70,000 in English
    app.jinja_env.filters["money"] = money
