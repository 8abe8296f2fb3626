"""The signing use cases: sign(), confirm(), duplicates and throttling."""
import pytest
from sqlalchemy import func, select

from petition import tokens
from petition.extensions import db
from petition.models import CONFIRMED, MOD_HELD, PENDING, Signature
from petition.signatures import signing
from tests.factories import make_letter
from tests.helpers import confirm_token_from, mails_to, outbox, rendered


def details(**overrides) -> signing.SignatureDetails:
    values = dict(signer_type="organization", name="CGT", country="ES",
                  email="press@cgt.example", lang="fr")
    values.update(overrides)
    return signing.SignatureDetails(**values)


def count_signatures() -> int:
    return db.session.scalar(select(func.count(Signature.id)))


def test_sign_creates_pending_signature_and_mail_together(app):
    make_letter()
    assert signing.sign("appeal", details()) is signing.SignOutcome.CREATED
    signature = db.session.scalar(select(Signature))
    assert signature.status == PENDING
    assert signature.email_hash and "cgt" not in signature.email_hash
    assert b"press@cgt.example" not in signature.email_encrypted
    [mail] = mails_to("press@cgt.example")
    assert mail.kind == "confirm" and mail.signature_id == signature.id
    # Nothing readable waits in the row: the mail is rendered when delivered.
    assert mail.body_text is None and mail.body_html is None and mail.subject == ""
    assert mail.link_nonce == signature.token_nonce and mail.lang == "fr"
    content = rendered(mail)
    assert "press@cgt.example" not in content.text
    assert "Libérez" in content.text and "Libérez" not in content.subject


def test_token_holds_random_ids_only_not_the_email(app):
    make_letter()
    signing.sign("appeal", details())
    token = confirm_token_from(outbox()[0])
    assert "cgt" not in token
    signature = db.session.scalar(select(Signature))
    assert tokens.read_confirm_token(token) == (signature.public_id, signature.token_nonce)


def test_confirm_counts_once_and_forgets_the_address(app):
    make_letter()
    signing.sign("appeal", details())
    token = confirm_token_from(outbox()[0])
    signature = signing.confirm(token)
    assert signature.status == CONFIRMED and signature.confirmed_at
    assert signature.email_encrypted is None
    with pytest.raises(signing.AlreadyConfirmed):
        signing.confirm(token)


def test_tampered_token_is_invalid(app):
    make_letter()
    signing.sign("appeal", details())
    token = confirm_token_from(outbox()[0])
    with pytest.raises(signing.InvalidLink):
        signing.find_link(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    with pytest.raises(signing.InvalidLink):
        signing.find_link("not-a-token")


def test_token_of_another_purpose_is_refused(app):
    from itsdangerous import URLSafeSerializer

    make_letter()
    signing.sign("appeal", details())
    signature = db.session.scalar(select(Signature))
    other = URLSafeSerializer(app.config["SECRET_KEY"], salt="other-purpose")
    with pytest.raises(signing.InvalidLink):
        signing.find_link(other.dumps([signature.public_id, signature.token_nonce]))


def test_expired_link_gets_a_new_one_and_stops_working(app):
    make_letter()
    signing.sign("appeal", details())
    token = confirm_token_from(outbox()[0])
    app.config["CONFIRM_MAX_AGE"] = -1
    with pytest.raises(signing.LinkExpired):
        signing.find_link(token)
    signing.resend_confirmation(token)
    with pytest.raises(signing.InvalidLink):  # the old link is dead now: no more mail from it
        signing.resend_confirmation(token)
    mails = mails_to("press@cgt.example")
    assert len(mails) == 2
    app.config["CONFIRM_MAX_AGE"] = 3600
    with pytest.raises(signing.InvalidLink):
        signing.find_link(token)
    assert signing.confirm(confirm_token_from(mails[1])).status == CONFIRMED


def test_duplicate_after_confirmation_mails_already_signed(app):
    make_letter()
    signing.sign("appeal", details())
    signing.confirm(confirm_token_from(outbox()[0]))
    outcome = signing.sign("appeal", details(email="Press@CGT.example", name="Someone else"))
    assert outcome is signing.SignOutcome.ALREADY_SIGNED_MAILED
    assert count_signatures() == 1
    assert outbox()[-1].kind == "already_signed"
    signature = db.session.scalar(select(Signature))
    db.session.refresh(signature)
    assert signature.name == "CGT" and signature.status == CONFIRMED


def test_closed_letter_refuses(app):
    make_letter(status="closed")
    with pytest.raises(signing.LetterClosed):
        signing.sign("appeal", details())
    assert count_signatures() == 0 and outbox() == []


def test_signer_type_not_accepted(app):
    make_letter(accepts_individuals=False)
    with pytest.raises(signing.SignerTypeRefused):
        signing.sign("appeal", details(signer_type="individual"))


def test_moderated_organisation_is_held_after_confirmation(app):
    make_letter(moderate_organizations=True)
    signing.sign("appeal", details())
    signature = signing.confirm(confirm_token_from(outbox()[0]))
    assert signature.moderation == MOD_HELD
    assert not signature.is_public


def test_individual_display_choice_kept_organisation_forced_full(app):
    make_letter()
    signing.sign("appeal", details(signer_type="individual", display="initials",
                                   email="a@example.org"))
    signing.sign("appeal", details(display="anonymous", email="b@example.org"))
    displays = dict(db.session.execute(select(Signature.signer_type, Signature.display)).all())
    assert displays == {"individual": "initials", "organization": "full"}


@pytest.mark.parametrize("lang", ["en", "fr", "ru"])
def test_the_longest_accepted_title_signs_in_every_language(app, lang):
    from petition.letters import operations as letters

    title = "Т" * 300  # the longest title letters accept; the translated prefix comes on top
    letters.create_letter("long", lang=lang, title=title)
    signing.sign("long", details(lang=lang))
    content = rendered(outbox()[0])
    # The title is in the body; the subject, which a mailbox shows, never names the letter.
    assert title in content.text and "Т" * 3 not in content.subject
    from petition.mail import dispatcher

    assert dispatcher.deliver_due() == 1
    [mail] = outbox()
    assert mail.status == "sent" and mail.subject == content.subject
