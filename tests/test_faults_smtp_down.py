"""Fault: the SMTP server is down for hours. Mail waits in the outbox and goes out, each
mail exactly once, when the server returns; nothing is lost, nothing is given up.

test_mail_dispatcher.py checks one deferral and one retry; this one rides out a whole
stretch of retries with the default MAIL_MAX_ATTEMPTS, for mail queued by real sign forms.
"""
from __future__ import annotations

import datetime as dt
import socket
import time

from sqlalchemy import func, select

from petition.extensions import db
from petition.mail import dispatcher
from petition.models import (
    CONFIRMED,
    MAIL_QUEUED,
    MAIL_SENT,
    PENDING,
    OutboxMail,
    Signature,
    utcnow,
)
from tests.factories import make_letter
from tests.helpers import LINK_RE, sign_form
from tests.smtp_server import free_port, smtp_server

SIGNERS = [f"signer{n}@example.org" for n in range(6)]
OUTAGE = dt.timedelta(hours=6)


def sign_all(client, slug: str, emails: list[str]) -> None:
    for number, email in enumerate(emails):
        response = client.post(f"/letters/{slug}/sign",
                               data=sign_form(email=email, name=f"Org {number}"))
        assert response.status_code == 303  # the signer is not told about the mail server


def statuses() -> dict[str, int]:
    db.session.expire_all()
    rows = db.session.execute(select(OutboxMail.status, func.count()).group_by(OutboxMail.status))
    return {status: count for status, count in rows}


def advance_to_next_retry() -> dt.timedelta:
    """Move the clock to the next retry: bring every waiting mail forward by the wait."""
    db.session.expire_all()
    waiting = db.session.scalars(select(OutboxMail).where(OutboxMail.status == MAIL_QUEUED)).all()
    # The latest: the mails behind a failed one get the same delay from a clock read a few
    # milliseconds later (more on a loaded machine), and every one must be due at the pass.
    latest = max(mail.next_attempt_at for mail in waiting)
    wait = max(latest - utcnow(), dt.timedelta(0)) + dt.timedelta(milliseconds=10)
    for mail in waiting:  # in Python: SQLite has no date arithmetic in SQL
        mail.next_attempt_at -= wait
    db.session.commit()
    return wait


def test_mail_waits_through_a_long_outage_and_goes_out_once_when_smtp_returns(app, client, runner):
    letter = make_letter()
    port = free_port()  # nothing listens there: the mail server is down
    app.config.update(MAIL_URL=f"smtp://127.0.0.1:{port}", MAIL_TIMEOUT=5)
    assert app.config["MAIL_MAX_ATTEMPTS"] == 16  # config.py's default, not a test's

    sign_all(client, letter.slug, SIGNERS)

    # The outage: a pass at every retry time, some through `flask mail send`, for 6 hours.
    waited, passes = dt.timedelta(0), 0
    while waited < OUTAGE:
        if passes % 2:
            result = runner.invoke(args=["mail", "send"])
            assert result.exit_code == 1, result.output  # cron and monitoring notice
            assert "Sent 0" in result.output and "failed 0" in result.output
        else:
            report = dispatcher.dispatch(None)
            assert (report.sent, report.failed, report.retrying) == (0, 0, len(SIGNERS))
        passes += 1
        assert statuses() == {MAIL_QUEUED: len(SIGNERS)}, f"after {waited} of outage"
        waited += advance_to_next_retry()
    assert passes >= 10  # the backoff was exercised, up to its cap
    attempts = db.session.scalars(select(OutboxMail.attempts)).all()
    assert max(attempts) < app.config["MAIL_MAX_ATTEMPTS"], attempts

    # The server comes back on the same port.
    with smtp_server(port=port) as server:
        result = runner.invoke(args=["mail", "send"])
        assert result.exit_code == 0, result.output
        assert f"Sent {len(SIGNERS)}, deferred 0, failed 0" in result.output
        result = runner.invoke(args=["mail", "send"])  # a later pass sends nothing again
        assert "Sent 0, deferred 0, failed 0" in result.output
    recipients = sorted(address for mail in server.received for address in mail.rcpt_tos)
    assert recipients == sorted(SIGNERS)  # every one, exactly once
    assert statuses() == {MAIL_SENT: len(SIGNERS)}
    cleared = db.session.scalars(select(OutboxMail).where(
        OutboxMail.recipient_encrypted.is_(None), OutboxMail.body_text.is_(None))).all()
    assert len(cleared) == len(SIGNERS)

    # The links still work after six hours: every signer confirms from the mail received.
    for received in server.received:
        body = received.message.get_body(("plain",)).get_content()
        token = LINK_RE.search(body).group(1)
        assert client.post(f"/confirm/{token}").status_code == 200
    db.session.expire_all()
    states = db.session.scalars(select(Signature.status)).all()
    assert sorted(states) == [CONFIRMED] * len(SIGNERS) and PENDING not in states


def test_a_mail_server_that_never_answers_defers_mail_within_the_timeout(app, client):
    letter = make_letter()
    sign_all(client, letter.slug, SIGNERS[:3])
    with socket.socket() as listener:  # accepts connections, never says a word
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        app.config.update(MAIL_URL=f"smtp://127.0.0.1:{listener.getsockname()[1]}",
                          MAIL_TIMEOUT=1)
        started = time.monotonic()
        report = dispatcher.dispatch(None)
        assert time.monotonic() - started < 3  # one timeout, not one per mail
    assert (report.sent, report.failed, report.retrying) == (0, 0, 3)
    assert statuses() == {MAIL_QUEUED: 3}
    db.session.expire_all()
    errors = db.session.scalars(select(OutboxMail.last_error)).all()
    assert all("timed out" in error for error in errors), errors
