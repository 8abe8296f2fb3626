"""Back-office account use cases: create, disable, reset a password, verify a login.

No request, session or flash here: views and the command line call these and turn the
outcome into a page or a message.
"""
from __future__ import annotations

import hmac
import time
from functools import cache
from typing import Any, cast

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from petition import addresses
from petition.accounts import audit
from petition.extensions import db
from petition.models import Letter, utcnow
from petition.models.accounts import (
    ROLE_ADMIN,
    ROLE_ORGANISER,
    ROLE_TRANSLATOR,
    ROLES,
    Account,
)

MIN_PASSWORD_LENGTH = 12

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory parameters.
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the account is unknown, so both paths cost one argon2
    computation and the time taken does not tell whether an address has an account.

    Made at the first login attempt, not at import: every worker and every `flask` command
    paid an argon2 computation (~0.13 s) it mostly never needed.
    """
    return _hasher.hash("not a password of anyone")


class AccountError(Exception):
    """The change was refused; the message says why."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def get_account(email: str) -> Account | None:
    return db.session.scalars(
        select(Account).where(Account.email == normalize_email(email))
    ).one_or_none()


def _account_or_error(email: str) -> Account:
    account = get_account(email)
    if account is None:
        raise AccountError(f"no account {normalize_email(email)}")
    return account


def _letter_or_error(slug: str) -> Letter:
    letter = db.session.scalars(select(Letter).where(Letter.slug == slug)).one_or_none()
    if letter is None:
        raise AccountError(f"no letter {slug}")
    return letter


def _recorded(account: Account, actor: str, action: str, slug: str | None = None) -> Account:
    """Commit a change to `account` with its audit event: both land, or neither."""
    audit.record(actor, action, letter_slug=slug, detail=account.email, commit=False)
    db.session.commit()
    return account


def list_accounts() -> list[Account]:
    return list(db.session.scalars(select(Account).order_by(Account.email)))


def create_account(email: str, role: str, password: str, letters: tuple[str, ...] = (),
                   actor: str = "cli") -> Account:
    email = normalize_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if get_account(email) is not None:
        raise AccountError(f"an account {email} already exists")
    account = Account(email=email, role=role, password_hash=hash_password(password), active=True)
    account.letters.extend(_givable(role, _letter_or_error(slug)) for slug in letters)
    db.session.add(account)
    audit.record(actor, "account.create", detail=f"{email} role={role}", commit=False)
    db.session.commit()
    return account


def revoke_sessions(account: Account, actor: str = "cli") -> None:
    """End every open session of the account (the guard compares versions)."""
    account.session_version += 1
    _recorded(account, actor, "account.revoke_sessions")


def log_out(account: Account) -> None:
    """End the session logging out, and every other of the account: the cookie is signed,
    not stored, so only a new version makes a copy of it (kept by a proxy, a shared
    computer, a thief) worthless before it expires."""
    account.session_version += 1
    audit.record(account.email, "logout", commit=False)
    db.session.commit()


def disable_account(email: str, actor: str = "cli") -> Account:
    account = _account_or_error(email)
    account.active = False
    account.session_version += 1
    return _recorded(account, actor, "account.disable")


def reset_password(email: str, password: str, actor: str = "cli") -> Account:
    """A new password ends every session; the TOTP enrolment stays (it is the second factor)."""
    account = _account_or_error(email)
    account.password_hash = hash_password(password)
    account.session_version += 1
    return _recorded(account, actor, "account.reset_password")


def assign_letter(email: str, slug: str, actor: str = "cli") -> Account:
    account = _account_or_error(email)
    letter = _givable(account.role, _letter_or_error(slug))
    if letter not in account.letters:
        account.letters.append(letter)
    return _recorded(account, actor, "account.assign", slug)


def _givable(role: str, letter: Letter) -> Letter:
    """The letter, if an account of `role` may be given it: a translator works on letter
    drives only (an open letter has nothing to translate, and its pages are not theirs)."""
    if role == ROLE_TRANSLATOR and not letter.is_drive:
        raise AccountError(f"{letter.slug} is not a letter drive: a translator is given "
                           "letter drives only")
    return letter


def withdraw_letter(email: str, slug: str, actor: str = "cli") -> Account:
    """Take a letter away from an account; its open pages of that letter answer 404 at once."""
    account = _account_or_error(email)
    letter = _letter_or_error(slug)
    if letter in account.letters:
        account.letters.remove(letter)
    return _recorded(account, actor, "account.withdraw", slug)


def verify_login(email: str, password: str, totp: str | None) -> Account | None:
    """The account if every given factor is right, else None: one answer for every failure."""
    dummy = _dummy_hash()  # before the lookup: a process's first attempt costs the same either way
    account = get_account(email)
    ok: bool
    try:
        ok = _hasher.verify(account.password_hash if account else dummy, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or account is None or not account.active:
        return None
    if account.totp_secret is not None and not verify_totp(account, totp or ""):
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    account.last_login_at = utcnow()
    return account


def totp_secret(account: Account) -> str | None:
    return addresses.decrypt(account.totp_secret) if account.totp_secret is not None else None


def new_totp_secret() -> str:
    return pyotp.random_base32()


def matching_step(secret: str, code: str) -> int | None:
    """The TOTP time step `code` belongs to, or None if it is not a current code."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time()
    # One step either side: a phone clock a few seconds off still works.
    for offset in (0, -1, 1):
        when = now + offset * totp.interval
        if hmac.compare_digest(totp.at(when), code):
            return totp.timecode(when)
    return None


def _accept_code(account: Account, secret: str, code: str) -> bool:
    """True once per code: a step already used (an overheard or replayed code) is refused.

    One conditional UPDATE, not a read then a write: of requests racing with the same code,
    one changes the row; the others wait for its lock (PostgreSQL's row lock, SQLite's write
    lock), then find the step taken and change nothing. The commit that follows ends the wait.
    """
    step = matching_step(secret, code)
    if step is None:
        return False
    taken = cast(CursorResult[Any], db.session.execute(
        update(Account)
        .where(Account.id == account.id,
               or_(Account.totp_last_step.is_(None), Account.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False))).rowcount == 1
    if taken:
        set_committed_value(account, "totp_last_step", step)
    return taken


def verify_totp(account: Account, code: str) -> bool:
    """True once per code. The spent step is committed at once: the code is used up whatever
    follows, and no write lock is left waiting for a caller's commit."""
    secret = totp_secret(account)
    accepted = secret is not None and _accept_code(account, secret, code)
    db.session.commit()
    return accepted


def enrol_totp(account: Account, secret: str, code: str) -> bool:
    """Store the secret once the user proved their app has it; False if the code is wrong."""
    if not _accept_code(account, secret, code):
        return False
    account.totp_secret = addresses.encrypt(secret)
    audit.record(account.email, "account.totp_enrol", detail=account.email, commit=False)
    db.session.commit()
    return True


def totp_uri(account: Account, secret: str, issuer: str = "petition") -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account.email, issuer_name=issuer)


def visible_letters(account: Account) -> list[Letter]:
    """Admins see every letter; others the letters they are given (a translator, its
    drives only)."""
    if account.role == ROLE_ADMIN:
        return list(db.session.scalars(select(Letter).order_by(Letter.slug)))
    if account.role == ROLE_TRANSLATOR:
        return [letter for letter in account.letters if letter.is_drive]
    return list(account.letters)


def can_see_letter(account: Account, letter: Letter) -> bool:
    """A letter's own pages (figures, exports, signatures, a drive's letters): admins, and
    organisers and press given it. Never a translator: it sees translation queues only."""
    if account.role == ROLE_ADMIN:
        return True
    return account.role != ROLE_TRANSLATOR and letter in account.letters


def can_translate(account: Account, letter: Letter) -> bool:
    """A drive's translation queue: admins, and organisers and translators given the drive
    (press reads figures, not letters)."""
    if not letter.is_drive:
        return False
    if account.role == ROLE_ADMIN:
        return True
    return account.role in (ROLE_ORGANISER, ROLE_TRANSLATOR) and letter in account.letters


def is_translator(account: Account) -> bool:
    return account.role == ROLE_TRANSLATOR


def can_edit(account: Account) -> bool:
    """Admins and organisers change letters and lists; press only reads and downloads, and
    a translator only translates."""
    return account.role in (ROLE_ADMIN, ROLE_ORGANISER)


def can_export_private(account: Account) -> bool:
    """Real names of those who asked for initials or no listing: admins and organisers only."""
    return account.role in (ROLE_ADMIN, ROLE_ORGANISER)


def can_export_embargoed(account: Account) -> bool:
    """Whether the list may be downloaded during its embargo: by those preparing the
    release (admins and organisers), not by press accounts."""
    return account.role in (ROLE_ADMIN, ROLE_ORGANISER)
