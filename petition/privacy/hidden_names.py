"""Real names of individuals who chose initials or no listing: encrypted at rest.

Such a row keeps in `name` only what the list shows (the initials, or "" for the unlisted),
`affiliation` empty, and the real name and affiliation in `private_encrypted` (Fernet under
EMAIL_KEY, as addresses are). A copy of the database, a backup or a search in the back
office then gives no more than the public list does; the organiser's private spreadsheets
and signature pages decrypt. Organisations and individuals listed in full stay in plain text.
"""
from __future__ import annotations

import json
from typing import NamedTuple, TypedDict

from petition import addresses
from petition.models import FULL, INITIALS, ORGANIZATION, Signature, SignatureVersion, initials
from petition.text import clean


class RealName(NamedTuple):
    name: str
    affiliation: str | None


class Sealed(TypedDict):
    """The stored form of a name (seal())."""

    name: str
    affiliation: str | None
    private_encrypted: bytes | None


def hides(signer_type: str, display: str) -> bool:
    """Whether the list shows less than the real name: then it is kept encrypted."""
    return signer_type != ORGANIZATION and display != FULL


def shown_name(signer_type: str, name: str, display: str) -> str:
    """What the `name` column keeps: the list's own line for initials, nothing when unlisted.

    initials() of what this returns is this again, so the list, the sort key and the
    grouping read the same line from it as from the real name.
    """
    if not hides(signer_type, display):
        return name
    if display == INITIALS:
        return initials(clean(name))
    return ""  # ANONYMOUS: counted, not listed


def seal(signer_type: str, name: str, affiliation: str | None, display: str) -> Sealed:
    """The stored `name`, `affiliation` and `private_encrypted` for these real values."""
    if not hides(signer_type, display):
        return {"name": name, "affiliation": affiliation, "private_encrypted": None}
    private = json.dumps({"name": name, "affiliation": affiliation}, ensure_ascii=False,
                         separators=(",", ":"))
    return {"name": shown_name(signer_type, name, display), "affiliation": None,
            "private_encrypted": addresses.encrypt(private)}


def unseal(name: str, affiliation: str | None, private_encrypted: bytes | None) -> RealName:
    """The real name and affiliation of a stored row (decrypted when hidden)."""
    if private_encrypted is None:
        return RealName(name, affiliation)
    private = json.loads(addresses.decrypt(private_encrypted))
    return RealName(private["name"], private["affiliation"])


def real(row: Signature | SignatureVersion) -> RealName:
    """The real name and affiliation of a Signature or SignatureVersion (back office)."""
    return unseal(row.name, row.affiliation, row.private_encrypted)
