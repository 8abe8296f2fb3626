"""What a submission leaves for abuse review, for a few hours: the letter, the time, keyed
hashes of the client address and its block, the mail domain, and what became of it.

record() adds the row to the caller's session, so it is stored with the signature (or with
nothing, for a dropped submission) in the signing transaction. forget() deletes what is
older than ABUSE_EVENT_HOURS, with the alerts those events raised; the worker runs it every
hour (worker.py), so an event lives at most ABUSE_EVENT_HOURS plus one hour.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, delete

from petition.abuse.network import Network
from petition.extensions import db
from petition.models import utcnow
from petition.models.abuse import EVENT_OUTCOMES, AbuseAlert, AbuseEvent


def record(letter_id: int, network: Network, email_domain: str | None, outcome: str,
           reason: str | None = None, signature_id: int | None = None) -> AbuseEvent:
    """Add one submission's event to the session (the caller commits)."""
    if outcome not in EVENT_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    event = AbuseEvent(letter_id=letter_id, signature_id=signature_id, at=utcnow(),
                       address_hash=network.address_hash, block_hash=network.block_hash,
                       email_domain=(email_domain or None) and email_domain[:253],
                       outcome=outcome, reason=reason and reason[:40])
    db.session.add(event)
    return event


def window() -> dt.timedelta:
    return dt.timedelta(hours=int(current_app.config["ABUSE_EVENT_HOURS"]))


def forget(now: dt.datetime | None = None) -> int:
    """Delete the events older than ABUSE_EVENT_HOURS and the alerts as old; commit.
    Returns how many events went."""
    cutoff = (now or utcnow()) - window()
    result = cast(CursorResult[Any], db.session.execute(
        delete(AbuseEvent).where(AbuseEvent.at < cutoff)
        .execution_options(synchronize_session=False)))
    db.session.execute(delete(AbuseAlert).where(AbuseAlert.at < cutoff)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount
