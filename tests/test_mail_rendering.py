"""Signers' mail rendered at delivery, on SQLite and PostgreSQL, to a real SMTP server.

The sign request queues a row naming the signature, the link and the language; the mail
worker renders it from the rows as they are then, and drops a mail that has nothing true
left to say.
"""
from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select, update

from petition.extensions import db
from petition.mail import dispatcher, outbox
from petition.models import (
    CONFIRMED,
    MAIL_DROPPED,
    MAIL_FAILED,
    MAIL_QUEUED,
    MAIL_SENT,
    OutboxMail,
    Signature,
    utcnow,
)
from petition.signatures import signing
from tests.factories import make_letter
from tests.helpers import LINK_RE, confirm_token_from, mails_to, sign_form
from tests.helpers import outbox as outbox_rows
from tests.smtp_server import Collector, Received, smtp_server

ADDRESS = "jps@example.org"


def use_smtp(app: Flask, port: int) -> None:
    app.config.update(MAIL_URL=f"smtp://127.0.0.1:{port}", MAIL_TIMEOUT=5)


def sign_hidden(client, **fields) -> None:
    """An individual listed by initials: the real name must reach the mailbox only."""
    data = sign_form(signer_type="individual", name="Jean-Paul Sartre", email=ADDRESS,
                     display="initials", country="FR")
    data.update(fields)
    assert client.post("/letters/appeal/sign?lang=fr", data=data).status_code == 303


def row(mail_id: int) -> OutboxMail:
    db.session.expire_all()
    return db.session.get(OutboxMail, mail_id)


def body(received: Received) -> str:
    return received.message.get_body(("plain",)).get_content()


def test_the_waiting_row_holds_nothing_readable_and_the_delivered_mail_everything(client, app):
    make_letter()
    sign_hidden(client)
    [mail] = mails_to(ADDRESS)
    stored = db.session.execute(select(OutboxMail.subject, OutboxMail.body_text,
                                       OutboxMail.body_html)).one()
    assert tuple(stored) == ("", None, None)
    signature = db.session.scalar(select(Signature))
    assert "Sartre" not in repr(signature.name)  # the row keeps the initials only

    with smtp_server() as server:
        use_smtp(app, server.port)
        assert dispatcher.dispatch().sent == 1
    [received] = server.received
    text = body(received)
    assert received.rcpt_tos == [ADDRESS]
    assert text.startswith("Bonjour,\r\n")  # in French, greeting no name typed in the form
    assert "Sartre" not in text and "J.-P. S." in text and LINK_RE.search(text)
    assert "/withdraw/" in text and "mathématicien" in text
    assert received.message["Subject"] == "Votre signature"  # never the letter's title
    # Kept for the record: the subject; the recipient is gone.
    sent = row(mail.id)
    assert sent.status == MAIL_SENT and sent.recipient_encrypted is None
    assert sent.subject == "Votre signature"

    # The link in the mail confirms the signature.
    token = LINK_RE.search(text).group(1)
    assert client.post(f"/confirm/{token}").status_code == 200
    assert db.session.scalar(select(Signature.status)) == CONFIRMED


def deliver(app: Flask) -> tuple[dispatcher.DispatchReport, list[Received]]:
    with smtp_server() as server:
        use_smtp(app, server.port)
        report = dispatcher.dispatch()
    return report, server.received


def assert_dropped(mail_id: int, reason: str) -> None:
    dropped = row(mail_id)
    assert dropped.status == MAIL_DROPPED, dropped.status
    assert dropped.recipient_encrypted is None
    assert reason in dropped.last_error and dropped.sent_at is None


def test_a_mail_whose_signature_was_confirmed_first_is_dropped(client, app):
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email=ADDRESS))
    [mail] = mails_to(ADDRESS)
    # Confirmed with the link of an earlier delivery (say a resend that reached the inbox
    # first): the waiting mail would only say "please confirm" again.
    assert client.post(f"/confirm/{confirm_token_from(mail)}").status_code == 200
    report, received = deliver(app)
    assert (report.sent, report.dropped, received) == (0, 1, [])
    assert_dropped(mail.id, "confirmed")


def test_a_mail_whose_signature_was_withdrawn_is_dropped(client, app, runner):
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email=ADDRESS))
    [mail] = mails_to(ADDRESS)
    # Withdrawn by hand from the back office's side: the row goes, the mail stays queued
    # (a mail already being retried is never deleted with its signature).
    db.session.execute(update(OutboxMail).values(attempts=1))
    db.session.delete(db.session.scalar(select(Signature)))
    db.session.commit()
    assert row(mail.id).signature_id is None
    report, received = deliver(app)
    assert (report.sent, report.dropped, received) == (0, 1, [])
    assert_dropped(mail.id, "gone")
    status = runner.invoke(args=["mail", "status"])
    assert "dropped: 1" in status.output and "queued: 0" in status.output
    assert outbox.oldest_waiting() is None


def test_a_mail_whose_link_was_renewed_is_dropped_the_new_one_sent(client, app):
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email=ADDRESS))
    [old] = mails_to(ADDRESS)
    expired_token = confirm_token_from(old)
    db.session.execute(update(Signature).values(
        link_issued_at=utcnow() - dt.timedelta(days=30),
        last_mailed_at=utcnow() - dt.timedelta(days=30)))
    db.session.commit()
    signing.resend_confirmation(expired_token)  # a new nonce: the old link stops working
    old_mail, new_mail = mails_to(ADDRESS)
    report, received = deliver(app)
    assert (report.sent, report.dropped) == (1, 1)
    assert_dropped(old_mail.id, "replaced")
    [delivered] = received
    new_token = LINK_RE.search(body(delivered)).group(1)
    assert new_token != expired_token
    assert client.post(f"/confirm/{new_token}").status_code == 200


def test_each_version_mail_renders_its_own_details(client, app):
    """Two submissions, two links: each mail names what its own link confirms."""
    make_letter()
    sign_hidden(client)
    sign_hidden(client, display="full", name="Jean-Paul Sartre", affiliation="Les Temps modernes")
    report, received = deliver(app)
    assert report.sent == 2
    first, second = sorted((body(r) for r in received), key=lambda text: "Temps" in text)
    assert "J.-P. S." in first and "Temps modernes" not in first
    assert "Jean-Paul Sartre, Les Temps modernes" in second
    assert LINK_RE.search(first).group(1) != LINK_RE.search(second).group(1)


def test_a_refused_rendered_mail_is_kept_and_rendered_again_when_retried(client, app, runner):
    make_letter()
    sign_hidden(client)
    [mail] = mails_to(ADDRESS)
    collector = Collector(refuse={ADDRESS: "550 5.1.1 <jps@example.org>: unknown"})
    with smtp_server(collector) as server:
        use_smtp(app, server.port)
        assert dispatcher.dispatch().failed == 1
    failed = row(mail.id)
    assert failed.status == MAIL_FAILED and failed.recipient_encrypted is not None
    assert failed.body_text is None  # still nothing readable while it waits for an admin

    assert "1" in runner.invoke(args=["mail", "retry"]).output
    assert row(mail.id).status == MAIL_QUEUED
    report, received = deliver(app)
    assert report.sent == 1 and body(received[0]).startswith("Bonjour,\r\n")
    assert "J.-P. S." in body(received[0])


def test_already_signed_and_withdrawal_answer_mails_render_at_delivery(client, app):
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email=ADDRESS))
    client.post(f"/confirm/{confirm_token_from(mails_to(ADDRESS)[0])}")
    client.post("/letters/appeal/sign", data=sign_form(email=ADDRESS))  # again
    client.post("/withdraw", data={"email": ADDRESS})
    kinds = [mail.kind for mail in outbox_rows()]
    assert kinds == ["confirm", "already_signed", "withdraw_request"]
    from petition.signatures import withdrawal

    assert withdrawal.expand_requests() == 1  # the mail worker's first step, done here
    assert [mail.kind for mail in outbox_rows()] == ["confirm", "already_signed",
                                                     "withdraw_answer"]
    # The first was never delivered and its signature is confirmed: dropped. The cap may
    # hold the later ones back; make them due.
    db.session.execute(update(OutboxMail).values(next_attempt_at=utcnow()))
    db.session.commit()
    report, received = deliver(app)
    assert (report.sent, report.dropped) == (2, 1)
    subjects = sorted(r.message["Subject"] for r in received)
    assert subjects == ["About your signature", "Your signature"]  # no title, no "already"
    assert all("/withdraw/" in body(r) for r in received)


def test_a_withdrawal_request_is_answered_by_the_mail_worker(client, app):
    """The form queues the address; a pass of the worker looks it up and delivers one mail
    to each address, with the links of a known one, and leaves no request behind."""
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email=ADDRESS))
    client.post(f"/confirm/{confirm_token_from(mails_to(ADDRESS)[0])}")
    db.session.execute(update(OutboxMail).values(status=MAIL_SENT, recipient_encrypted=None))
    db.session.commit()
    for email in (ADDRESS, "stranger@example.org"):
        assert client.post("/withdraw", data={"email": email}).status_code == 200
    report, received = deliver(app)
    assert report.sent == 2
    by_address = {mail.rcpt_tos[0]: body(mail) for mail in received}
    assert "/withdraw/" in by_address[ADDRESS]
    assert "/withdraw/" not in by_address["stranger@example.org"]
    assert {row.kind for row in outbox_rows()} == {"confirm", "withdraw_answer"}
