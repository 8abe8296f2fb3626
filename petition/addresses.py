"""Email addresses at rest: a keyed hash to find duplicates, Fernet to keep what mail needs.

Both keys come from EMAIL_KEY. The hash key is derived with HKDF so the encryption key is
never used for two purposes.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from email_validator import validate_email
from flask import current_app


@lru_cache(maxsize=8)
def _keys(email_key: str) -> tuple[Fernet, bytes]:
    fernet = Fernet(email_key.encode())
    raw = email_key.encode()
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"petition address hash")
    return fernet, hkdf.derive(raw)


def _current() -> tuple[Fernet, bytes]:
    return _keys(current_app.config["EMAIL_KEY"])


def keyed_hash(value: str, purpose: str = "email") -> str:
    """HMAC-SHA256 of `value` under the derived key, separated by purpose; hex."""
    _, key = _current()
    return hmac.new(key, f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()


def canonical_email(email: str, check_deliverability: bool = False) -> str:
    """The form every address is hashed and mailed in (email-validator's normalisation);
    EmailNotValidError if it is not an address."""
    return validate_email(email.strip(), check_deliverability=check_deliverability).normalized


# Something shaped like an address inside free text (a provenance note).
_ADDRESS_IN_TEXT = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


def holds_address(text: str) -> bool:
    """Whether free text holds an address: one there would sit in plain text in the
    database, the pages and the audit log, the one place the project promises none is."""
    return bool(_ADDRESS_IN_TEXT.search(text))


# Domains where one mailbox answers to several spellings: dots in the local part do not count
# and googlemail.com is gmail.com.
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def duplicate_key(email: str) -> str:
    """The mailbox an address reaches, as the duplicate check sees it.

    "+tags" are folded away on every domain (alice+1@x.org is alice@x.org), and on Gmail
    dots too: otherwise one person could sign many times, and get past the per-address mail
    cap, with spellings of one mailbox. Mail still goes to the address as typed.
    """
    local, _at, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0] or local  # "+x@host" has no tag to fold, only a name
    if domain in _GMAIL_DOMAINS:
        local, domain = local.replace(".", "") or local, "gmail.com"
    return f"{local}@{domain}"


def email_hash(canonical_email: str) -> str:
    """The keyed hash stored as the duplicate key of an address (see duplicate_key)."""
    return keyed_hash(duplicate_key(canonical_email), "email")


def email_hashes(canonical_email: str) -> list[str]:
    """Every stored hash this address may have: its key, then the unfolded one signatures
    stored before duplicate_key() were made with (their address is gone, so they cannot be
    re-hashed); one when both agree. Lookups must match any of them."""
    legacy = keyed_hash(canonical_email.lower(), "email")
    current = email_hash(canonical_email)
    return [current] if legacy == current else [current, legacy]


def encrypt(value: str) -> bytes:
    fernet, _ = _current()
    return fernet.encrypt(value.encode())


def decrypt(token: bytes) -> str:
    fernet, _ = _current()
    return fernet.decrypt(bytes(token)).decode()


def generate_key() -> str:
    return Fernet.generate_key().decode()
