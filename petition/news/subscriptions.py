"""A letter's news subscribers: who asked for news with a signature, kept apart from it.

A subscriber row holds the address encrypted and its keyed hash, nothing of the signature:
withdrawing or erasing the signature leaves the subscription as the person chose
(end_for_hash, or not), and the list tells no one who signed what. The one-click unsubscribe link
(tokens.news_unsubscribe_token) carries the row's random public id and nonce; unsubscribing
deletes the row, and the outbox rows of news not yet sent to it lose it (FK SET NULL), so
the news renderer drops them. Plain values in, typed exceptions out.
"""
from __future__ import annotations

from functools import cache

from flask import current_app
from sqlalchemy import DateTime, Integer, LargeBinary, String, bindparam, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import TextClause

from petition import addresses, tokens
from petition.accounts import audit
from petition.core.pipelining import Together, written_here
from petition.extensions import db
from petition.models import Letter, utcnow
from petition.models.news import NewsSubscriber
from petition.models.stamps import new_nonce, new_public_id

# Who the audit log names for an unsubscription: never the address or the public id.
ACTOR = "subscriber"


class NewsLinkError(Exception):
    """An unsubscribe link that leads to no subscription."""


class InvalidNewsLink(NewsLinkError):
    """The token was not made here for unsubscribing (tampered, cut short, another purpose)."""


class NotSubscribed(NewsLinkError):
    """The link is genuine but its subscription is gone (already unsubscribed, erased)."""


def unsubscribe_url(subscriber: NewsSubscriber) -> str:
    """The absolute one-click link of a subscription (in each news mail and its headers)."""
    token = tokens.news_unsubscribe_token(subscriber.public_id, subscriber.token_nonce)
    return f"{current_app.config['BASE_URL']}/news/unsubscribe/{token}"


def count(letter_id: int) -> int:
    """How many addresses asked for the letter's news: the back office shows this, never who."""
    return db.session.scalar(select(func.count(NewsSubscriber.id))
                             .where(NewsSubscriber.letter_id == letter_id)) or 0


def subscribe(letter_id: int, canonical_email: str, lang: str) -> NewsSubscriber:
    """Subscribe an address (already canonical) to the letter's news, in the caller's
    transaction; an address already subscribed keeps its row (and its link)."""
    return subscribe_hashed(letter_id, addresses.email_hash(canonical_email),
                            addresses.encrypt(canonical_email), lang)


def subscribe_hashed(letter_id: int, email_hash: str, email_encrypted: bytes,
                     lang: str) -> NewsSubscriber:
    """subscribe() for an address the caller holds only hashed and encrypted (a signature's
    own columns, when confirming): nothing is decrypted here."""
    # One INSERT that a concurrent or earlier subscription of the same address turns into
    # nothing (the unique (letter_id, email_hash)): never a duplicate, never an error.
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(NewsSubscriber).values(
        public_id=new_public_id(), token_nonce=new_nonce(), letter_id=letter_id, lang=lang,
        email_hash=email_hash, email_encrypted=bytes(email_encrypted), created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["letter_id", "email_hash"]))
    subscriber = find_by_hash(letter_id, email_hash)
    assert subscriber is not None  # inserted above, or there before
    return subscriber


def subscribed_here(together: Together, letter_id: int, signature_id: int, email_hash: str,
                    email_encrypted: bytes, lang: str) -> None:
    """Subscribe the address of the signature this transaction has just confirmed, sent with
    the commit before the confirmation is answered (signing.confirm): the row is inserted
    only if the signature was confirmed here, which the server checks
    (pipelining.written_here); an address already subscribed is left as it is. The address
    comes from the caller (the confirmation clears it on the signature in the same
    transaction): copied encrypted, never decrypted."""
    together.execute(_insert_if_confirmed_here(together.dialect), {
        "public_id": new_public_id(), "token_nonce": new_nonce(), "letter_id": letter_id,
        "lang": lang, "email_hash": email_hash, "email_encrypted": bytes(email_encrypted),
        "created_at": utcnow(), "signature_id": signature_id})


@cache  # per dialect: SQLAlchemy caches no ON CONFLICT statement (see write_statements)
def _insert_if_confirmed_here(dialect: str) -> TextClause:
    return text(
        "INSERT INTO news_subscriber (public_id, token_nonce, letter_id, lang, email_hash,"
        " email_encrypted, created_at)"
        " SELECT :public_id, :token_nonce, :letter_id, :lang, :email_hash, :email_encrypted,"
        " :created_at FROM signature"
        f" WHERE signature.id = :signature_id AND {written_here(dialect)}"
        " ON CONFLICT (letter_id, email_hash) DO NOTHING"
    ).bindparams(bindparam("public_id", type_=String()), bindparam("token_nonce", type_=String()),
                 bindparam("letter_id", type_=Integer()), bindparam("lang", type_=String()),
                 bindparam("email_hash", type_=String()),
                 bindparam("email_encrypted", type_=LargeBinary()),
                 bindparam("created_at", type_=DateTime()),
                 bindparam("signature_id", type_=Integer()))


def find_by_hash(letter_id: int, email_hash: str | None) -> NewsSubscriber | None:
    """The letter's subscription of the address with this keyed hash (a signature's
    email_hash); None when there is none, or no hash left to look with (retention)."""
    if not email_hash:
        return None
    return db.session.scalar(select(NewsSubscriber).where(
        NewsSubscriber.letter_id == letter_id, NewsSubscriber.email_hash == email_hash))


def find_by_token(token: str) -> NewsSubscriber | None:
    """The subscription an unsubscribe link points at; None for a link not made here, or
    one whose subscription is gone (already unsubscribed, erased)."""
    try:
        public_id, nonce = tokens.read_news_unsubscribe_token(token)
    except tokens.BadSignature:
        return None
    return db.session.scalar(select(NewsSubscriber).where(
        NewsSubscriber.public_id == public_id, NewsSubscriber.token_nonce == nonce))


def find(token: str) -> NewsSubscriber:
    """The subscription behind an unsubscribe link; InvalidNewsLink or NotSubscribed."""
    try:
        tokens.read_news_unsubscribe_token(token)
    except tokens.BadSignature:
        raise InvalidNewsLink() from None
    subscriber = find_by_token(token)
    if subscriber is None:
        raise NotSubscribed()
    return subscriber


def letter_of(subscriber: NewsSubscriber) -> Letter:
    letter = db.session.get(Letter, subscriber.letter_id)
    assert letter is not None  # the subscriber row goes with its letter (ON DELETE CASCADE)
    return letter


def unsubscribe_link(token: str) -> tuple[Letter, str]:
    """Unsubscribe whoever the link names, audited (counted, never named), and commit;
    return the letter and the subscriber's language, for the page that says so. A second
    click finds nothing: NotSubscribed."""
    subscriber = find(token)
    letter, lang = letter_of(subscriber), subscriber.lang
    unsubscribe(subscriber)
    audit.record(ACTOR, "news.unsubscribe", letter_slug=letter.slug, commit=False)
    db.session.commit()
    return letter, lang


def email_of(subscriber: NewsSubscriber) -> str:
    """The subscriber's address, decrypted (for the mail being sent, nothing else)."""
    return addresses.decrypt(subscriber.email_encrypted)


def unsubscribe(subscriber: NewsSubscriber) -> None:
    """Delete the subscription, in the caller's transaction (the caller commits)."""
    # A bulk DELETE (synchronised with the session): a second click that raced this one
    # deletes nothing rather than failing on a row already gone.
    db.session.execute(delete(NewsSubscriber).where(NewsSubscriber.id == subscriber.id))


def end_for_hash(letter_id: int, email_hash: str | None) -> bool:
    """End the letter's subscription of this address, if any (a withdrawal or erasure whose
    signer chose to stop the news too); True when there was one. Caller commits."""
    if not email_hash:
        return False
    result = db.session.execute(delete(NewsSubscriber).where(
        NewsSubscriber.letter_id == letter_id, NewsSubscriber.email_hash == email_hash))
    return bool(getattr(result, "rowcount", 0))


def erase_letter(letter_id: int) -> int:
    """Delete every subscriber of the letter (its retention ran out); how many. Caller
    commits."""
    result = db.session.execute(delete(NewsSubscriber)
                                .where(NewsSubscriber.letter_id == letter_id))
    return int(getattr(result, "rowcount", 0) or 0)
