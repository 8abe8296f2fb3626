"""The back office's curation refusals (petition.signatures.curation and petition.signatures.search)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l


class CurationError(Exception):
    """A change was refused; the message (translatable) says why."""


class SignatureNotFound(CurationError):
    """No signature of this letter has that public id."""


class StaleSelection(CurationError):
    """The filtered selection no longer holds the number of signatures the user was shown."""

    def __init__(self, count: int) -> None:
        super().__init__(_l("The selection has changed: it now holds %(num)d signatures. "
                            "Nothing was done; please check it and confirm again.", num=count))
        self.count = count
