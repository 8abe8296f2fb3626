"""Forgetting what the privacy notice says is forgotten."""
import datetime as dt

from sqlalchemy import select

from petition.extensions import db
from petition.models import CONFIRMED, PENDING, OutboxMail, Signature, utcnow
from petition.privacy import retention
from petition.signatures import signing
from tests.factories import make_letter, make_signature


def test_unconfirmed_signatures_are_deleted_after_retention(app):
    letter = make_letter()
    signing.sign("appeal", signing.SignatureDetails(
        signer_type="organization", name="Old", country="FR", email="old@example.org", lang="fr"))
    old = db.session.scalar(select(Signature).where(Signature.name == "Old"))
    old.last_mailed_at = utcnow() - dt.timedelta(days=8)
    db.session.commit()
    recent = make_signature(letter, status=PENDING, name="Recent")
    recent.last_mailed_at = utcnow() - dt.timedelta(days=1)
    confirmed = make_signature(letter, status=CONFIRMED, name="Kept")
    confirmed.created_at = utcnow() - dt.timedelta(days=400)
    db.session.commit()

    assert retention.purge_unconfirmed() == 1
    db.session.expire_all()
    names = set(db.session.scalars(select(Signature.name)))
    assert names == {"Recent", "Kept"}
    # The confirmation mail row survives without pointing at a deleted signature.
    assert db.session.scalar(select(OutboxMail.signature_id)) is None


def test_mail_send_runs_housekeeping(runner, app):
    letter = make_letter()
    stale = make_signature(letter, status=PENDING, name="Stale")
    stale.last_mailed_at = utcnow() - dt.timedelta(days=30)
    db.session.commit()
    runner.invoke(args=["mail", "send"])
    db.session.expire_all()
    assert db.session.scalar(select(Signature).where(Signature.name == "Stale")) is None
