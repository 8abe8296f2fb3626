"""Plain links to share a letter, built here: no share button script, no third-party call.

A visitor's browser contacts a network only if they follow its link.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlencode

from flask import current_app


@dataclass(frozen=True)
class ShareLink:
    network: str  # a proper name, the same in every language
    url: str


def letter_url(slug: str) -> str:
    """The letter's public address, without a language: each reader gets their own."""
    return f"{current_app.config['BASE_URL']}/letters/{quote(slug)}"


def mailto(subject: str, body: str) -> str:
    # quote, not urlencode: mail programs read "+" literally in mailto: links (RFC 6068).
    return f"mailto:?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


@lru_cache(maxsize=256)
def share_links(url: str, text: str) -> tuple[ShareLink, ...]:
    """Each network's own "share this" address, as documented by the network (kept: the
    same few letters and languages, on every confirmation).

    No Mastodon: it has no single address (each server has its own); the copied link does.
    """
    both = f"{text} {url}"
    return (
        ShareLink("Bluesky", "https://bsky.app/intent/compose?" + urlencode({"text": both})),
        ShareLink("Telegram", "https://t.me/share/url?" + urlencode({"url": url, "text": text})),
        ShareLink("WhatsApp", "https://wa.me/?" + urlencode({"text": both})),
        ShareLink("Facebook",
                  "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
        ShareLink("X", "https://x.com/intent/post?" + urlencode({"text": text, "url": url})),
        ShareLink("LinkedIn",
                  "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url})),
        ShareLink("VK", "https://vk.com/share.php?" + urlencode({"url": url, "title": text})),
    )
