"""Who the site belongs to: its name, its organiser, how to reach them, and its logo.

Read from the settings at each use (not copied at start), so that the header, the footer,
the mails and the privacy notice always say the same thing.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app
from flask_babel import gettext as _

from petition.privacy.notice import contact_is_email

# The image types a logo may have, by file extension: the content type is ours, never
# guessed from the file's bytes or a system table.
LOGO_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webp": "image/webp",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
# Looked for in instance/ when SITE_LOGO is not set, in this order.
LOGO_NAMES = tuple(f"logo{extension}" for extension in LOGO_TYPES)

@dataclass(frozen=True)
class Logo:
    path: Path
    mimetype: str


def find_logo(app: Flask) -> Logo | None:
    """SITE_LOGO (absolute, or relative to instance/), else instance/logo.*; None if none."""
    return logo_at(app.instance_path, app.config.get("SITE_LOGO") or "")


def logo_at(instance_path: str, configured: str) -> Logo | None:
    """find_logo() of these settings.

    A file of another type than LOGO_TYPES is ignored: served as an image it could be
    anything the server was pointed at.
    """
    configured = configured.strip()
    instance = Path(instance_path)
    candidates = [instance / configured] if configured else [instance / n for n in LOGO_NAMES]
    for path in candidates:
        mimetype = LOGO_TYPES.get(path.suffix.lower())
        if mimetype and path.is_file():
            return Logo(path, mimetype)
    return None


class SiteIdentity:
    """The `site` of every template, the mails' included: site.name, site.organiser_name..."""

    @property
    def name(self) -> str:
        config = current_app.config
        # Never "petition": a campaign's visitors see its own name, or a neutral one.
        return ((config.get("SITE_NAME") or "").strip()
                or (config.get("ORGANISER_NAME") or "").strip()
                or _("Open letters"))

    @property
    def organiser_name(self) -> str:
        return (current_app.config.get("ORGANISER_NAME") or "").strip()

    @property
    def organiser_contact(self) -> str:
        return (current_app.config.get("ORGANISER_CONTACT") or "").strip()

    @property
    def contact_is_email(self) -> bool:
        return contact_is_email(self.organiser_contact)

    @property
    def contact_url(self) -> str:
        """A link to the contact when it is an address or a web page, else ""."""
        contact = self.organiser_contact
        if contact_is_email(contact):
            return f"mailto:{contact}"
        if contact.startswith(("https://", "http://")) and not any(c.isspace() for c in contact):
            return contact
        return ""

    @property
    def has_logo(self) -> bool:
        return _has_logo(current_app.instance_path, current_app.config.get("SITE_LOGO") or "",
                         int(time.monotonic() // LOGO_LOOKUP_SECONDS))


# Whether a logo exists is looked up on disk once every this many seconds per setting, not
# on every page (five file lookups when there is none): a logo put in instance/ shows
# within that time.
LOGO_LOOKUP_SECONDS = 10


@lru_cache(maxsize=16)
def _has_logo(instance_path: str, configured: str, period: int) -> bool:
    return logo_at(instance_path, configured) is not None


def init_app(app: Flask) -> None:
    app.jinja_env.globals["site"] = SiteIdentity()
