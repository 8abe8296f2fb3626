"""Withdrawal: the private link in every mail (GET shows, only POST deletes) and the form
that mails a new link to the address a signer used."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, func, select

from petition import addresses, tokens
from petition.extensions import db
from petition.mail.outbox import WITHDRAW_REQUEST
from petition.models import CLOSED, PENDING, Letter, OutboxMail, Signature, SignatureVersion, utcnow
from petition.models.accounts import AuditEvent
from petition.signatures import withdrawal
from tests.export_helpers import exported
from tests.factories import make_letter, make_signature
from tests.helpers import (
    assert_valid_html,
    confirm_token_from,
    html_lang,
    mails_to,
    outbox,
    rendered,
    sign_form,
    statements,
)

WITHDRAW_RE = re.compile(r"http://localhost/withdraw/([A-Za-z0-9_.\-]+)")
NAME = "Campagne #FREE120"


def withdraw_token_from(mail: OutboxMail) -> str:
    content = rendered(mail)
    found = set(WITHDRAW_RE.findall(content.text))
    assert len(found) == 1, f"not one withdrawal link in: {content.text!r}"
    assert set(WITHDRAW_RE.findall(content.html or "")) == found
    return found.pop()


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def list_version() -> int:
    db.session.expire_all()
    return db.session.scalar(select(Letter.list_version).where(Letter.slug == "appeal"))


def sign_and_confirm(client, email: str = "contact@free120.example", **fields) -> str:
    """Sign through the form, confirm through the mailed link; the mail's withdrawal token."""
    assert client.post("/letters/appeal/sign",
                       data=sign_form(email=email, **fields)).status_code == 303
    mail = mails_to(email)[-1]
    withdraw_token = withdraw_token_from(mail)  # the mail as delivered, before confirming
    assert client.post(f"/confirm/{confirm_token_from(mail)}").status_code == 200
    return withdraw_token


def public_views(client, letter: Letter) -> dict[str, str]:
    """Everywhere the public or the press sees names (the JSON has counts only)."""
    db.session.expire_all()
    letter = db.session.get(Letter, letter.id)
    return {
        "page": client.get("/letters/appeal?lang=en").get_data(as_text=True),
        "press list": client.get("/letters/appeal/signatories.txt").get_data(as_text=True),
        "csv export": exported(letter, "csv").decode("utf-8-sig"),
        "txt export": exported(letter, "txt").decode("utf-8"),
    }


def counts(client) -> tuple[int, list[dict]]:
    data = client.get("/letters/appeal.json").get_json()
    return data["total"], [{"code": row["code"], "count": row["count"]}
                           for row in data["by_country"]]


def test_withdrawn_signature_is_gone_everywhere_at_once(client, app):
    letter = make_letter()
    make_signature(letter, name="Memorial Paris")
    token = sign_and_confirm(client)
    assert all(NAME in text for text in public_views(client, letter).values())
    assert counts(client) == (2, [{"code": "DE", "count": 2}])
    before = list_version()

    ask = client.get(f"/withdraw/{token}?lang=en")
    page = ask.get_data(as_text=True)
    assert ask.status_code == 200 and ask.headers["Cache-Control"] == "no-store"
    # The letter and exactly how the signature appears, and one button.
    assert "Libérez le mathématicien" in page and "As an organisation" in page
    assert f"Listed as: {NAME.replace('#', '&#35;')}" in page or f"Listed as: {NAME}" in page
    assert page.count('type="submit"') == 1 and f'action="/withdraw/{token}"' in page
    assert count(Signature) == 2  # GET deletes nothing

    done = client.post(f"/withdraw/{token}?lang=en")
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    assert "Your signature is withdrawn" in done.get_data(as_text=True)
    assert count(Signature) == 1
    assert list_version() == before + 1
    views = public_views(client, letter)
    assert not [where for where, text in views.items() if NAME in text]
    assert all("Memorial Paris" in text for text in views.values())
    assert counts(client) == (1, [{"code": "DE", "count": 1}])

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signature.withdraw"))
    assert event.letter_slug == "appeal"
    recorded = f"{event.actor} {event.detail}"
    assert "FREE120" not in recorded and "@" not in recorded


def test_pending_signature_goes_with_its_versions_and_waiting_mail(client, app):
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email="p@example.org"))
    client.post("/letters/appeal/sign", data=sign_form(email="p@example.org", name="Other Name"))
    first, second = mails_to("p@example.org")
    assert count(SignatureVersion) == 1 and count(OutboxMail) == 2
    before = list_version()
    token, confirm_token = withdraw_token_from(first), confirm_token_from(first)
    assert withdraw_token_from(second) == token  # one link per signature, whatever version
    page = client.get(f"/withdraw/{token}?lang=en").get_data(as_text=True)
    assert "not confirmed yet" in page
    assert client.post(f"/withdraw/{token}").status_code == 200
    assert (count(Signature), count(SignatureVersion), count(OutboxMail)) == (0, 0, 0)
    assert list_version() == before  # nothing public changed
    assert client.get(f"/confirm/{confirm_token}").status_code == 404
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signature.withdraw"))
    assert event.letter_slug == "appeal" and event.detail == "pending"


def test_sent_mail_keeps_its_record_without_a_link_to_the_signature(client, app):
    make_letter()
    token = sign_and_confirm(client, "sent@example.org")
    mail = outbox()[0]
    mail.status, mail.recipient_encrypted, mail.body_text, mail.body_html = "sent", None, None, None
    db.session.commit()
    assert client.post(f"/withdraw/{token}").status_code == 200
    assert count(Signature) == 0
    kept = outbox()
    assert [(m.status, m.signature_id) for m in kept] == [("sent", None)]


def test_get_never_deletes(client, app):
    make_letter()
    token = sign_and_confirm(client)
    for _ in range(3):
        assert client.get(f"/withdraw/{token}").status_code == 200
        assert client.head(f"/withdraw/{token}").status_code == 200
    assert count(Signature) == 1


def test_a_link_whose_signature_is_gone(client, app):
    make_letter()
    token = sign_and_confirm(client)
    assert client.post(f"/withdraw/{token}").status_code == 200
    for response in (client.post(f"/withdraw/{token}?lang=en"),
                     client.get(f"/withdraw/{token}?lang=en")):
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert "Nothing to withdraw" in page and 'href="/withdraw"' in page
    assert count(AuditEvent) == 1


def test_tokens_of_another_purpose_do_not_withdraw(client, app):
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email="t@example.org"))
    mail = mails_to("t@example.org")[0]
    confirm_token, withdraw_token = confirm_token_from(mail), withdraw_token_from(mail)
    signature = db.session.scalar(select(Signature))
    # The withdrawal token holds the public id and nothing else.
    assert tokens.read_withdraw_token(withdraw_token) == signature.public_id
    for bad in (confirm_token, withdraw_token[:-2], withdraw_token + "x",
                tokens.confirm_token(signature.public_id, signature.token_nonce)):
        for response in (client.get(f"/withdraw/{bad}?lang=en"),
                         client.post(f"/withdraw/{bad}?lang=en")):
            assert response.status_code == 404
            assert "This link does not work" in response.get_data(as_text=True)
    # Nor does a withdrawal token confirm.
    assert client.post(f"/confirm/{withdraw_token}").status_code == 404
    assert count(Signature) == 1 and db.session.scalar(select(Signature.status)) == PENDING


def test_already_signed_mail_carries_a_working_link(client, app):
    make_letter()
    token = sign_and_confirm(client, "again@example.org")
    client.post("/letters/appeal/sign", data=sign_form(email="again@example.org"))
    already = mails_to("again@example.org")[-1]
    assert already.kind == "already_signed"
    assert withdraw_token_from(already) == token
    assert client.post(f"/withdraw/{token}").status_code == 200
    assert count(Signature) == 0


def test_withdrawal_works_on_a_closed_letter(client, app):
    letter = make_letter()
    token = sign_and_confirm(client)
    letter.status = CLOSED
    db.session.commit()
    assert client.post(f"/withdraw/{token}").status_code == 200
    assert count(Signature) == 0


def test_confirm_pages_say_how_to_withdraw(client, app):
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email="h@example.org"))
    token = confirm_token_from(mails_to("h@example.org")[0])
    for response in (client.get(f"/confirm/{token}?lang=en"),
                     client.post(f"/confirm/{token}?lang=en")):
        page = response.get_data(as_text=True)
        assert "You can withdraw your signature at any time" in page
        assert 'href="/withdraw"' in page


def test_form_answers_the_same_and_mails_every_address_once(client, app):
    appeal = make_letter()
    other = make_letter("other", lang="en", title="Free them all")
    make_signature(appeal, email="known@example.org", name="Known Org", lang="fr")
    make_signature(other, email="known@example.org", name="Known Pending", lang="en",
                   status=PENDING)
    form = client.get("/withdraw")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    assert 'name="email"' in form.get_data(as_text=True)

    with statements() as known_work:
        known = client.post("/withdraw", data={"email": "known@example.org"})
    with statements() as unknown_work:
        unknown = client.post("/withdraw", data={"email": "unknown@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert known.headers["Cache-Control"] == "no-store"
    # The same work either way, so timing tells nothing: one queued request each, looked
    # up by the mail worker.
    assert known_work == unknown_work and len(known_work) == 1, known_work
    assert [mail.kind for mail in outbox()] == [WITHDRAW_REQUEST, WITHDRAW_REQUEST]
    assert mails_to("known@example.org")[0].signature_id is None
    assert withdrawal.expand_requests() == 2
    assert WITHDRAW_REQUEST not in {mail.kind for mail in outbox()}

    # One mail to each, alike on the outside; the known address's lists both signatures.
    [unknown_mail], [known_mail] = mails_to("unknown@example.org"), mails_to("known@example.org")
    assert unknown_mail.kind == known_mail.kind == "withdraw_answer"
    unknown_content, known_content = rendered(unknown_mail), rendered(known_mail)
    assert unknown_content.subject == known_content.subject == "About your signature"
    assert html_lang(known_content.html) == "en"  # the form's language
    assert not WITHDRAW_RE.search(unknown_content.text)
    tokens_sent = WITHDRAW_RE.findall(known_content.text)
    assert len(tokens_sent) == 2
    assert all(title in known_content.text
               for title in ("Free them all", "Libérez le mathématicien"))
    # Each link withdraws its own signature.
    token = tokens_sent[1]
    assert "Known Pending" in client.get(f"/withdraw/{token}").get_data(as_text=True)
    client.post(f"/withdraw/{token}")
    db.session.expire_all()
    assert list(db.session.scalars(select(Signature.name))) == ["Known Org"]


def test_form_finds_a_confirmed_signature_by_a_spelling_of_its_address(client, app):
    letter = make_letter()
    signature = make_signature(letter, email="alice@gmail.com", name="Alice Org")
    assert signature.email_encrypted is None  # only the keyed hash is kept
    client.post("/withdraw", data={"email": "A.lice+w@googlemail.com"})
    withdrawal.expand_requests()
    (mail,) = outbox()
    assert addresses.decrypt(mail.recipient_encrypted) == "A.lice+w@googlemail.com"
    assert withdraw_token_from(mail) == tokens.withdraw_token(signature.public_id)


def test_form_finds_a_signature_hashed_before_folding(client, app):
    letter = make_letter()
    signature = make_signature(letter, name="Old Org")
    signature.email_hash = addresses.keyed_hash("old+tag@example.org", "email")
    db.session.commit()
    client.post("/withdraw", data={"email": "old+tag@example.org"})
    withdrawal.expand_requests()
    [mail] = mails_to("old+tag@example.org")
    assert withdraw_token_from(mail) == tokens.withdraw_token(signature.public_id)


def test_form_respects_the_mail_cap(client, app):
    app.config["MAIL_PER_ADDRESS_PER_HOUR"] = 1
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email="cap@example.org"))
    for _ in range(3):
        client.post("/withdraw", data={"email": "cap@example.org"})
    withdrawal.expand_requests()
    # The answers' own cap: one now, one later (the third request merged into it); the
    # confirmation, in the sign form's cap, neither waits for them nor holds them back.
    confirmation, first, later = outbox()
    assert (first.kind, later.kind) == ("withdraw_answer", "withdraw_answer")
    now = utcnow()
    assert confirmation.next_attempt_at <= now and first.next_attempt_at <= now
    assert later.next_attempt_at > now


def test_form_refuses_a_non_address_and_ignores_bots(client, app):
    letter = make_letter()
    make_signature(letter, email="bot-target@example.org")
    bad = client.post("/withdraw?lang=en", data={"email": "not an address"})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "This does not look like an email address." in page
    assert_valid_html(page)
    assert '<a href="#email">Email: This does not look like an email address.</a>' in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="email-hint email-error"' in page
    bot = client.post("/withdraw", data={"email": "bot-target@example.org", "website": "x"})
    human = client.post("/withdraw", data={"email": "nobody@example.org"})
    assert bot.status_code == 200 and bot.get_data() == human.get_data()
    assert [mail.kind for mail in outbox()] == [WITHDRAW_REQUEST]  # the human's, not the bot's
    assert withdrawal.expand_requests() == 1
    assert [mail.kind for mail in mails_to("nobody@example.org")] == ["withdraw_answer"]
    assert mails_to("bot-target@example.org") == []


def test_form_is_rate_limited_per_client(database_url, tmp_path):
    from petition import create_app
    from tests.conftest import base_config

    config = base_config(database_url, tmp_path)
    config.update(RATELIMIT_ENABLED=True, RATELIMIT_WITHDRAW="2 per minute",
                  RATELIMIT_STORAGE_URI="memory://")
    app = create_app(config)
    with app.app_context():
        client = app.test_client()
        codes = [client.post("/withdraw", data={"email": f"r{i}@example.org"}).status_code
                 for i in range(4)]
        assert codes == [200, 200, 429, 429]
        assert client.get("/withdraw").status_code == 200  # only sending is limited
        db.session.remove()
        db.engine.dispose()


def test_a_withdrawal_racing_a_confirmation_gives_an_invalid_link(app, monkeypatch):
    """Withdrawn between reading the link and the UPDATE: the UPDATE matches nothing, the
    link read again finds no row, and the confirmation refuses, with nothing written."""
    from petition.letters import counting
    from petition.signatures import signing

    letter = make_letter()
    signature = make_signature(letter, status=PENDING)
    signature.link_issued_at = utcnow()
    letter_id, token = letter.id, tokens.confirm_token(signature.public_id, signature.token_nonce)
    db.session.commit()
    read = signing.find_link

    def read_then_withdrawn(token):
        link = read(token)
        with db.engine.begin() as other:  # another request withdraws it meanwhile
            other.execute(delete(Signature).where(Signature.id == link.signature.id))
        return link

    monkeypatch.setattr(signing, "find_link", read_then_withdrawn)
    with pytest.raises(signing.InvalidLink):
        signing.confirm(token)
    db.session.rollback()
    assert counting.public_total(letter_id) == 0
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
