"""The dispatcher on SQLite and PostgreSQL, delivering to a real SMTP server."""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from flask import Flask
from sqlalchemy import select, update

from config import Config
from petition import create_app
from petition.extensions import db
from petition.mail import dispatcher, outbox
from petition.models import MAIL_FAILED, MAIL_QUEUED, MAIL_SENDING, MAIL_SENT, OutboxMail, utcnow
from petition.worker import DispatchLoop
from tests.conftest import base_config
from tests.smtp_server import (
    Collector,
    free_port,
    make_certificate,
    server_tls_context,
    smtp_server,
)


def queue(count: int = 1, to: str = "alice@example.org",
          html: str | None = "<p>Hi</p>") -> list[int]:
    mails = [
        outbox.enqueue(kind="confirm", to=to, subject=f"Confirm {n}",
                       text=f"Hello,\nhttp://localhost/confirm/token{n}\n", html=html)
        for n in range(count)
    ]
    db.session.commit()
    return [mail.id for mail in mails]


def row(mail_id: int) -> OutboxMail:
    db.session.expire_all()  # the dispatcher wrote through its own session
    return db.session.get(OutboxMail, mail_id)


def use_smtp(app: Flask, port: int, scheme: str = "smtp") -> None:
    app.config["MAIL_URL"] = f"{scheme}://127.0.0.1:{port}"
    app.config["MAIL_TIMEOUT"] = 5


def make_due(*mail_ids: int) -> None:
    db.session.execute(update(OutboxMail).where(OutboxMail.id.in_(mail_ids))
                       .values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()


def test_console_delivery_prints_and_clears_recipient_and_body(app, capsys):
    [mail_id] = queue()
    assert dispatcher.deliver_due() == 1
    out = capsys.readouterr().out
    assert "To: alice@example.org" in out and "Subject: Confirm 0" in out
    assert "http://localhost/confirm/token0" in out
    mail = row(mail_id)
    assert (mail.status, mail.attempts, mail.locked_until) == (MAIL_SENT, 0, None)
    assert mail.sent_at is not None
    assert mail.recipient_encrypted is None and mail.body_text is None and mail.body_html is None
    assert dispatcher.deliver_due() == 0  # nothing is sent twice


def test_smtp_delivery_in_order_with_a_stable_message_id(app):
    ids = queue(3)
    with smtp_server() as server:
        use_smtp(app, server.port)
        assert dispatcher.deliver_due() == 3
    assert [r.message["Subject"] for r in server.received] == [
        "Confirm 0", "Confirm 1", "Confirm 2"]
    message = server.received[0].message
    assert message["From"] == app.config["MAIL_FROM"]
    assert message["Message-ID"].endswith("@localhost>") and message["Date"]
    assert "token0" in message.get_body(("plain",)).get_content()
    assert all(row(i).status == MAIL_SENT for i in ids)


def test_limit_is_respected(app):
    queue(12)
    assert dispatcher.deliver_due(limit=5) == 5
    assert dispatcher.deliver_due(limit=50) == 7


def test_implicit_tls_with_configured_ca_file(app, tmp_path):
    cert, key = make_certificate(tmp_path)
    queue()
    with smtp_server(ssl_context=server_tls_context(cert, key)) as server:
        use_smtp(app, server.port, "smtps")
        app.config["MAIL_TLS_CA_FILE"] = str(cert)
        assert dispatcher.deliver_due() == 1
    assert len(server.received) == 1


def test_server_down_defers_with_backoff_then_fails(app):
    ids = queue(3)
    use_smtp(app, free_port())  # nothing listens there
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    before = utcnow()
    report = dispatcher.dispatch()
    assert (report.sent, report.retrying, report.failed) == (0, 3, 0)
    first = row(ids[0])
    assert (first.status, first.attempts, first.locked_until) == (MAIL_QUEUED, 1, None)
    assert "ConnectionRefused" in first.last_error and "alice" not in first.last_error
    assert dt.timedelta(seconds=29) < first.next_attempt_at - before < dt.timedelta(seconds=40)
    # Mails behind the first were not tried: no attempt counted, same delay.
    assert [row(i).attempts for i in ids[1:]] == [0, 0]
    assert dispatcher.deliver_due() == 0  # not due yet

    make_due(ids[0])
    report = dispatcher.dispatch()
    first = row(ids[0])
    assert (report.failed, first.status, first.attempts) == (1, MAIL_FAILED, 2)
    # Kept so an admin can retry once the server is back.
    assert first.recipient_encrypted is not None and first.body_text is not None


def test_backoff_doubles_and_is_capped(app):
    app.config.update(MAIL_RETRY_BASE=30, MAIL_RETRY_MAX=100)
    assert [dispatcher.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_refused_recipient_fails_at_once_temporary_refusal_retries(app):
    collector = Collector(refuse={"gone@example.org": "550 5.1.1 <gone@example.org>: unknown",
                                  "busy@example.org": "451 4.3.0 <busy@example.org>: try later"})
    [gone] = queue(to="gone@example.org")
    [busy] = queue(to="busy@example.org")
    [fine] = queue()
    with smtp_server(collector) as server:
        use_smtp(app, server.port)
        report = dispatcher.dispatch()
    assert (report.sent, report.retrying, report.failed) == (1, 1, 1)
    assert row(gone).status == MAIL_FAILED and row(gone).last_error.startswith("550")
    assert "gone@" not in row(gone).last_error
    assert (row(busy).status, row(busy).attempts) == (MAIL_QUEUED, 1)
    assert row(fine).status == MAIL_SENT and len(server.received) == 1


@pytest.mark.parametrize("collector, to, server", [
    ({"refuse_data": {"gone@example.org": "554 5.7.1 Message rejected"}}, "gone@example.org", {}),
    ({}, "a@b@c", {}),  # aiosmtpd's own 553 for a malformed address
    ({}, "josé@exemple.fr", {"enable_SMTPUTF8": False}),
], ids=["data-554", "rcpt-553-malformed", "no-smtputf8"])
def test_permanent_refusals_fail_the_mail_at_once(app, collector, to, server):
    [refused] = queue(to=to)
    [fine] = queue()
    with smtp_server(Collector(**collector), **server) as smtp:
        use_smtp(app, smtp.port)
        report = dispatcher.dispatch()
    assert (report.sent, report.retrying, report.failed) == (1, 0, 1)
    mail = row(refused)
    assert (mail.status, mail.attempts) == (MAIL_FAILED, 1)
    assert mail.last_error.startswith(("5", "SMTPNotSupportedError")) and to not in mail.last_error
    assert row(fine).status == MAIL_SENT and len(smtp.received) == 1


@pytest.mark.parametrize("collector", [
    {"refuse_sender": "553 5.7.1 Sender address rejected: not owned by user"},
    {"refuse": {"alice@example.org": "421 4.3.2 Service shutting down"}},
], ids=["sender-553", "rcpt-421"])
def test_sender_refused_or_server_closing_defers_the_batch(app, collector):
    ids = queue(3)
    with smtp_server(Collector(**collector)) as smtp:
        use_smtp(app, smtp.port)
        report = dispatcher.dispatch()
    # Our sender or the server is at fault, not these mails: none is given up, and only
    # the one tried counts an attempt.
    assert (report.sent, report.retrying, report.failed) == (0, 3, 0)
    assert [(row(i).status, row(i).attempts) for i in ids] == [
        (MAIL_QUEUED, 1), (MAIL_QUEUED, 0), (MAIL_QUEUED, 0)]


def test_unexpected_error_on_one_mail_defers_it_and_the_batch_goes_on(app, caplog):
    [before] = queue()
    # A recipient that makes the email package itself raise (AttributeError): a bad row.
    [broken] = queue(to="a@[")
    [after] = queue()
    start = utcnow()
    with smtp_server() as smtp:
        use_smtp(app, smtp.port)
        report = dispatcher.dispatch()
        assert (report.sent, report.retrying, report.failed) == (2, 1, 0)
        assert dispatcher.dispatch().claimed == 0  # backed off: not claimed again at once
    assert [r.message["Subject"] for r in smtp.received] == ["Confirm 0", "Confirm 0"]
    assert row(before).status == row(after).status == MAIL_SENT
    mail = row(broken)
    assert (mail.status, mail.attempts, mail.locked_until) == (MAIL_QUEUED, 1, None)
    assert dt.timedelta(seconds=29) < mail.next_attempt_at - start < dt.timedelta(seconds=40)
    assert "AttributeError" in mail.last_error
    [logged] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert f"mail {broken}" in logged.getMessage() and "Traceback" in logged.getMessage()


def test_a_mail_that_always_breaks_does_not_loop(app):
    [broken] = queue(to="a@[")
    [fine] = queue()
    loop = DispatchLoop(app, interval=0)
    loop.run(max_loops=5)
    assert loop.failures == 0
    assert (row(broken).status, row(broken).attempts) == (MAIL_QUEUED, 1)
    assert row(fine).status == MAIL_SENT


def test_unexpected_errors_give_up_after_the_last_attempt(app):
    [broken] = queue(to="a@[")
    db.session.execute(update(OutboxMail).where(OutboxMail.id == broken).values(
        attempts=app.config["MAIL_MAX_ATTEMPTS"] - 1))
    db.session.commit()
    assert dispatcher.dispatch().failed == 1
    assert row(broken).status == MAIL_FAILED


def test_retry_after_the_server_comes_back(app):
    [mail_id] = queue()
    use_smtp(app, free_port())
    dispatcher.dispatch()
    make_due(mail_id)
    with smtp_server() as server:
        use_smtp(app, server.port)
        assert dispatcher.deliver_due() == 1
    mail = row(mail_id)
    assert (mail.status, mail.attempts, mail.recipient_encrypted) == (MAIL_SENT, 1, None)


def test_stale_sending_row_is_delivered_again(app):
    [stale, fresh] = queue(2)
    db.session.execute(update(OutboxMail).where(OutboxMail.id == stale).values(
        status=MAIL_SENDING, locked_until=utcnow() - dt.timedelta(seconds=5)))
    # Another worker holds this one right now: leave it alone.
    db.session.execute(update(OutboxMail).where(OutboxMail.id == fresh).values(
        status=MAIL_SENDING, locked_until=utcnow() + dt.timedelta(minutes=5)))
    db.session.commit()
    with smtp_server() as server:
        use_smtp(app, server.port)
        assert dispatcher.deliver_due() == 1
    assert [r.message["Subject"] for r in server.received] == ["Confirm 0"]
    assert (row(stale).status, row(stale).attempts) == (MAIL_SENT, 1)  # the lost attempt counts
    assert row(fresh).status == MAIL_SENDING


def test_row_interrupted_too_often_is_given_up(app):
    [mail_id] = queue()
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail_id).values(
        status=MAIL_SENDING, attempts=2, locked_until=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()
    report = dispatcher.dispatch()
    assert (report.sent, report.failed) == (0, 1)
    assert (row(mail_id).status, row(mail_id).attempts) == (MAIL_FAILED, 3)


def test_undecryptable_recipient_fails_without_sending(app, capsys):
    [mail_id] = queue()
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail_id)
                       .values(recipient_encrypted=b"not a fernet token"))
    db.session.commit()
    assert dispatcher.dispatch().failed == 1
    assert "EMAIL_KEY" in row(mail_id).last_error
    assert capsys.readouterr().out == ""


def test_dispatcher_does_not_commit_the_callers_pending_work(app):
    queue()
    outbox.enqueue(kind="confirm", to="later@example.org", subject="s", text="t")  # not committed
    assert dispatcher.deliver_due() == 1
    db.session.rollback()
    assert len(db.session.scalars(select(OutboxMail)).all()) == 1


def test_requeue_and_purge_failed(app):
    [old, recent] = queue(2)
    db.session.execute(update(OutboxMail).values(status=MAIL_FAILED, attempts=8))
    db.session.execute(update(OutboxMail).where(OutboxMail.id == old)
                       .values(created_at=utcnow() - dt.timedelta(days=4)))
    db.session.commit()
    assert outbox.purge_failed() == 1  # older than CONFIRM_MAX_AGE (72 h)
    assert row(old).recipient_encrypted is None and row(old).body_text is None
    assert outbox.requeue_failed() == 1  # only the one that still has a recipient
    assert (row(recent).status, row(recent).attempts) == (MAIL_QUEUED, 0)
    assert row(old).status == MAIL_FAILED


def test_two_dispatchers_never_send_one_row_twice(app):
    queue(60)
    app.config["MAIL_TIMEOUT"] = 5
    results: list[int] = []
    errors: list[BaseException] = []
    with smtp_server() as server:
        use_smtp(app, server.port)
        start = threading.Barrier(3)

        def work() -> None:
            try:
                with app.app_context():
                    start.wait()
                    results.append(dispatcher.deliver_due(limit=100))
            except BaseException as error:  # reported below, not lost in the thread
                errors.append(error)

        threads = [threading.Thread(target=work) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert errors == []
    assert sum(results) == 60
    subjects = [r.message["Subject"] for r in server.received]
    assert len(subjects) == 60 and len(set(subjects)) == 60
    assert db.session.scalars(select(OutboxMail.status).distinct()).all() == [MAIL_SENT]


@pytest.mark.postgresql_only
def test_rows_locked_by_another_worker_are_skipped_not_waited_for(app, capsys):
    [locked, free] = queue(2)
    delivered: list[int] = []
    with db.engine.connect() as other:
        # Another worker's open claim transaction holds this row.
        other.execute(select(OutboxMail.id).where(OutboxMail.id == locked).with_for_update())

        def work() -> None:
            with app.app_context():
                delivered.append(dispatcher.deliver_due())

        thread = threading.Thread(target=work)
        thread.start()
        thread.join(5)
        finished = not thread.is_alive()
        other.rollback()  # release, so a blocked dispatcher could end
        thread.join(5)
    assert finished, "the dispatcher waited for a row lock instead of skipping the row"
    assert delivered == [1]
    assert row(locked).status == MAIL_QUEUED and row(free).status == MAIL_SENT


@pytest.fixture
def in_process_app(database_url, tmp_path):
    """An app that delivers from its own thread, with a route that queues a mail."""
    config = base_config(database_url, tmp_path)
    config.update(MAIL_DISPATCH_IN_PROCESS=True, MAIL_DISPATCH_INTERVAL=60)
    app = create_app(config)

    def queue_view() -> str:
        queue()
        return "queued"

    app.add_url_rule("/test-queue", "test_queue", queue_view, methods=["POST"])
    yield app
    app.extensions["petition_mail_dispatcher"].stop()
    with app.app_context():
        db.engine.dispose()


def wait_for(condition, timeout: float = 30.0) -> bool:
    # The loop's first pass also purges and, on PostgreSQL, rewrites the private tables and
    # checkpoints: seconds on a busy machine (CI's included) before the next mail goes out.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_in_process_thread_starts_on_first_request_and_wakes_on_enqueue(in_process_app):
    with smtp_server() as server:
        use_smtp(in_process_app, server.port)
        assert not any(t.name == "petition-mail" for t in threading.enumerate())
        client = in_process_app.test_client()
        # The interval is a minute: only the wake-up after the request can explain delivery.
        assert client.post("/test-queue").status_code == 200
        assert wait_for(lambda: len(server.received) == 1)
        assert client.post("/test-queue").status_code == 200
        assert wait_for(lambda: len(server.received) == 2)
    assert sum(t.name == "petition-mail" for t in threading.enumerate()) == 1


def test_in_process_thread_survives_errors(in_process_app):
    in_process_app.config["MAIL_FROM"] = "no address here"  # every pass raises MailConfigError
    with in_process_app.app_context():
        queue()
    worker = in_process_app.extensions["petition_mail_dispatcher"]
    worker.ensure_started()
    assert wait_for(lambda: worker.loop.failures >= 1)
    with smtp_server() as server:
        use_smtp(in_process_app, server.port)
        in_process_app.config["MAIL_FROM"] = "petition <noreply@localhost>"
        worker.wake()
        assert wait_for(lambda: len(server.received) == 1)


def test_disabled_in_process_dispatch_adds_no_thread(app):
    assert "petition_mail_dispatcher" not in app.extensions


@pytest.mark.sqlite_only
@pytest.mark.parametrize("name", [
    "MAIL_URL", "MAIL_FROM", "MAIL_TIMEOUT", "MAIL_TLS_VERIFY", "MAIL_TLS_CA_FILE",
    "MAIL_LEASE", "MAIL_RETRY_BASE", "MAIL_RETRY_MAX", "MAIL_MAX_ATTEMPTS",
])
def test_mail_settings_have_one_source_config_py(app, name):
    assert hasattr(Config, name)  # every app gets it from there
    [mail_id] = queue()
    del app.config[name]
    # No fallback of its own in the mail code: a second default would disagree sooner or later.
    with pytest.raises(KeyError, match=name):
        dispatcher.dispatch()
    assert (row(mail_id).status, row(mail_id).attempts) == (MAIL_QUEUED, 0)  # nothing claimed


def test_unknown_mail_scheme_stops_the_app_at_start(database_url, tmp_path):
    config = base_config(database_url, tmp_path) | {"MAIL_URL": "smtpx://u:secret@h"}
    with pytest.raises(ValueError, match="smtpx") as error:
        create_app(config)
    assert "secret" not in str(error.value)
