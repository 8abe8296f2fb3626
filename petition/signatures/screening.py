"""What the signing path asks the abuse package about one submission, before writing it:
the allow and block lists, the soft limits, the trends. Plain values in (the client
address as the request gives it behind the trusted proxies), a Screening out.

- blocked by a rule: dropped, the same page; only its event is stored;
- allowed by a rule: skips the soft limits;
- over a soft limit: stored "flagged" with the reason (neither counted nor listed,
  confirmed and mailed as any other);
- otherwise: as before.

Every submission leaves an event (abuse/events.py) in the signing transaction; for a new
signature it is one INSERT … SELECT naming the row by its new nonce, sent with the commit
(as its mail is), so the path stays one round trip on PostgreSQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.sql import Insert

from petition.abuse import alerts, events, limits, rules
from petition.abuse.network import Network, email_domain
from petition.core.pipelining import Together
from petition.extensions import db
from petition.models import Letter, Signature, utcnow
from petition.models.abuse import (
    EVENT_BLOCKED,
    EVENT_COUNTED,
    EVENT_DROPPED,
    EVENT_FLAGGED,
    AbuseEvent,
)
from petition.signatures.invalidation import domain_hash

BLOCKED_BY_RULE = "rule"


@dataclass(frozen=True)
class Screening:
    network: Network
    domain: str
    domain_hash: str
    blocked: bool = False
    flag_reason: str | None = None  # the soft limit passed, if one was

    @property
    def outcome(self) -> str:
        if self.blocked:
            return EVENT_BLOCKED
        return EVENT_FLAGGED if self.flag_reason else EVENT_COUNTED


def screen(letter: Letter, email: str, client_address: str | None) -> Screening:
    """Decide what becomes of a submission to `letter` from `email` and `client_address`.
    Counts it against the soft limits (unless a rule decides) and checks the trends, so
    call it once per submission."""
    network = Network.of(client_address)
    domain = email_domain(email)
    decision = rules.verdict(letter.id, domain, network.block_hash)
    # A rule's decision skips the soft limits; the trends count every submission.
    counted = limits.tally(limits.Submission(letter.id, network, domain), letter,
                           soft=decision is None)
    # The trends, counted in the database only when the storage's hourly counters say the
    # block or domain may have reached a threshold, and before this submission's event is
    # written (it goes with the commit): an alert comes one submission later than
    # counting it would, for no round trip more.
    if (counted.block_may_trend or counted.domain_may_trend) and alerts.check_and_alert(
            letter.id, network.block_hash if counted.block_may_trend else None,
            domain if counted.domain_may_trend else None):
        db.session.flush()  # its request row, before a pipelined commit
    if decision == rules.BLOCK:
        return Screening(network, domain, "", blocked=True)
    return Screening(network, domain, domain_hash(domain), flag_reason=counted.flag_reason)


def record(letter_id: int, screening: Screening, signature_id: int | None = None) -> None:
    """The submission's event, in the session (the caller commits)."""
    events.record(letter_id, screening.network, screening.domain, screening.outcome,
                  reason=BLOCKED_BY_RULE if screening.blocked else screening.flag_reason,
                  signature_id=signature_id)


def dropped(letter_id: int, email: str, client_address: str | None, reason: str) -> None:
    """A submission dropped before signing (the honeypot, too fast): its event; commits."""
    events.record(letter_id, Network.of(client_address), email_domain(email), EVENT_DROPPED,
                  reason=reason)
    db.session.commit()


def record_for_new(together: Together, letter_id: int, email_hash: str, nonce: str,
                   screening: Screening) -> None:
    """record() for the signature this transaction inserts without the ORM, found by its
    letter, address hash and new nonce: sent with the commit, adds nothing if the insert
    was turned down (the address had signed; _sign_again() records it then)."""
    together.execute(_insert_for_new(), {
        "letter_id": letter_id, "email_hash": email_hash, "nonce": nonce, "at": utcnow(),
        "address_hash": screening.network.address_hash,
        "block_hash": screening.network.block_hash,
        "email_domain": (screening.domain or None) and screening.domain[:253],
        "outcome": screening.outcome, "reason": screening.flag_reason})


@cache
def _insert_for_new() -> Insert:
    event = cast(Table, AbuseEvent.__table__)
    signature = cast(Table, Signature.__table__)
    names = ["letter_id", "at", "address_hash", "block_hash", "email_domain", "outcome",
             "reason"]
    values = [bindparam(name, type_=event.c[name].type) for name in names]
    found = select(*values, signature.c.id).where(
        signature.c.letter_id == bindparam("letter_id"),
        signature.c.email_hash == bindparam("email_hash"),
        signature.c.token_nonce == bindparam("nonce"))
    return event.insert().from_select(names + ["signature_id"], found)
