"""Signing use cases: sign(), confirm(), resend_confirmation(). Plain values in, typed
exceptions out. Nothing here looks at the request, the session or flash.

What a link confirms is what the signer saw: a re-submission for a pending signature never
rewrites it, but gets a link of its own (SignatureVersion) that confirms exactly its
details; the address's owner picks in the mailbox. Links carry random identifiers only.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, replace
from enum import Enum
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from petition import addresses, tokens
from petition.core.pipelining import committed_together
from petition.extensions import db
from petition.letters import counting, milestones
from petition.letters.operations import LetterNotFound, get_letter
from petition.models import (
    CONFIRMED,
    FULL,
    MOD_FLAGGED,
    MOD_HELD,
    MOD_INVALID,
    MOD_NONE,
    PENDING,
    WITHDRAWN,
    Letter,
    LetterText,
    Signature,
    SignatureVersion,
    derived_columns,
    new_nonce,
    utcnow,
)
from petition.news import subscriptions
from petition.signatures import mail_cap, mails, moderation, screening, write_statements
from petition.signatures.submissions import Columns, Link, Submission, display_on
from petition.signatures.write_statements import full_row, insert_unless_taken


class SigningError(Exception):
    """Signing or confirming was refused."""


class LetterClosed(SigningError):
    """The letter no longer takes signatures."""


class SignerTypeRefused(SigningError):
    """The letter does not take this kind of signer."""


class InvalidLink(SigningError):
    """The confirmation link was tampered with, or belongs to no pending signature."""


class LinkExpired(SigningError):
    """The link is older than CONFIRM_MAX_AGE; a new one may be sent."""

    def __init__(self, link: Link) -> None:
        super().__init__("link expired")
        self.link = link


class AlreadyConfirmed(SigningError):
    """The signature behind the link is already confirmed."""

    def __init__(self, signature: Signature) -> None:
        super().__init__("already confirmed")
        self.signature = signature


class SignOutcome(Enum):
    """What sign() did. The visitor sees the same page whatever it is: no leak."""

    CREATED = "created"
    CONFIRMATION_SENT = "confirmation_sent"
    ALREADY_SIGNED_MAILED = "already_signed_mailed"
    BLOCKED = "blocked"  # a block-list rule: nothing stored but the abuse event, no mail


@dataclass(frozen=True)
class SignatureDetails:
    """What a signer submitted, already validated and normalised by the form."""

    signer_type: str
    name: str
    country: str
    email: str  # canonical form from email-validator
    lang: str
    affiliation: str | None = None
    display: str | None = None  # None: the letter's default (sign() settles it)
    news: bool = False  # "send me news about this campaign", confirmed by the same link

    def submission(self) -> Submission:
        return Submission.make(signer_type=self.signer_type, name=self.name,
                               affiliation=self.affiliation, country=self.country,
                               display=self.display or FULL, lang=self.lang, news=self.news)


def sign(letter: Letter | str, details: SignatureDetails,
         client_address: str | None = None) -> SignOutcome:
    """Record a pending submission and queue its confirmation mail, in one transaction.

    `letter` is a slug, or the letter the caller has just read (a view has: no second read).
    `client_address`: the request's, behind the trusted proxies (screening.py: block lists,
    soft limits, the abuse event); the caller shows the same page whatever the outcome.
    """
    letter = _open_letter(letter)
    if details.signer_type not in letter.signer_types:
        raise SignerTypeRefused(details.signer_type)
    # The letter's default when none was chosen; on a petition, never listed (display_on).
    details = replace(details, display=display_on(letter, details.signer_type, details.display))
    screened = screening.screen(letter, details.email, client_address)
    if screened.blocked:  # dropped: its event only, and the same page as anyone's
        screening.record(letter.id, screened)
        db.session.commit()
        return SignOutcome.BLOCKED
    hashes = addresses.email_hashes(details.email)
    # One hash (most addresses): the unique key tells a duplicate as the insert runs. Two: a
    # signature stored under the older hash escapes the key, so look it up first.
    existing = _find(letter.id, hashes) if len(hashes) > 1 else None
    for _attempt in range(2):
        if existing is not None:
            return _sign_again(letter, existing, details, screened)
        if _create(letter, details, hashes[0], screened):
            return SignOutcome.CREATED
        # The address's row exists (maybe committed by a concurrent request just now).
        existing = _find(letter.id, hashes)
    # Taken, then gone before it could be read (withdrawn and purged in between), twice.
    raise RuntimeError("the address's signature changed under two attempts to sign")


def drop(letter: Letter, email: str, client_address: str | None, reason: str) -> None:
    """A submission dropped unseen (the honeypot, posted too fast): nothing stored but its
    abuse event, for the trends."""
    screening.dropped(letter.id, email, client_address, reason)


def _open_letter(letter: Letter | str) -> Letter:
    if isinstance(letter, str):
        letter = get_letter(letter, with_texts=True)
    if not letter.is_open:
        raise LetterClosed(letter.slug)
    return letter


def _find(letter_id: int, hashes: list[str]) -> int | None:
    """The letter's signature under any of the address's hashes, the current key first."""
    rows = db.session.execute(
        select(Signature.id, Signature.email_hash).where(
            Signature.letter_id == letter_id, Signature.email_hash.in_(hashes)
        )
    ).all()
    found = {row.email_hash: row.id for row in rows}
    return next((found[value] for value in hashes if value in found), None)


def _create(letter: Letter, details: SignatureDetails, email_hash: str,
            screened: screening.Screening) -> bool:
    """Insert the pending signature and queue its confirmation, and commit; False, with
    nothing written, if the letter has a signature under this hash already (the unique key).

    Core statements, not the ORM: nothing else in the request touches the rows, and the
    unit of work cost more than both inserts on every new signature.
    """
    now = utcnow()
    submission = details.submission()
    row = full_row(cast(Table, Signature.__table__), {
        "letter_id": letter.id,
        "status": PENDING,
        "email_hash": email_hash,
        "email_encrypted": addresses.encrypt(details.email),
        "link_issued_at": now,
        # The same instant as created_at: "mailed once", until mail_cap.reserve() moves it.
        # confirm() relies on it to skip looking for versions and waiting mail.
        "last_mailed_at": now,
        "mail_window_start": now,
        "mail_window_count": 1,
        "created_at": now,
        "updated_at": now,
        # Over a soft limit: kept and mailed as any other, counted by nobody.
        "moderation": MOD_FLAGGED if screened.flag_reason else MOD_NONE,
        "flag_reason": screened.flag_reason,
        "domain_hash": screened.domain_hash,
        **_with_key(submission.columns()),
    })
    # The signature, its mail and the commit: one round trip on PostgreSQL. The mail's
    # INSERT finds the signature by its new random nonce, so it adds nothing if the key
    # turned the signature down; on SQLite that is known at once, and it is not sent.
    # The letter is kept through the commit: a duplicate goes on with it (_sign_again).
    nonce = row["token_nonce"]
    assert isinstance(nonce, str)  # full_row() drew it with the column's default, new_nonce()
    with committed_together(keep_loaded_rows=True) as together:
        created = together.returning(_INSERT_SIGNATURE, row)
        if created.may():
            mails.queue_new_confirmation(together, letter.id, email_hash,
                                            nonce, submission.lang, details.email)
            screening.record_for_new(together, letter.id, email_hash, nonce, screened)
    return created.row is not None


_INSERT_SIGNATURE = insert_unless_taken(cast(Table, Signature.__table__),
                                        ("letter_id", "email_hash"))


def _sign_again(letter: Letter, signature_id: int, details: SignatureDetails,
                screened: screening.Screening) -> SignOutcome:
    mail_cap.lock(signature_id)  # one request per address at a time, until commit
    signature = db.session.get(Signature, signature_id, populate_existing=True)
    # sign() found the row just before; nothing here handles it vanishing in between.
    assert signature is not None
    screening.record(letter.id, screened, signature.id)
    if signature.domain_hash is None:
        signature.domain_hash = screened.domain_hash or None
    if (screened.flag_reason and signature.status != CONFIRMED
            and signature.moderation == MOD_NONE):
        # Not counted yet: a re-submission past a limit is flagged as a new one would be.
        signature.moderation, signature.flag_reason = MOD_FLAGGED, screened.flag_reason
    now, send_at = mail_cap.reserve(signature)
    if signature.status == CONFIRMED:
        mails.queue_already_signed(signature, details.email, details.lang, send_at)
        db.session.commit()
        return SignOutcome.ALREADY_SIGNED_MAILED
    submission = details.submission()
    if signature.status == WITHDRAWN:
        _reopen(signature, submission)
    if signature.email_encrypted is None:
        signature.email_encrypted = addresses.encrypt(details.email)
    link, is_new = _link_for(signature, submission, now, send_at)
    mail = mails.queue_confirmation(link, details.email, send_at)
    if is_new and send_at > now:
        assert link.version is not None  # _link_for() made a new version: is_new
        db.session.flush()
        link.version.mail_id = mail.id  # a later request in the same wait replaces both
    db.session.commit()
    return SignOutcome.CONFIRMATION_SENT


def _reopen(signature: Signature, submission: Submission) -> None:
    """A withdrawn signature signed again: a fresh start, no earlier link works."""
    db.session.execute(write_statements.DELETE_VERSIONS, {"signature_id": signature.id})
    for name, value in submission.columns().items():
        setattr(signature, name, value)
    signature.status = PENDING
    signature.token_nonce = new_nonce()
    signature.link_issued_at = None  # expired: _link_for() issues it anew


def _link_for(signature: Signature, submission: Submission, now: dt.datetime,
              send_at: dt.datetime) -> tuple[Link, bool]:
    """The link for `submission`: an earlier one listing it alike, else a new version."""
    versions = db.session.scalars(
        select(SignatureVersion).where(SignatureVersion.signature_id == signature.id)
        .order_by(SignatureVersion.id)
    )
    for link in [Link(signature)] + [Link(signature, version) for version in versions]:
        if link.submission.lists_like(submission):
            if link.expired(now):
                link.renew(send_at)
            return link, False
    version = SignatureVersion(signature_id=signature.id, link_issued_at=send_at,
                               **submission.columns())
    db.session.add(version)
    db.session.flush()
    return Link(signature, version), True


# The signature a link names, read afresh with its letter, the letter's texts and its
# labels for the signature's country in one query (every page about a link needs them).
# Built once: it is the read of every confirmation, where building the statement and its
# cache key cost about as much as running it.
_BY_PUBLIC_ID = (select(Signature).where(Signature.public_id == bindparam("public_id"))
                 .options(joinedload(Signature.letter).joinedload(Letter.texts)
                          .defer(LetterText.body),  # pages about a link show the title
                          joinedload(Signature.country_labels))
                 .execution_options(populate_existing=True))


def find_link(token: str) -> Link:
    """The pending signature and the submission a confirmation link points at."""
    try:
        public_id, nonce = tokens.read_confirm_token(token)
    except tokens.BadSignature:
        raise InvalidLink() from None
    signature = db.session.scalars(_BY_PUBLIC_ID, {"public_id": public_id}).unique().first()
    if signature is None:
        raise InvalidLink()
    if signature.status == CONFIRMED:
        # Any link made for it, the one used or one it superseded: we signed the token.
        raise AlreadyConfirmed(signature)
    if signature.status != PENDING:
        raise InvalidLink()
    if secrets.compare_digest(signature.token_nonce, nonce):
        link = Link(signature)
    else:
        version = db.session.scalar(
            select(SignatureVersion).where(SignatureVersion.signature_id == signature.id,
                                           SignatureVersion.nonce == nonce)
            .execution_options(populate_existing=True)
        )
        if version is None:
            raise InvalidLink()
        link = Link(signature, version)
    if link.expired(utcnow()):
        raise LinkExpired(link)
    return link


def confirm(token: str) -> Signature:
    """Confirm exactly the submission behind `token`. Safe against double clicks and races."""
    for _attempt in range(2):
        signature = _confirm(find_link(token))
        if signature is not None:
            return signature
    # Mailed again twice between reading the link and confirming it (a person re-submitting
    # as they click): nothing was written; the same link works when clicked again.
    raise InvalidLink()


def _confirm(link: Link) -> Signature | None:
    """Confirm the link as read; None, with nothing written, if its row changed since:
    confirmed, withdrawn or reopened (the next read of the link says which), or mailed
    again (read it again and retry)."""
    signature, submission = link.signature, link.submission
    letter = signature.letter
    if not letter.is_open:
        raise LetterClosed(letter.slug)
    # Flagged at submission (a soft limit) or invalidated in bulk since: confirmed like any
    # other, and stays off the counts. The UPDATE keeps either, should a job set it since
    # the read (write_statements.CONFIRM), and counting only counts a public row.
    kept_off = signature.moderation in (MOD_FLAGGED, MOD_INVALID)
    held = kept_off or moderation.must_hold(letter, submission.signer_type, submission.name)
    now = utcnow()
    confirmed = {
        "status": CONFIRMED,
        "confirmed_at": now,
        "moderation": signature.moderation if kept_off else MOD_HELD if held else MOD_NONE,
        # Mail no longer needs the address: keep only the keyed hash for duplicates.
        "email_encrypted": None,
    }
    if link.version is not None:
        # A later submission's details replace the first's. The first is on the row
        # already, with its sort key (computing the key is a tenth of a confirmation).
        confirmed.update(_with_key(submission.columns()))
    # Mailed again since it was made (a re-submission, a resend)? Then every other version
    # goes, and with them the mail still waiting for the cap, as links to them are no
    # longer of use. A signature mailed once has neither (_create() sets both instants
    # alike, mail_cap.reserve() moves last_mailed_at on), and most are: two statements
    # saved. As read with the link: the UPDATE of a row mailed once only matches if it
    # still is.
    mailed_again = signature.last_mailed_at != signature.created_at
    # The UPDATE, what follows it and the commit: one round trip on PostgreSQL. What
    # follows depends on the UPDATE having confirmed the row: on PostgreSQL it is sent
    # before the answer and the server checks that itself (pipelining.written_here); on
    # SQLite the answer is known at once and nothing is sent unless the row was confirmed.
    # The page shows what was just written: the row in memory is made to say it, and kept
    # through the commit (which would expire it) rather than read again.
    reached = None
    with committed_together(keep_loaded_rows=True) as together:
        values = {name: value for name, value in confirmed.items() if name != "moderation"}
        written = together.returning(write_statements.CONFIRM[mailed_again], {
            "_id": signature.id, "_nonce": signature.token_nonce, "updated_at": now,
            "_moderation": confirmed["moderation"], **values})
        if mailed_again and written.may():
            for statement in write_statements.deletes_if_confirmed_here(together.dialect):
                together.execute(statement, {"signature_id": signature.id, "now": now})
        if not held and written.may():
            counting.confirmed_here(together, letter, signature.id,
                                    counting.entry_of(submission.values()))
            # A threshold the count has just crossed, recorded and its mail queued.
            reached = milestones.confirmed_here(together, letter, signature.id)
        # Asked for news: the address, still on the row as read, goes to the subscriber
        # list as the UPDATE clears it (held or not: the link confirmed the address). Only
        # then: a confirmation without news sends no more statements than before.
        if (submission.news and signature.email_hash and signature.email_encrypted
                and written.may()):
            subscriptions.subscribed_here(together, letter.id, signature.id,
                                          signature.email_hash, signature.email_encrypted,
                                          submission.lang)
    milestones.wake_if_recorded(reached)
    if written.row is None:
        return None
    labels_for = signature.country
    for name, value in confirmed.items():
        set_committed_value(signature, name, value)
    if signature.country != labels_for:  # a re-submission moved it: read them again
        db.session.expire(signature, ["country_labels"])
    return signature


def _with_key(columns: Columns) -> dict[str, object]:
    """Stored columns and their sort key and fold, from what the list shows (never a hidden
    name): an UPDATE statement skips the model's listener."""
    return {**columns, **derived_columns(columns["signer_type"], columns["name"],
                                         columns["display"])}


def _expired_link(token: str) -> Link | None:
    """The link behind `token` if it has expired, None if it still works."""
    try:
        find_link(token)
    except LinkExpired as expired:
        return expired.link
    return None


def resend_confirmation(token: str) -> None:
    """Mail a new link for the submission behind an expired link (capped, silent)."""
    link = _expired_link(token)
    if link is None:
        return  # still valid: the mail already holds it
    mail_cap.lock(link.signature.id)
    try:
        link = _expired_link(token)  # again under the lock: a concurrent resend may have won
    except SigningError:
        link = None
    if link is None or not link.signature.email_encrypted:
        db.session.rollback()
        return
    signature = link.signature
    _, send_at = mail_cap.reserve(signature)
    link.renew(send_at)
    assert signature.email_encrypted is not None  # checked above, and nothing since clears it
    mails.queue_confirmation(link, addresses.decrypt(signature.email_encrypted), send_at)
    db.session.commit()


__all__ = [
    "AlreadyConfirmed",
    "InvalidLink",
    "LetterClosed",
    "LetterNotFound",
    "LinkExpired",
    "SignOutcome",
    "SignatureDetails",
    "SignerTypeRefused",
    "SigningError",
    "confirm",
    "drop",
    "find_link",
    "resend_confirmation",
    "sign",
]
