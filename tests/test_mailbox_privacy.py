"""What reaches a mailbox tells whoever reads it (a mail provider, a lock screen) nothing
about whether its owner signed: every withdrawal request gets one mail, whatever the
address's history, and no subject names a letter or says "already"."""
from __future__ import annotations

import datetime as dt
import re

from flask import Flask

from petition.models import PENDING, utcnow
from petition.signatures import withdrawal
from tests.factories import make_letter, make_signature
from tests.helpers import (
    assert_valid_html,
    confirm_token_from,
    mails_to,
    outbox,
    rendered,
    sign_form,
)
from tests.smtp_server import Received, smtp_server

SIGNER, STRANGER = "signer@example.org", "stranger@example.org"
TITLES = ("Libérez le mathématicien", "Free them all")
WITHDRAW_LINK = re.compile(r"http://localhost/withdraw/[A-Za-z0-9_.\-]+")


def deliver(app: Flask) -> list[Received]:
    """One pass of the mail worker, to a real SMTP server."""
    from petition.mail import dispatcher

    with smtp_server() as server:
        app.config.update(MAIL_URL=f"smtp://127.0.0.1:{server.port}", MAIL_TIMEOUT=5)
        dispatcher.dispatch()
    return server.received


def text_of(received: Received) -> str:
    return received.message.get_body(("plain",)).get_content()


def html_of(received: Received) -> str:
    return received.message.get_body(("html",)).get_content()


def test_a_withdrawal_request_mails_a_signer_and_a_stranger_alike(client, app):
    """Request withdrawal links for a signer and a non-signer: one mail each, same subject."""
    appeal = make_letter()
    other = make_letter("other", lang="en", title="Free them all")
    make_signature(appeal, email=SIGNER, name="Known Org")
    make_signature(other, email=SIGNER, name="Known Pending", lang="en", status=PENDING)
    for email in (SIGNER, STRANGER):
        assert client.post("/withdraw?lang=en", data={"email": email}).status_code == 200

    received = deliver(app)
    by_address = {mail.rcpt_tos[0]: mail for mail in received}
    assert sorted(mail.rcpt_tos[0] for mail in received) == [SIGNER, STRANGER]  # one each
    signer, stranger = by_address[SIGNER], by_address[STRANGER]
    assert signer.message["Subject"] == stranger.message["Subject"]
    assert not any(title in signer.message["Subject"] for title in TITLES)
    # The signer's one mail lists both signatures' links; the stranger's says there is none.
    assert len(set(WITHDRAW_LINK.findall(text_of(signer)))) == 2
    links = set(WITHDRAW_LINK.findall(text_of(signer)))
    assert set(WITHDRAW_LINK.findall(html_of(signer))) == links
    assert all(title in text_of(signer) for title in TITLES)
    assert WITHDRAW_LINK.findall(text_of(stranger)) == []
    assert "No signature was made with this address" in text_of(stranger)
    assert "/withdraw/" not in html_of(stranger)
    assert_valid_html(html_of(signer))
    assert_valid_html(html_of(stranger))


def test_withdrawal_answers_are_capped_alike_for_signers_and_strangers(client, app):
    """Ask more often than the cap for a signer and a non-signer: the same mails, same times."""
    app.config["MAIL_PER_ADDRESS_PER_HOUR"] = 2
    letter = make_letter()
    make_signature(letter, email=SIGNER)
    for _ in range(4):
        for email in (SIGNER, STRANGER):
            client.post("/withdraw", data={"email": email})
    withdrawal.expand_requests()
    now = utcnow()

    def schedule(email: str) -> list[bool]:
        return [mail.next_attempt_at > now for mail in mails_to(email)]

    # Two go now; one waits for the next hour (later requests replace it, not add to it).
    assert schedule(SIGNER) == schedule(STRANGER) == [False, False, True]
    waiting = [mail.next_attempt_at for mail in mails_to(SIGNER) + mails_to(STRANGER)
               if mail.next_attempt_at > now]
    assert all(now + dt.timedelta(minutes=59) < when <= now + dt.timedelta(hours=1)
               for when in waiting)


def test_a_withdrawal_answer_neither_waits_for_nor_uses_the_sign_forms_cap(client, app):
    """Sign up to the cap, ask for links, sign again: the answer goes at once for a signer
    as for a stranger, and the sign form's next mail is not held back by it."""
    app.config["MAIL_PER_ADDRESS_PER_HOUR"] = 2
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email=SIGNER))
    for email in (SIGNER, STRANGER):
        client.post("/withdraw", data={"email": email})
    withdrawal.expand_requests()
    now = utcnow()
    assert [mail.next_attempt_at <= now for mail in mails_to(STRANGER)] == [True]
    assert [mail.next_attempt_at <= now for mail in mails_to(SIGNER)] == [True, True]
    # Counted in the signature's window, the answer would delay this for signers only.
    client.post("/letters/appeal/sign", data=sign_form(email=SIGNER))
    assert mails_to(SIGNER)[-1].kind == "confirm"
    assert mails_to(SIGNER)[-1].next_attempt_at <= utcnow()


def test_signing_twice_mails_the_same_subject_naming_no_letter(client, app):
    """Sign, confirm and sign again with one address: both subjects alike, no title."""
    make_letter()
    client.post("/letters/appeal/sign?lang=en", data=sign_form(email=SIGNER))
    [confirm] = mails_to(SIGNER)
    first = rendered(confirm)  # as delivered: once confirmed, it would be dropped
    assert client.post(f"/confirm/{confirm_token_from(confirm)}").status_code == 200
    client.post("/letters/appeal/sign?lang=en", data=sign_form(email=SIGNER))
    already = mails_to(SIGNER)[-1]
    assert (confirm.kind, already.kind) == ("confirm", "already_signed")
    assert first.subject == rendered(already).subject
    assert "Libérez" not in first.subject and "already" not in first.subject.lower()
    # In French and Russian too.
    for lang in ("fr", "ru"):
        client.post(f"/letters/appeal/sign?lang={lang}", data=sign_form(email=SIGNER))
        assert "Libérez" not in rendered(outbox()[-1]).subject


def test_first_lines_of_both_sign_mails_read_alike(client, app):
    """Sign twice: a lock screen's preview (the first lines) reads the same either way."""
    make_letter()
    client.post("/letters/appeal/sign?lang=en", data=sign_form(email=SIGNER))
    [confirm] = mails_to(SIGNER)
    first = rendered(confirm).text
    client.post(f"/confirm/{confirm_token_from(confirm)}")
    client.post("/letters/appeal/sign?lang=en", data=sign_form(email=SIGNER))
    again = rendered(mails_to(SIGNER)[-1]).text
    opening = first.split("\n\n")[:2]
    assert again.split("\n\n")[:2] == opening
    assert not any("Libérez" in line or "already" in line for line in opening)


def test_privacy_notice_says_what_a_mail_provider_sees(client, app):
    """Read the privacy notice: it says a mail provider sees that mail was sent, when, and
    its subject, which names no letter."""
    page = client.get("/privacy?lang=en").get_data(as_text=True)
    assert "Whoever runs your mailbox" in page
    assert "that we sent you mail, when, and its subject" in page
    assert "“About your signature”" in page and "never names the letter" in page


def test_the_hourly_purge_forgets_who_was_asked_about(client, app):
    """Answer a request, let the hour pass, purge: the answer keeps no tag of the address."""
    from sqlalchemy import update

    from petition.extensions import db
    from petition.models import OutboxMail
    from petition.privacy import retention

    client.post("/withdraw", data={"email": STRANGER})
    withdrawal.expand_requests()
    deliver(app)
    [answer] = outbox()
    assert answer.status == "sent" and answer.cap_tag  # the cap still counts it
    retention.purge_expired()
    assert outbox()[0].cap_tag is not None
    db.session.execute(update(OutboxMail).values(
        next_attempt_at=utcnow() - dt.timedelta(minutes=61)))
    db.session.commit()
    retention.purge_expired()
    assert outbox()[0].cap_tag is None
