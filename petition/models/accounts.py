"""Back-office accounts, the letters they are given, the audit log, and wrapped key material.

Split from models.py by aggregate: these tables are about who runs the site, not about
letters and their signatures.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition.extensions import Model
from petition.models.letters import Letter
from petition.models.stamps import utcnow

# Back-office roles: admin sees and manages everything; organiser and press see the letters
# they are given (press without private spreadsheets); a translator sees only the
# translation queue of the drives it is given.
ROLE_ADMIN, ROLE_ORGANISER, ROLE_PRESS = "admin", "organiser", "press"
ROLE_TRANSLATOR = "translator"
ROLES = (ROLE_ADMIN, ROLE_ORGANISER, ROLE_PRESS, ROLE_TRANSLATOR)


class Account(Model):
    """A back-office account. Created from the command line only: there is no sign-up."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower-cased
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    role: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Fernet-encrypted (addresses.encrypt): a database dump alone does not give the codes.
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Every session carries the version it was opened under; bumping it ends them all.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The TOTP time step of the last accepted code: a code is good for one login only.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    letters: Mapped[list[Letter]] = relationship(secondary="account_letter",
                                                 order_by="Letter.slug")

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN


class AccountLetter(Model):
    """A letter an organiser or press account is given."""

    __tablename__ = "account_letter"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"),
                                           primary_key=True)


class AuditEvent(Model):
    """Append-only record of logins, account changes and downloads.

    The actor is a plain email, not a foreign key: the record outlives the account. Never a
    signatory's address.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    letter_slug: Mapped[str | None] = mapped_column(String(80), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class KeyMaterial(Model):
    """A key kept in the database wrapped (Fernet) under EMAIL_KEY, e.g. the address-hash key.

    So `keys rotate` can re-wrap it under a new EMAIL_KEY and every stored fingerprint still
    matches: the duplicate check survives a rotation.
    """

    __tablename__ = "key_material"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
