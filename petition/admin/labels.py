"""What the back office shows for stored values: "Organiser", not "organiser".

One table per kind of value, so a page never prints a raw state and a translator finds
every word in one place. Templates use the filter: {{ account.role|human('role') }}.
"""
from __future__ import annotations

from babel import Locale
from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from petition import models as m
from petition.models import drive as d
from petition.models.accounts import ROLE_ADMIN, ROLE_ORGANISER, ROLE_PRESS, ROLE_TRANSLATOR

LABELS = {
    "role": {ROLE_ADMIN: _l("Administrator"), ROLE_ORGANISER: _l("Organiser"),
             ROLE_PRESS: _l("Press officer"), ROLE_TRANSLATOR: _l("Translator")},
    "kind": {m.OPEN_LETTER: _l("Open letter"), m.LETTER_DRIVE: _l("Letter drive")},
    # A personal letter of a drive: its states, and what the writer let the page show.
    "drive_status": {d.PENDING: _l("Awaiting confirmation"), d.REVIEW: _l("Waiting for review"),
                     d.RETURNED: _l("Returned to the writer"), d.APPROVED: _l("Approved"),
                     d.SENT: _l("Sent"), d.REJECTED: _l("Rejected"),
                     d.WITHDRAWN: _l("Withdrawn"), "translation": _l("Waiting for translation"),
                     "ready": _l("Ready to send")},
    "publish": {d.PUBLISH_NO: _l("Not to be published"),
                d.PUBLISH_INITIALS: _l("May be published under initials"),
                d.PUBLISH_FULL: _l("May be published under the full name")},
    "letter_status": {m.DRAFT: _l("Draft"), m.OPEN: _l("Open"), m.CLOSED: _l("Closed")},
    "status": {m.PENDING: _l("Awaiting confirmation"), m.CONFIRMED: _l("Confirmed"),
               m.WITHDRAWN: _l("Withdrawn")},
    "moderation": {m.MOD_NONE: _l("Not moderated"), m.MOD_HELD: _l("Awaiting approval"),
                   m.MOD_APPROVED: _l("Approved"), m.MOD_REJECTED: _l("Rejected"),
                   m.MOD_HIDDEN: _l("Hidden"), m.MOD_FLAGGED: _l("Flagged"),
                   m.MOD_INVALID: _l("Invalid")},
    # A bulk invalidation job (models/abuse.py).
    "job_status": {"running": _l("Running"), "done": _l("Done"), "undone": _l("Undone"),
                   "failed": _l("Failed")},
    "signer_type": {m.ORGANIZATION: _l("Organisation"), m.INDIVIDUAL: _l("Individual")},
    "signer_types": {m.ORGANIZATION: _l("Organisations"), m.INDIVIDUAL: _l("Individuals")},
    "display": {m.FULL: _l("Name in full"), m.INITIALS: _l("Initials only"),
                m.ANONYMOUS: _l("Counted, not listed")},
    "source": {m.SOURCE_FORM: _l("Signed online"), m.SOURCE_IMPORT: _l("Imported"),
               m.SOURCE_MANUAL: _l("Added by hand")},
    "action": {"approve": _l("Approve"), "reject": _l("Reject"), "hide": _l("Hide"),
               "delete": _l("Delete")},
}


def human(value: str | None, kind: str) -> str:
    """The label of `value`, or the value itself if the table has none (never an error)."""
    if value is None:
        return ""
    return str(LABELS[kind].get(value, value))


def labelled(rows: list[tuple[str, int]], kind: str) -> list[tuple[str, int]]:
    """Counted values with their labels: [("Confirmed", 12), …]."""
    return [(human(value, kind), count) for value, count in rows]


def language_name(code: str) -> str:
    """"French" for fr in an English interface, "français" in French."""
    try:
        name = Locale.parse(code).get_display_name(str(get_locale()))
    except (ValueError, LookupError):
        return code
    return name or code


def init_app(app: Flask) -> None:
    app.jinja_env.filters["human"] = human
    app.jinja_env.globals["language_name"] = language_name
    app.jinja_env.globals["labels_of"] = LABELS.__getitem__  # a whole table, for choices
