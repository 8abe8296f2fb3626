"""Periodic clean-up that keeps the promises of the privacy notice, run by the mail loops."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import delete, func

from petition.core import remnants
from petition.extensions import db
from petition.mail import outbox
from petition.models import PENDING, Signature, utcnow


def purge_unconfirmed(now: dt.datetime | None = None) -> int:
    """Delete pending signatures whose last link went out over UNCONFIRMED_RETENTION ago.

    Until then an expired link can still ask for a new one; after it, nothing of a person
    who never confirmed (encrypted address included) is kept.
    """
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=current_app.config["UNCONFIRMED_RETENTION"])
    result = db.session.execute(
        delete(Signature)
        .where(
            Signature.status == PENDING,
            func.coalesce(Signature.last_mailed_at, Signature.created_at) < cutoff,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def run() -> bool:
    """Everything that is due to be forgotten, then out of SQLite's log too.

    Returns False when the checkpoint was held back by readers: try remnants.checkpoint_wal()
    again soon.
    """
    outbox.purge_failed()
    purge_unconfirmed()
    return remnants.checkpoint_wal()
