"""Moderation of organisations on letters created with --moderate."""
from sqlalchemy import select

from petition.extensions import db
from petition.models import INDIVIDUAL, MOD_HELD, PENDING, Signature
from tests.factories import make_letter, make_signature


def test_held_organisations_are_listed_only_once_approved(runner, client, app):
    letter = make_letter(moderate_organizations=True)
    held = make_signature(letter, name="Held Org", moderation=MOD_HELD)
    rejected = make_signature(letter, name="Spam Org", moderation=MOD_HELD)
    make_signature(letter, name="Somebody", signer_type=INDIVIDUAL)

    listing = runner.invoke(args=["signatures", "held", "appeal"])
    assert listing.exit_code == 0 and "Held Org" in listing.output and "2 held." in listing.output
    assert "Held Org" not in client.get("/letters/appeal?lang=en").get_data(as_text=True)

    assert "1 approved." in runner.invoke(
        args=["signatures", "approve", "appeal", held.public_id]).output
    assert "1 rejected." in runner.invoke(
        args=["signatures", "reject", "appeal", rejected.public_id]).output
    page = client.get("/letters/appeal", follow_redirects=True).get_data(as_text=True)
    assert "Held Org" in page and "Spam Org" not in page
    assert client.get("/letters/appeal.json").get_json()["total"] == 2


def test_unknown_or_pending_ids_change_nothing(runner, app):
    letter = make_letter(moderate_organizations=True)
    held = make_signature(letter, name="Held Org", moderation=MOD_HELD)
    pending = make_signature(letter, name="Pending Org", status=PENDING)
    result = runner.invoke(args=["signatures", "approve", "appeal", held.public_id,
                                 pending.public_id, "999"])
    assert result.exit_code != 0
    assert (pending.public_id in result.output and "999" in result.output
            and "nothing changed" in result.output)
    db.session.expire_all()
    assert db.session.scalar(
        select(Signature.moderation).where(Signature.id == held.id)) == MOD_HELD
