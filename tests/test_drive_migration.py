"""Migration 0014 (letter drives) on a database in use: nothing of the signers' rows moves."""
from __future__ import annotations

from sqlalchemy import func, select, text

from petition.extensions import db
from petition.models import OutboxMail, Signature, SignatureVersion
from tests.factories import make_letter, make_signature


def test_down_and_up_again_keeps_signatures_and_waiting_mail_links(app, runner):
    letter = make_letter()
    signature = make_signature(letter, status="pending")
    mail = OutboxMail(kind="confirm", subject="", signature_id=signature.id)
    db.session.add(mail)
    db.session.flush()
    db.session.add(SignatureVersion(signature_id=signature.id, signer_type="organization",
                                    name="Other", country="FR", mail_id=mail.id))
    db.session.commit()
    mail_id = mail.id
    db.session.remove()
    for step in (["db", "downgrade", "0013"], ["db", "upgrade"]):
        result = runner.invoke(args=step)
        assert result.exit_code == 0, result.output
        db.engine.dispose()
    assert db.session.scalar(select(func.count(Signature.id))) == 1
    assert db.session.scalar(select(SignatureVersion.mail_id)) == mail_id
    assert db.session.scalar(text("SELECT kind FROM letter")) == "open-letter"
