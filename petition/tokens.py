"""Signed tokens, one salt per purpose, so a token made for one use never works for another.

A confirmation token carries two random values, the signature's public id and the nonce of
one submission; a withdrawal token the public id alone: nothing ordered (no row id, no
time), so comparing one's own links tells nothing about anyone else's. A confirmation
link's age is kept in the database, not in the token.
"""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

CONFIRM_SALT = "petition.confirm-signature.v2"
WITHDRAW_SALT = "petition.withdraw.v1"

__all__ = ["BadSignature", "confirm_token", "read_confirm_token", "read_withdraw_token",
           "withdraw_token"]


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def confirm_token(public_id: str, nonce: str) -> str:
    """A token for the confirmation link of one submission, never the address."""
    return _serializer(CONFIRM_SALT).dumps([public_id, nonce])


def read_confirm_token(token: str) -> tuple[str, str]:
    """Return (public_id, nonce); raise BadSignature if the token was not made here."""
    data = _serializer(CONFIRM_SALT).loads(token)
    if not (isinstance(data, list) and len(data) == 2 and all(isinstance(v, str) for v in data)):
        raise BadSignature("malformed payload")
    return data[0], data[1]


def withdraw_token(public_id: str) -> str:
    """A token for the withdrawal link of one signature: its random public id, nothing else.

    It holds no time, so it works as long as the signature exists, pending or confirmed.
    """
    return _serializer(WITHDRAW_SALT).dumps(public_id)


def read_withdraw_token(token: str) -> str:
    """Return the public id; raise BadSignature if the token was not made here for this."""
    data = _serializer(WITHDRAW_SALT).loads(token)
    if not isinstance(data, str) or not data:
        raise BadSignature("malformed payload")
    return data
