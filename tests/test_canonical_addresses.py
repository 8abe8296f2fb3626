"""The duplicate key folds spellings of one mailbox: +tags everywhere, dots and googlemail
on Gmail. Mail still goes to the address as typed; signatures hashed before the folding
still count as duplicates."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from petition import addresses
from petition.extensions import db
from petition.models import PENDING, OutboxMail, Signature, utcnow
from petition.signatures import curation
from petition.signatures.importing import import_signatures
from tests.factories import make_letter, make_signature
from tests.helpers import mails_to, outbox, sign_form


def _signatures() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature))


@pytest.mark.parametrize("typed, key", [
    ("alice+1@x.org", "alice@x.org"),
    ("Alice+news+more@Example.ORG", "alice@example.org"),
    ("a.lice@googlemail.com", "alice@gmail.com"),
    ("A.L.I.C.E+x@gmail.com", "alice@gmail.com"),
    ("a.lice@example.org", "a.lice@example.org"),  # dots count outside Gmail
    ("+x@example.org", "+x@example.org"),  # nothing before the tag: nothing to fold
])
def test_duplicate_key(typed, key):
    assert addresses.duplicate_key(typed) == key


def test_hashes_of_spellings_agree_and_keep_the_unfolded_one(app):
    assert addresses.email_hash("alice+1@example.org") == addresses.email_hash("alice@example.org")
    assert addresses.email_hashes("alice@example.org") == [
        addresses.email_hash("alice@example.org")]
    current, legacy = addresses.email_hashes("alice+1@example.org")
    assert current == addresses.email_hash("alice@example.org")
    assert legacy == addresses.keyed_hash("alice+1@example.org", "email") != current


def test_a_tag_does_not_make_a_second_signature(client, app):
    make_letter()
    for email in ("alice+1@example.org", "alice@example.org"):
        assert client.post("/letters/appeal/sign", data=sign_form(email=email)).status_code == 303
    assert _signatures() == 1
    # Each request is answered at the address it typed, not at a folded one.
    assert len(mails_to("alice+1@example.org")) == 1
    assert len(mails_to("alice@example.org")) == 1


def test_gmail_spellings_are_one_signer_and_one_mail_cap(client, app):
    app.config["MAIL_PER_ADDRESS_PER_HOUR"] = 2
    make_letter()
    typed = ["a.lice@gmail.com", "alice@googlemail.com", "ALICE+x@gmail.com"]
    for email in typed:
        assert client.post("/letters/appeal/sign", data=sign_form(email=email)).status_code == 303
    assert _signatures() == 1
    signature = db.session.scalar(select(Signature))
    assert signature.email_hash == addresses.email_hash("alice@gmail.com")
    mails = outbox()
    assert [addresses.decrypt(mail.recipient_encrypted) for mail in mails] == typed
    # The cap counted the three spellings together: the third waits for the next hour.
    now = utcnow()
    assert [mail.next_attempt_at > now for mail in mails] == [False, False, True]


def test_confirmed_signer_cannot_sign_again_with_a_spelling(client, app):
    letter = make_letter()
    make_signature(letter, email="bob@example.org", name="Bob's Org")
    client.post("/letters/appeal/sign", data=sign_form(email="bob+again@example.org",
                                                       name="Other Org"))
    assert _signatures() == 1
    assert [mail.kind for mail in mails_to("bob+again@example.org")] == ["already_signed"]


def test_signatures_hashed_before_the_folding_still_count(client, app):
    letter = make_letter()
    old = make_signature(letter, name="Old Org")
    # Stored before duplicate_key(): the hash of the address as it was, which is gone.
    old.email_hash = addresses.keyed_hash("carol+petition@example.org", "email")
    db.session.commit()
    client.post("/letters/appeal/sign", data=sign_form(email="carol+petition@example.org"))
    assert _signatures() == 1
    assert [m.kind for m in mails_to("carol+petition@example.org")] == ["already_signed"]
    # The back office's exact-address search finds it too.
    assert curation.find_by_email(letter, "Carol+petition@example.org").id == old.id


def test_back_office_lookup_folds_like_signing(app):
    letter = make_letter()
    signature = make_signature(letter, email="dave@gmail.com")
    make_signature(letter, email="someone@example.org")
    assert curation.find_by_email(letter, "D.ave+x@googlemail.com").id == signature.id
    assert curation.find_by_email(letter, "dave@example.org") is None


def test_import_skips_spellings_of_a_signed_address(app, tmp_path):
    letter = make_letter()
    make_signature(letter, email="erin@example.org", name="Erin Org")
    path = tmp_path / "list.csv"
    path.write_text("name,type,country,email\n"
                    "Tagged,organisation,DE,erin+list@example.org\n"
                    "Gmail One,organisation,DE,f.rank@gmail.com\n"
                    "Gmail Two,organisation,FR,frank+2@googlemail.com\n"
                    "New One,organisation,FR,new@example.org\n", encoding="utf-8")
    report = import_signatures("appeal", path)
    assert report.imported == 2
    names = set(db.session.scalars(select(Signature.name)))
    assert names == {"Erin Org", "Gmail One", "New One"}


def test_pending_signature_mail_goes_where_typed(client, app):
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email="Grace+Work@Example.org"))
    signature = db.session.scalar(select(Signature))
    assert signature.status == PENDING
    # email-validator lower-cases the domain only; the local part is kept as typed.
    assert addresses.decrypt(signature.email_encrypted) == "Grace+Work@example.org"
    mail = db.session.scalar(select(OutboxMail))
    assert addresses.decrypt(mail.recipient_encrypted) == "Grace+Work@example.org"


TRICK_ADDRESSES = ["=?utf-8?q?x?=@example.org", "=?utf-8?b?YWRtaW4=?=@example.org",
                   "a=?x@example.org", "a%b@example.org", "user%evil.example@example.org"]


@pytest.mark.parametrize("typed", TRICK_ADDRESSES)
def test_encoded_words_and_percent_hacks_are_not_addresses(typed):
    """Refuse a local part holding "=?" (an encoded word) or "%" (a relay hack)."""
    from email_validator import EmailNotValidError

    with pytest.raises(EmailNotValidError):
        addresses.canonical_email(typed)
    assert addresses.canonical_email("a=b?c@example.org") == "a=b?c@example.org"


@pytest.mark.parametrize("typed", TRICK_ADDRESSES)
def test_the_sign_and_withdrawal_forms_refuse_them(client, app, typed):
    """Refuse such an address on the sign form and the withdrawal form: nothing stored or sent."""
    make_letter()
    for url, data in (("/letters/appeal/sign?lang=en", sign_form(email=typed)),
                      ("/withdraw?lang=en", {"email": typed})):
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert "This does not look like an email address." in response.get_data(as_text=True)
    assert _signatures() == 0 and outbox() == []
