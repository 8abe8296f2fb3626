"""What the sign and letter forms check before anything else: the client's key for the
hard limit, and the minimum time between showing a form and posting it.

SIGN_MIN_SECONDS: the form carries the time it was shown, signed (tokens.py); a POST
sooner than that after it, or with no valid stamp while the setting is on, is a script's,
and is dropped as the honeypot drops: the same "check your mail" page, nothing stored,
nothing mailed. 0 turns it off (integrators' test suites post at once).
"""
from __future__ import annotations

import time

from flask import current_app, request
from markupsafe import Markup, escape

from petition import tokens
from petition.abuse.network import limit_key

FIELD = "form_started"


def client_key() -> str:
    """The hard limits' key: the client address behind the trusted proxies, an IPv6
    address by its /64 (network.limit_key())."""
    return limit_key(request.remote_addr)


def stamp_field() -> Markup:
    """The hidden field a sign or letter form carries (a Jinja global)."""
    token = tokens.form_started_token(int(time.time() * 1000))
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(token)}">')


def too_fast() -> bool:
    """Whether this POST came sooner than SIGN_MIN_SECONDS after its form was shown, or
    carries no stamp made here (while the setting is on)."""
    minimum = float(current_app.config["SIGN_MIN_SECONDS"])
    if minimum <= 0:
        return False
    value = request.form.get(FIELD, "")
    try:
        shown = tokens.read_form_started_token(value) if isinstance(value, str) else None
    except tokens.BadSignature:
        return True
    if shown is None:
        return True
    return time.time() * 1000 - shown < minimum * 1000
