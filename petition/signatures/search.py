"""Finding a letter's signatures in the back office: filters, a page of results, by address
and by public id. The selection is also what curation's bulk actions act on; the refusals
of both (CurationError and its kinds) are defined here.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, func, literal_column, or_, select
from sqlalchemy.orm import QueryableAttribute

from petition import addresses, countries
from petition.accounts import audit
from petition.collation import COMBINING_MARKS, search_fold
from petition.extensions import SEARCH_FOLD, db
from petition.models import (
    MODERATION_STATES,
    SIGNATURE_STATES,
    SOURCE_FORM,
    SOURCE_IMPORT,
    SOURCE_MANUAL,
    Letter,
    Signature,
)
from petition.names import clean_text, holds_address, plain_text_problem


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


class ChangedMeanwhile(CurationError):
    """The signature was changed or deleted by someone else since it was read: a concurrent
    correction, deletion or decision. Nothing was done."""

    def __init__(self) -> None:
        super().__init__(_l("This signature was changed or deleted by someone else meanwhile. "
                            "Nothing was done; please check it and try again."))


SOURCES = (SOURCE_FORM, SOURCE_IMPORT, SOURCE_MANUAL)
PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    """A search: each criterion narrows; empty ones do not."""

    # Part of the name or affiliation, any case or accents: as the list shows it (the
    # initials of those who chose initials, nothing of the unlisted), as a hidden real name
    # is encrypted.
    q: str = ""
    country: str = ""        # a country or scope code
    status: str = ""
    source: str = ""
    moderation: str = ""
    since: dt.date | None = None  # confirmed on or after
    until: dt.date | None = None  # confirmed on or before

    FIELDS = ("q", "country", "status", "source", "moderation", "since", "until")

    @classmethod
    def parse(cls, values: Mapping[str, str]) -> Filters:
        """From the strings of a form; CurationError names the first bad one."""
        text = {name: (values.get(name) or "").strip() for name in cls.FIELDS}
        country = countries.normalize_code(text["country"]) if text["country"] else ""
        if country and not countries.is_valid(country):
            raise CurationError(_l("Unknown country or region code."))
        for name, allowed in (("status", SIGNATURE_STATES), ("source", SOURCES),
                              ("moderation", MODERATION_STATES)):
            if text[name] and text[name] not in allowed:
                raise CurationError(_l("Unknown value for %(field)s.", field=name))
        since, until = _date(text["since"]), _date(text["until"])
        if since and until and since > until:
            raise CurationError(_l("The start date is after the end date."))
        return cls(q=text["q"][:200], country=country, status=text["status"],
                   source=text["source"], moderation=text["moderation"], since=since, until=until)

    def as_strings(self) -> dict[str, str]:
        """The non-empty criteria as form strings, for links and hidden fields."""
        values = {name: getattr(self, name) for name in self.FIELDS}
        return {name: (value.isoformat() if isinstance(value, dt.date) else value)
                for name, value in values.items() if value}

    def for_audit(self) -> str:
        # The text searched for may be a name its signer asked not to have listed.
        values = self.as_strings()
        if "q" in values:
            values["q"] = "…"
        return " ".join(f"{name}={value}" for name, value in values.items()) or "all"


def _date(value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CurationError(_l("Please give dates as YYYY-MM-DD.")) from None


def _folded(column: QueryableAttribute[Any]) -> ColumnElement[Any]:
    """`column` as collation.search_fold() folds text, in SQL: SQLite calls that function
    itself; PostgreSQL lower-cases, decomposes and strips the same marks."""
    if db.session.get_bind().dialect.name == "sqlite":
        return getattr(func, SEARCH_FOLD)(column)
    decomposed = func.normalize(func.lower(column), literal_column("NFD"))
    return func.regexp_replace(decomposed, COMBINING_MARKS, "", "g")


def selection(letter: Letter, filters: Filters) -> Select:
    """The letter's signatures matching `filters`, newest first."""
    query = select(Signature).where(Signature.letter_id == letter.id)
    if filters.q:
        # contains escapes % and _: they are searched for as typed. Both sides folded
        # (case and accents, every script): "élise" finds "ÉLISE", "мария" finds "Мария".
        needle = search_fold(filters.q)
        query = query.where(or_(_folded(Signature.name).contains(needle, autoescape=True),
                                _folded(Signature.affiliation).contains(needle, autoescape=True)))
    for name in ("country", "status", "source", "moderation"):
        if getattr(filters, name):
            query = query.where(getattr(Signature, name) == getattr(filters, name))
    if filters.since:
        query = query.where(Signature.confirmed_at >= dt.datetime.combine(filters.since, dt.time()))
    if filters.until:
        end = dt.datetime.combine(filters.until + dt.timedelta(days=1), dt.time())
        query = query.where(Signature.confirmed_at < end)
    return query.order_by(Signature.created_at.desc(), Signature.id.desc())


def search(letter: Letter, filters: Filters, page: int = 1,
           per_page: int = PAGE_SIZE) -> Pagination:
    """One page of the selection, with its total."""
    return db.paginate(selection(letter, filters), page=max(page, 1), per_page=per_page,
                       error_out=False)


def find_by_email(letter: Letter, email: str) -> Signature | None:
    """The letter's signature made with this address, through its keyed hash.

    The address goes through the canonical form signing stores (email-validator's
    normalisation, then addresses.email_hashes), so "Jane+x@Example.ORG" finds
    jane@example.org, and a signature hashed before +tags were folded is found too.
    """
    try:
        canonical = addresses.canonical_email(email)
    except EmailNotValidError:
        raise CurationError(_l("This does not look like an email address.")) from None
    return db.session.scalar(select(Signature).where(
        Signature.letter_id == letter.id,
        Signature.email_hash.in_(addresses.email_hashes(canonical)))
        # Under an older unfolded hash and the current one at once (signed twice before
        # the folding): the one made with the current key.
        .order_by(Signature.email_hash != addresses.email_hash(canonical)).limit(1))


# The reason a lookup by address is given, kept in the audit log.
LOOKUP_REASON_MAX = 500


@dataclass(frozen=True)
class Lookup:
    """A request to find the signature made with an address, checked: the address in its
    canonical form, and why it is looked up. Nothing is looked up until it is whole."""

    email: str
    reason: str

    @classmethod
    def parse(cls, email: str, reason: str) -> Lookup:
        """CurationError (the first problem) unless there is an address and a reason fit
        for the audit log: one line of plain text, no address in it."""
        label = _l("Reason for this lookup")
        reason = clean_text(reason) or ""
        if not reason:
            raise CurationError(_l("%(field)s: this is required.", field=label))
        if len(reason) > LOOKUP_REASON_MAX:
            raise CurationError(_l("%(field)s: please use at most %(max)d characters.",
                                   field=label, max=LOOKUP_REASON_MAX))
        if why := plain_text_problem(reason):
            raise CurationError(_l("%(field)s: %(problem)s", field=label, problem=gettext(why)))
        if holds_address(reason):
            raise CurationError(_l("Reason for this lookup: please write it without an email "
                                   "address; the audit log keeps none."))
        try:
            canonical = addresses.canonical_email(email)
        except EmailNotValidError:
            raise CurationError(_l("This does not look like an email address.")) from None
        return cls(email=canonical, reason=reason)


def look_up(letter: Letter, lookup: Lookup, actor: str) -> Signature | None:
    """find_by_email(), written to the audit log whatever it finds: who, which letter,
    found (the public id) or not, and the reason given; never the address."""
    found = find_by_email(letter, lookup.email)
    outcome = f"found {found.public_id}" if found is not None else "not found"
    audit.record(actor, "signature.lookup", letter_slug=letter.slug,
                 detail=f"{outcome}; reason: {lookup.reason}")
    return found


def lookup_refused(letter: Letter, lookup: Lookup, actor: str) -> None:
    """Record a lookup refused (past the account's limit): nothing was looked up."""
    audit.record(actor, "signature.lookup_refused", letter_slug=letter.slug,
                 detail=f"past the limit, nothing looked up; reason: {lookup.reason}")


def get_signature(letter: Letter, public_id: str) -> Signature:
    signature = db.session.scalar(select(Signature).where(
        Signature.letter_id == letter.id, Signature.public_id == public_id))
    if signature is None:
        raise SignatureNotFound(_l("No signature of this letter has that identifier."))
    return signature
