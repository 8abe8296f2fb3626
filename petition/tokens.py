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
# A personal letter's links: one to confirm the address (a nonce, renewed with the link),
# and the writer's own page (withdraw, edit when returned), which holds the public id alone.
DRIVE_CONFIRM_SALT = "petition.drive-confirm.v1"
DRIVE_WRITER_SALT = "petition.drive-writer.v1"
# A news subscriber's unsubscribe link (in every news mail and its List-Unsubscribe header):
# the subscriber's public id and nonce, nothing of the signature.
NEWS_UNSUBSCRIBE_SALT = "petition.news-unsubscribe.v1"
# When a sign or letter form was shown (SIGN_MIN_SECONDS): a time only, in milliseconds.
FORM_STARTED_SALT = "petition.form-started.v1"

__all__ = ["BadSignature", "confirm_token", "drive_confirm_token", "drive_writer_token",
           "read_confirm_token", "read_drive_confirm_token", "read_drive_writer_token",
           "read_news_unsubscribe_token", "read_withdraw_token", "news_unsubscribe_token",
           "withdraw_token", "form_started_token", "read_form_started_token"]


def _is_id(value: object) -> bool:
    """Whether a signed value has the shape of the ids and nonces we put in tokens (short,
    ASCII letters and digits): anything else (a NUL, which PostgreSQL refuses in a query,
    a huge string) never reaches the database, even from a token signed with our key."""
    return isinstance(value, str) and 0 < len(value) <= 64 and value.isascii() \
        and value.isalnum()


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def confirm_token(public_id: str, nonce: str) -> str:
    """A token for the confirmation link of one submission, never the address."""
    return _serializer(CONFIRM_SALT).dumps([public_id, nonce])


def read_confirm_token(token: str, salt: str = CONFIRM_SALT) -> tuple[str, str]:
    """Return (public_id, nonce); raise BadSignature if the token was not made here."""
    data = _serializer(salt).loads(token)
    if not (isinstance(data, list) and len(data) == 2 and all(_is_id(v) for v in data)):
        raise BadSignature("malformed payload")
    return data[0], data[1]


def withdraw_token(public_id: str) -> str:
    """A token for the withdrawal link of one signature: its random public id, nothing else.

    It holds no time, so it works as long as the signature exists, pending or confirmed.
    """
    return _serializer(WITHDRAW_SALT).dumps(public_id)


def read_withdraw_token(token: str, salt: str = WITHDRAW_SALT) -> str:
    """Return the public id; raise BadSignature if the token was not made here for this."""
    data = _serializer(salt).loads(token)
    if not _is_id(data):
        raise BadSignature("malformed payload")
    return data


def drive_confirm_token(public_id: str, nonce: str) -> str:
    """The link that confirms a personal letter's address (and shows what will be sent)."""
    return _serializer(DRIVE_CONFIRM_SALT).dumps([public_id, nonce])


def read_drive_confirm_token(token: str) -> tuple[str, str]:
    return read_confirm_token(token, DRIVE_CONFIRM_SALT)


def drive_writer_token(public_id: str) -> str:
    """The writer's own link to a personal letter: its state, withdrawal, editing."""
    return _serializer(DRIVE_WRITER_SALT).dumps(public_id)


def read_drive_writer_token(token: str) -> str:
    return read_withdraw_token(token, DRIVE_WRITER_SALT)


def news_unsubscribe_token(public_id: str, nonce: str) -> str:
    """The one-click unsubscribe link of one news subscription."""
    return _serializer(NEWS_UNSUBSCRIBE_SALT).dumps([public_id, nonce])


def read_news_unsubscribe_token(token: str) -> tuple[str, str]:
    return read_confirm_token(token, NEWS_UNSUBSCRIBE_SALT)


def form_started_token(now_ms: int) -> str:
    """The hidden stamp of a form shown at `now_ms` (epoch milliseconds): signed, so a bot
    cannot post an earlier time than the one it was given."""
    return _serializer(FORM_STARTED_SALT).dumps(now_ms)


def read_form_started_token(token: str) -> int:
    """The time a form was shown; BadSignature if the stamp was not made here."""
    data = _serializer(FORM_STARTED_SALT).loads(token)
    if not isinstance(data, int) or isinstance(data, bool):
        raise BadSignature("malformed payload")
    return data
