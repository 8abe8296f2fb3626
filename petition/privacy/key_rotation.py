"""Key rotation: every secret stored under the old EMAIL_KEY re-encrypted under the new one.

The new key is the app's EMAIL_KEY; the old one is given once. One transaction: every
token is re-encrypted, or none. MultiFernet.rotate leaves a token already under the new
key as good as it was, so running it twice is harmless. The address-hash key is kept
wrapped in key_material and re-wrapped like the rest: stored hashes keep matching.
"""
from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from typing import cast

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Table, bindparam, func, select, update

from petition import addresses
from petition.core import remnants
from petition.extensions import db
from petition.models import OutboxMail, Signature, SignatureVersion
from petition.models.accounts import Account, KeyMaterial
from petition.models.drive import DriveLetter, DriveReply
from petition.models.news import NewsSubscriber

# Every column holding a Fernet token under EMAIL_KEY (grep addresses.encrypt to find them).
SECRETS = (
    (KeyMaterial, "wrapped"),
    (Signature, "email_encrypted"),
    (Signature, "private_encrypted"),
    (SignatureVersion, "private_encrypted"),
    (OutboxMail, "recipient_encrypted"),
    (DriveLetter, "signature_encrypted"),
    (DriveLetter, "body_encrypted"),
    (DriveLetter, "note_encrypted"),
    (DriveLetter, "translation_encrypted"),
    (DriveLetter, "email_encrypted"),
    (DriveReply, "text_encrypted"),
    (DriveReply, "file_encrypted"),
    (NewsSubscriber, "email_encrypted"),
    (Account, "totp_secret"),
)


class RotationError(Exception):
    """The rotation was refused; nothing was written."""


@dataclass
class Rotation:
    """What a rotation did: tokens re-encrypted per column, and those already under the new key."""

    rotated: dict[str, int] = field(default_factory=dict)
    already: int = 0
    created_hash_key: bool = False

    @property
    def total(self) -> int:
        return sum(self.rotated.values())


def _old_fernet(old_key: str) -> Fernet:
    try:
        return Fernet(old_key.strip().encode())
    except (ValueError, binascii.Error):
        raise RotationError("The old key is not a Fernet key (URL-safe base64 of 32 bytes): "
                            "nothing was changed.") from None


def rotate(old_key: str) -> Rotation:
    """Re-encrypt every stored secret from `old_key` to the current EMAIL_KEY, in one go."""
    new_key = current_app.config["EMAIL_KEY"]
    old = _old_fernet(old_key)
    new = addresses.fernet(new_key)
    if old_key.strip() == new_key:
        raise RotationError("The old key is the current EMAIL_KEY: set EMAIL_KEY to the new "
                            "key and give the old one. Nothing was changed.")
    ring = MultiFernet([new, old])
    result = Rotation()
    opened_by_old = 0
    try:
        for model, column_name in SECRETS:
            column = getattr(model, column_name)
            table = cast(Table, model.__table__)
            [primary] = table.primary_key.columns
            changes = []
            rows = db.session.execute(select(primary, column).where(column.is_not(None)))
            for row_id, token in rows:
                token = bytes(token)
                try:
                    new.decrypt(token)
                    result.already += 1
                    continue
                except InvalidToken:
                    pass
                try:
                    changes.append({"row_id": row_id, "token": ring.rotate(token)})
                except InvalidToken:
                    raise RotationError(
                        f"A secret in {model.__tablename__}.{column_name} opens with neither "
                        "the old key nor EMAIL_KEY: is the old key the right one? Nothing "
                        "was changed.") from None
            if changes:
                db.session.execute(
                    update(table).where(primary == bindparam("row_id"))
                    .values({column_name: bindparam("token")}),
                    changes,
                )
            opened_by_old += len(changes)
            result.rotated[f"{model.__tablename__}.{column_name}"] = len(changes)
        result.created_hash_key = _keep_hash_key(old_key.strip(), new_key, opened_by_old)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    addresses.forget_hash_keys()
    # The rows replaced above still hold their old tokens, which the old key opens.
    remnants.rewrite()
    return result


def _keep_hash_key(old_key: str, new_key: str, opened_by_old: int) -> bool:
    """Store the hash key the old EMAIL_KEY made, if it was never stored (then it is
    derived from EMAIL_KEY, and a new key would make another)."""
    stored = db.session.scalar(select(func.count()).select_from(KeyMaterial)
                               .where(KeyMaterial.name == addresses.HASH_KEY))
    if stored:
        return False
    hashes = (db.session.scalar(select(func.count()).select_from(Signature)
                                .where(Signature.email_hash.is_not(None)))
              or db.session.scalar(select(func.count()).select_from(NewsSubscriber)))
    if hashes and not opened_by_old:
        # Nothing checked the old key: a wrong one would silently break every stored hash.
        raise RotationError("The old key decrypts nothing stored here, so it cannot be "
                            "checked: nothing was changed.")
    addresses.store_hash_key(db.session.connection(), addresses.derived_hash_key(old_key),
                             new_key)
    return True
