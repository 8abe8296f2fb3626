"""Plain links to share a letter, built here: no share button script, no third-party call.

A visitor's browser contacts a network only if they follow its link. One definition for
every page that offers them (templates/letters/_share.html): the letter page, a drive's
page, the thank-you pages and every "already confirmed" answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from petition.models import Letter, LetterText
from petition.views import public_letter_or_404


@dataclass(frozen=True)
class ShareLink:
    network: str  # a proper name, the same in every language
    url: str
    elsewhere: bool = True  # opens another site (a new tab); False: a page of ours


@dataclass(frozen=True)
class Shares:
    url: str  # the letter's address, to copy
    mail: str  # a mailto: link with a subject and a text
    links: tuple[ShareLink, ...]


def register(bp: Blueprint) -> None:
    """Add the Mastodon share page to the public blueprint."""
    bp.add_url_rule("/letters/<slug>/share/mastodon", "share_mastodon", mastodon,
                    methods=["GET", "POST"])
    bp.add_app_template_global(letter_shares)


def letter_url(slug: str) -> str:
    """The letter's public address, without a language: each reader gets their own."""
    return f"{current_app.config['BASE_URL']}/letters/{quote(slug)}"


def mailto(subject: str, body: str) -> str:
    # quote, not urlencode: mail programs read "+" literally in mailto: links (RFC 6068).
    return f"mailto:?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


def invitation(letter: Letter, title: str, done: bool) -> str:
    """What the sharer says: done, once they signed (or wrote); else an invitation."""
    if letter.is_drive:
        return (_("I wrote a letter: %(title)s", title=title) if done
                else _("Write a letter: %(title)s", title=title))
    return (_("I signed this open letter: %(title)s", title=title) if done
            else _("Sign this open letter: %(title)s", title=title))


def letter_shares(letter: Letter, text: LetterText, done: bool = False) -> Shares:
    """The shares of `letter` in the page's language (`text` is the letter's text in it)."""
    url = letter_url(letter.slug)
    message = invitation(letter, text.title, done)
    mastodon_page = url_for("public.share_mastodon", slug=letter.slug, done=1 if done else None)
    return Shares(url=url, mail=mailto(text.title, f"{message}\n\n{url}"),
                  links=share_links(url, message, mastodon_page))


@lru_cache(maxsize=256)
def share_links(url: str, text: str, mastodon_page: str) -> tuple[ShareLink, ...]:
    """Each network's own "share this" address, as documented by the network (kept: the
    same few letters and languages, on every page).

    Mastodon has no single address (each server has its own): our page asks for the
    reader's server, then sends them to its /share.
    """
    both = f"{text} {url}"
    return (
        ShareLink("Telegram", "https://t.me/share/url?" + urlencode({"url": url, "text": text})),
        ShareLink("WhatsApp", "https://wa.me/?" + urlencode({"text": both})),
        ShareLink("Bluesky", "https://bsky.app/intent/compose?" + urlencode({"text": both})),
        ShareLink("Mastodon", mastodon_page, elsewhere=False),
        ShareLink("Facebook",
                  "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
        ShareLink("X", "https://x.com/intent/post?" + urlencode({"text": text, "url": url})),
        ShareLink("VK", "https://vk.com/share.php?" + urlencode({"url": url, "title": text})),
        ShareLink("LinkedIn",
                  "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url})),
    )


# --- Mastodon: which server? -----------------------------------------------------------------

# A server's host name as people type it: "mastodon.social", "https://eldritch.cafe/",
# "@ana@mas.to" (their address: the server is after the second "@").
_HOST = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
                   r"(?:[a-z]{2,63}|xn--[a-z0-9-]{2,59})$")
INSTANCE_MAX = 300


def mastodon_host(typed: str) -> str | None:
    """The server's host name in what was typed, or None if it names none."""
    value = typed.strip().lower()
    if len(value) > INSTANCE_MAX:
        return None
    if value.startswith("@") or value.count("@") == 1 and "/" not in value:
        value = value.rsplit("@", 1)[-1]
    for prefix in ("https://", "http://"):
        if value.startswith(prefix):
            value = value[len(prefix):]
    value = value.split("/", 1)[0]
    try:
        value = value.encode("idna").decode("ascii")  # "café.social" → "xn--caf-dma.social"
    except UnicodeError:
        return None
    return value if _HOST.match(value) else None


def mastodon(slug: str) -> ResponseReturnValue:
    """GET: a form asking for the reader's server; POST (the form, with its CSRF token, so
    no other site can send a visitor through here elsewhere): off to that server's /share
    page with the text filled in."""
    letter = public_letter_or_404(slug)
    text = letter.text_for(str(get_locale()))
    done = request.values.get("done") == "1"
    message = f"{invitation(letter, text.title, done)} {letter_url(letter.slug)}"
    error = None
    typed = ""
    if request.method == "POST":
        typed = request.form.get("instance", "")[:INSTANCE_MAX]
        host = mastodon_host(typed)
        if host is not None:
            return redirect(f"https://{host}/share?" + urlencode({"text": message}), code=303)
        error = _("Type the address of your Mastodon server, for example mastodon.social.")
    page = render_template("letters/share_mastodon.html", letter=letter, text=text,
                           message=message, done=done, typed=typed, error=error)
    return (page, 400) if error else page
