"""What the privacy notice states, read from the settings and the letter, never typed twice.

The notice promises periods that the retention code keeps: both read the same settings,
so changing one changes what the notice says.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from flask import Flask
from limits import parse_many

from petition.models import Letter
from petition.names import N_

_DAY, _HOUR = 86400, 3600

# The subjects of the mails signers get, which the notice quotes: what a mail provider, or
# anyone who sees a phone's lock screen, reads of them. One for the sign form's mails (the
# confirmation link, "already signed"), one for the withdrawal form's answer: the same
# whatever the address's history, and never a letter's title (signatures.mails uses these).
SIGN_SUBJECT = N_("Your signature")
WITHDRAW_SUBJECT = N_("About your signature")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")


def contact_is_email(contact: str) -> bool:
    """Whether the organiser's contact is a mail address (linked as mailto:)."""
    return bool(_EMAIL.fullmatch(contact))


def _days(seconds: float) -> int:
    return max(1, math.ceil(seconds / _DAY))


def _limit_window_hours(spec: str) -> int:
    """The longest window of a Flask-Limiter spec ("10 per minute;60 per hour" → 1)."""
    try:
        windows = [limit.get_expiry() for limit in parse_many(spec)]
    except ValueError:
        return 1
    return max(1, math.ceil(max(windows, default=_HOUR) / _HOUR))


@dataclass(frozen=True)
class PrivacyFacts:
    organiser_name: str
    organiser_contact: str
    contact_is_email: bool
    confirm_hours: int          # a confirmation link works this long
    unconfirmed_days: int       # a signature never confirmed is deleted after this
    failed_mail_days: int       # an undeliverable mail keeps address and text this long
    # after the letter closes, email fingerprints are erased, and its news list with them
    # (retention._erase): the notice states one period for both
    fingerprint_days: int
    limiter_hours: int          # the rate limiter remembers a client address this long
    # abuse review keeps keyed hashes of a client address and its block, and the mail's domain,
    # this long (abuse/events.py, ABUSE_EVENT_HOURS), plus the worker's hour
    abuse_hours: int
    letter: Letter | None
    # The subjects of our mails, untranslated (the template translates them).
    sign_subject: str = SIGN_SUBJECT
    withdraw_subject: str = WITHDRAW_SUBJECT


def facts(app: Flask, letter: Letter | None = None) -> PrivacyFacts:
    config = app.config
    contact = (config.get("ORGANISER_CONTACT") or "").strip()
    failed = config["MAIL_FAILED_RETENTION"] or config["CONFIRM_MAX_AGE"]
    limits = ";".join(config.get(name) or "" for name in
                      ("RATELIMIT_SIGN", "RATELIMIT_WITHDRAW") if config.get(name))
    return PrivacyFacts(
        organiser_name=(config.get("ORGANISER_NAME") or "").strip(),
        organiser_contact=contact,
        contact_is_email=contact_is_email(contact),
        confirm_hours=max(1, config["CONFIRM_MAX_AGE"] // _HOUR),
        unconfirmed_days=_days(config["UNCONFIRMED_RETENTION"]),
        failed_mail_days=_days(failed),
        fingerprint_days=(letter.fingerprint_retention_days if letter is not None
                          else config["FINGERPRINT_RETENTION_DAYS"]),
        limiter_hours=_limit_window_hours(limits or "1 per hour"),
        abuse_hours=int(config.get("ABUSE_EVENT_HOURS", 48)) + 1,
        letter=letter,
    )
