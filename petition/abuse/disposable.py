"""Throwaway mail domains, refused on the sign and letter forms with a clear message.

The list is the maintained `disposable-email-domains` package, pinned in requirements.txt
(updated deliberately, like any dependency). A domain is refused when it or any parent
domain is listed (mx.mailinator.com as mailinator.com). Privacy relays give a person a
lasting address that reaches them and that they can answer from: they stay allowed, even
if a future list names them.
"""
from __future__ import annotations

from disposable_email_domains import blocklist

# Relays of real mailboxes (SimpleLogin, Proton, Firefox Relay, addy.io, DuckDuckGo, Apple):
# one person each, so what the limits and the duplicate check rely on still holds.
PRIVACY_RELAYS = frozenset({
    "simplelogin.com", "simplelogin.co", "simplelogin.fr", "slmail.me", "slmails.com",
    "aleeas.com", "8alias.com", "8shield.net", "dralias.com",
    "proton.me", "protonmail.com", "protonmail.ch", "pm.me", "passmail.net", "passmail.com",
    "passinbox.com", "passfwd.com",
    "mozmail.com", "relay.firefox.com",
    "anonaddy.com", "anonaddy.me", "addy.io",
    "duck.com", "icloud.com", "privaterelay.appleid.com",
})


def is_disposable(domain: str) -> bool:
    """Whether mail to `domain` (lower case, as email-validator gives it) goes to a
    throwaway inbox."""
    parts = domain.strip().rstrip(".").lower().split(".")
    candidates = [".".join(parts[index:]) for index in range(len(parts) - 1)]
    if any(candidate in PRIVACY_RELAYS for candidate in candidates):
        return False
    return any(candidate in blocklist for candidate in candidates)
