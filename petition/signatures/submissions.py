"""What one submission asks to be listed as, and how that reads on a page or in a mail.

A pending signature keeps its first submission on the Signature row; each later, different
one is a SignatureVersion with its own link. Both read as a Submission, so the confirm page,
the mail and confirm() all describe and apply exactly the same thing.

A Submission holds the real name and affiliation; a row stores them as hidden_names says
(encrypted for an individual listed by initials or not at all): rows are read with
Submission.of() and written with Submission.columns(), never field by field.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypedDict

from flask import current_app

from petition import countries, tokens
from petition.exporting.grouping import listed_name
from petition.models import (
    ANONYMOUS,
    DISPLAY_CHOICES,
    FULL,
    INDIVIDUAL,
    Letter,
    Signature,
    SignatureVersion,
    new_nonce,
)
from petition.privacy import hidden_names

# The columns a submission sets, in Signature and SignatureVersion alike. `news`: the box
# "send me news", which the submission's own link confirms with it.
FIELDS = ("signer_type", "name", "affiliation", "country", "display", "lang", "news")


class Columns(TypedDict):
    """What a Signature or SignatureVersion row stores of a submission (columns())."""

    signer_type: str
    name: str
    affiliation: str | None
    country: str
    display: str
    lang: str
    private_encrypted: bytes | None
    news: bool


@dataclass(frozen=True)
class Submission:
    signer_type: str
    name: str
    affiliation: str | None
    country: str
    display: str
    lang: str
    news: bool = False

    @classmethod
    def of(cls, row: Signature | SignatureVersion) -> Submission:
        """What a stored row asks for, its hidden name decrypted."""
        values = {name: getattr(row, name) for name in FIELDS}
        values["name"], values["affiliation"] = hidden_names.real(row)
        values["news"] = bool(values["news"])  # a row not yet flushed holds None
        return cls(**values)

    @classmethod
    def make(cls, *, signer_type: str, name: str, affiliation: str | None, country: str,
             display: str, lang: str, news: bool = False) -> Submission:
        """Normalised: organisations are always listed by name, only individuals may hide."""
        return cls(signer_type, name, affiliation or None, country,
                   display if signer_type == INDIVIDUAL else FULL, lang, bool(news))

    def values(self) -> dict[str, object]:
        """The real values, in memory only: rows are written with columns()."""
        return {name: getattr(self, name) for name in FIELDS}

    def columns(self) -> Columns:
        """What a Signature or SignatureVersion row stores: a hidden name encrypted."""
        sealed = hidden_names.seal(self.signer_type, self.name, self.affiliation, self.display)
        return {"signer_type": self.signer_type, "name": sealed["name"],
                "affiliation": sealed["affiliation"], "country": self.country,
                "display": self.display, "lang": self.lang,
                "private_encrypted": sealed["private_encrypted"], "news": self.news}

    def lists_like(self, other: Submission) -> bool:
        """Whether both would appear the same on the list and ask the same of news (the
        language may differ): a link confirms exactly one such submission."""
        return all(getattr(self, name) == getattr(other, name) for name in FIELDS if name != "lang")


def display_on(letter: Letter, signer_type: str, display: str | None) -> str:
    """The display a submission to `letter` is stored with. On a petition an individual is
    never listed, whatever was posted: anonymous, the real name encrypted (hidden_names)
    for the organisers' private exports. Elsewhere the signer's choice, else the letter's
    default. Organisations are listed by name (Submission.make), never on a petition's
    public side (exporting.collect)."""
    if signer_type != INDIVIDUAL:
        return FULL
    if letter.is_petition:
        return ANONYMOUS
    return display if display in DISPLAY_CHOICES else letter.individual_display


@dataclass(frozen=True)
class Listing:
    """How a submission will appear, for a reader of `lang`: what the confirm page shows."""

    signer_type: str
    line: str | None  # None: counted, not listed
    country: str


def listing(submission: Submission, letter: Letter, lang: str,
            labels: dict[str, str] | None = None) -> Listing:
    """`labels`: the letter's labels in `lang` if the caller has them (else read here)."""
    # A petition lists nobody, organisations included: "counted, not listed".
    line = None if letter.is_petition else listed_name(
        submission.signer_type, submission.name, submission.affiliation, submission.display)
    labels = letter.labels_for(lang) if labels is None else labels
    country = countries.display_name(submission.country, lang, labels)
    return Listing(submission.signer_type, line, country)


@dataclass
class Link:
    """One confirmation link: a pending signature and the submission the link confirms.

    `version` None is the first submission, kept on the signature row itself.
    """

    signature: Signature
    version: SignatureVersion | None = None

    @property
    def _row(self) -> Signature | SignatureVersion:
        return self.version if self.version is not None else self.signature

    @property
    def submission(self) -> Submission:
        return Submission.of(self._row)

    @property
    def lang(self) -> str:
        """The language the submission was made in (no decryption, unlike submission)."""
        return self._row.lang

    @property
    def nonce(self) -> str:
        return self.version.nonce if self.version is not None else self.signature.token_nonce

    @property
    def token(self) -> str:
        return tokens.confirm_token(self.signature.public_id, self.nonce)

    def expired(self, now: dt.datetime) -> bool:
        issued = self._row.link_issued_at
        max_age = dt.timedelta(seconds=current_app.config["CONFIRM_MAX_AGE"])
        return issued is None or now - issued > max_age

    def renew(self, issued_at: dt.datetime) -> None:
        """A new link for the same submission: the old one stops working."""
        if self.version is not None:
            self.version.nonce = new_nonce()
        else:
            self.signature.token_nonce = new_nonce()
        self._row.link_issued_at = issued_at
