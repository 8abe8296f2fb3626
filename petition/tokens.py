"""Signed tokens, one salt per purpose, so a token made for one use never works for another."""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

CONFIRM_SALT = "petition.confirm-signature.v1"

__all__ = ["BadSignature", "SignatureExpired", "confirm_token", "read_confirm_token"]


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def confirm_token(signature_id: int, nonce: str) -> str:
    """A token for the confirmation link: signature id and nonce, never the address."""
    return _serializer(CONFIRM_SALT).dumps([signature_id, nonce])


def read_confirm_token(token: str, max_age: int | None = None) -> tuple[int, str]:
    """Return (signature_id, nonce); raise SignatureExpired or BadSignature."""
    if max_age is None:
        max_age = current_app.config["CONFIRM_MAX_AGE"]
    return _parse(_serializer(CONFIRM_SALT).loads(token, max_age=max_age))


def expired_token_payload(token: str) -> tuple[int, str] | None:
    """The payload of a correctly signed token whatever its age, to offer a fresh link."""
    try:
        return _parse(_serializer(CONFIRM_SALT).loads(token))
    except BadSignature:
        return None


def _parse(data: object) -> tuple[int, str]:
    if not (isinstance(data, list) and len(data) == 2):
        raise BadSignature("malformed payload")
    signature_id, nonce = data
    if not isinstance(signature_id, int) or not isinstance(nonce, str):
        raise BadSignature("malformed payload")
    return signature_id, nonce

