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


def email_hash(canonical_email: str) -> str:
    return keyed_hash(canonical_email.lower(), "email")


def encrypt(value: str) -> bytes:
    fernet, _ = _current()
    return fernet.encrypt(value.encode())


def decrypt(token: bytes) -> str:
    fernet, _ = _current()
    return fernet.decrypt(bytes(token)).decode()


def generate_key() -> str:
    return Fernet.generate_key().decode()
