"""Email addresses at rest: a keyed hash to find duplicates, Fernet to keep what mail needs.

EMAIL_KEY is the Fernet key of everything encrypted at rest. The hash key is a secret of its
own, kept in the database (key_material "email-hash") wrapped under EMAIL_KEY: so a new
EMAIL_KEY (`keys rotate`) re-wraps it and every stored hash still matches. It is first made
by HKDF from EMAIL_KEY, as it always was, so hashes stored before it was kept still match;
the encryption key is never used for two purposes.
"""
from __future__ import annotations

import hashlib
import hmac
import threading
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from petition.extensions import db
from petition.models import utcnow
from petition.models.accounts import KeyMaterial

HASH_KEY = "email-hash"  # the key_material row of the address-hash key


class KeyMismatch(RuntimeError):
    """EMAIL_KEY does not open the key material stored in the database."""


@lru_cache(maxsize=8)
def fernet(email_key: str) -> Fernet:
    return Fernet(email_key.encode())


def derived_hash_key(email_key: str) -> bytes:
    """The hash key as HKDF made it from EMAIL_KEY before it was kept in the database."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"petition address hash")
    return hkdf.derive(email_key.encode())


# (EMAIL_KEY, database) → hash key: read once per process, not once per signature.
_hash_keys: dict[tuple[str, str], bytes] = {}
_hash_keys_lock = threading.Lock()


def _database() -> str:
    return db.engine.url.render_as_string(hide_password=True)


def hash_key() -> bytes:
    """The address-hash key, unwrapped; the row is created on first use."""
    email_key = current_app.config["EMAIL_KEY"]
    cache_key = (email_key, _database())
    key = _hash_keys.get(cache_key)
    if key is None:
        key = _load_or_create(email_key)
        with _hash_keys_lock:
            _hash_keys[cache_key] = key
    return key


def forget_hash_keys() -> None:
    """Drop the cached keys (after a rotation, or a test that changes the database)."""
    with _hash_keys_lock:
        _hash_keys.clear()


def store_hash_key(connection, key: bytes, email_key: str) -> None:
    """Insert the hash key row wrapped under `email_key`, unless one is there already."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(dialect.insert(KeyMaterial).values(
        name=HASH_KEY, wrapped=fernet(email_key).encrypt(key), created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["name"]))


def _load_or_create(email_key: str) -> bytes:
    # On a connection of its own, committed at once: never part of (or rolled back with)
    # the caller's transaction. Processes racing here insert the same derived key; the
    # conflict clause lets one row win and every racer then reads that one.
    with db.engine.begin() as connection:
        wrapped = connection.scalar(select(KeyMaterial.wrapped).where(KeyMaterial.name == HASH_KEY))
        if wrapped is None:
            store_hash_key(connection, derived_hash_key(email_key), email_key)
            wrapped = connection.scalar(
                select(KeyMaterial.wrapped).where(KeyMaterial.name == HASH_KEY))
    assert wrapped is not None  # the insert above, or a racer's, stored the row
    try:
        return fernet(email_key).decrypt(bytes(wrapped))
    except InvalidToken:
        raise KeyMismatch("EMAIL_KEY does not open the address-hash key stored in the "
                          "database: was EMAIL_KEY changed without `flask keys rotate`?") from None


def keyed_hash(value: str, purpose: str = "email") -> str:
    """HMAC-SHA256 of `value` under the hash key, separated by purpose; hex."""
    return hmac.new(hash_key(), f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()


# Valid by RFC 5322, refused here: "=?" opens an RFC 2047 encoded word, which some mail
# programs decode in a header (the address then shows, or is taken, as something else), and
# "%" is the old relay hack (user%other.host@relay), which some servers still forward to
# another host. No signer needs either; both are ways to make our mail go or look elsewhere.
_LOCAL_PART_TRICKS = ("=?", "%")


def canonical_email(email: str, check_deliverability: bool = False) -> str:
    """The form every address is hashed and mailed in (email-validator's normalisation);
    EmailNotValidError if it is not an address, or its local part holds "=?" or "%"."""
    normalized = validate_email(email.strip(),
                                check_deliverability=check_deliverability).normalized
    local = normalized.rpartition("@")[0]
    if any(trick in local for trick in _LOCAL_PART_TRICKS):
        raise EmailNotValidError("The part before the @-sign holds \"=?\" or \"%\".")
    return normalized


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
    return fernet(current_app.config["EMAIL_KEY"]).encrypt(value.encode())


def decrypt(token: bytes) -> str:
    return fernet(current_app.config["EMAIL_KEY"]).decrypt(bytes(token)).decode()


def generate_key() -> str:
    return Fernet.generate_key().decode()
