"""Fault: `flask mail worker` is killed (SIGKILL) in the middle of a batch.

Delivery is at-least-once: the rows the dead worker had claimed stay `sending` until their
lease runs out, then a new worker sends them again. Every mail arrives; the one in flight
at the kill may arrive twice, no other.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import MAIL_SENDING, MAIL_SENT, OutboxMail
from tests.conftest import EMAIL_KEY
from tests.factories import make_letter
from tests.helpers import sign_form
from tests.smtp_server import Collector, smtp_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
MAILS = 20
LEASE = 4  # seconds: covers a claimed chunk of 10 at DATA_DELAY each, and no more by much
DATA_DELAY = 0.3


def start_worker(database_url: str, smtp_port: int, log: Path) -> subprocess.Popen:
    """`flask --app wsgi mail worker` as its own process, configured by its environment."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    env.update(
        PETITION_ENV="development", SECRET_KEY="test-secret-key-" + "x" * 32, EMAIL_KEY=EMAIL_KEY,
        DATABASE_URL=database_url, MAIL_URL=f"smtp://127.0.0.1:{smtp_port}", MAIL_TIMEOUT="5",
        MAIL_LEASE=str(LEASE), MAIL_DISPATCH_INTERVAL="0.2", BASE_URL="http://localhost",
    )
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_until(condition, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout} s waiting for {what}; worker log:\n"
                        + log.read_text(errors="replace")[-3000:])
        time.sleep(0.05)


def rows() -> list[OutboxMail]:
    db.session.expire_all()
    mails = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
    db.session.commit()  # end the read: SQLite's log must not be held by this test
    return list(mails)


def test_a_worker_killed_mid_batch_loses_no_mail(app, client, database_url, tmp_path):
    letter = make_letter()
    signers = [f"signer{n}@example.org" for n in range(MAILS)]
    for number, email in enumerate(signers):
        response = client.post(f"/letters/{letter.slug}/sign",
                               data=sign_form(email=email, name=f"Org {number}"))
        assert response.status_code == 303
    assert len(rows()) == MAILS
    log = tmp_path / "worker.log"

    with smtp_server(Collector(delay=DATA_DELAY)) as server:
        first = start_worker(database_url, server.port, log)
        try:
            wait_until(lambda: len(server.received) >= 3, 30, "the first deliveries", log)
        finally:
            first.send_signal(signal.SIGKILL)  # no handler, no clean-up: as the OOM killer does
            first.wait(10)
        assert first.returncode == -signal.SIGKILL
        abandoned = [mail.id for mail in rows() if mail.status == MAIL_SENDING]
        assert abandoned, "the kill should have left claimed rows behind"
        delivered_before = len(server.received)

        second = start_worker(database_url, server.port, log)
        try:
            wait_until(lambda: all(mail.status == MAIL_SENT for mail in rows()),
                       60, "every mail to be sent", log)
        finally:
            second.send_signal(signal.SIGTERM)  # a clean stop after the current pass
            assert second.wait(20) == 0, log.read_text(errors="replace")[-3000:]
        received = [address for mail in server.received for address in mail.rcpt_tos]

    assert set(received) == set(signers), "a mail was lost"
    duplicates = len(received) - len(set(received))
    print(f"{delivered_before} delivered before the kill, {len(abandoned)} claimed rows "
          f"abandoned, {duplicates} duplicate(s)")
    # Only the mail in flight at the kill can go out twice; the ones after it waited.
    assert duplicates <= 1, f"{duplicates} duplicates: {sorted(received)}"
    final = {mail.id: mail for mail in rows()}
    assert all(mail.recipient_encrypted is None for mail in final.values())
    # Each abandoned row counts the interrupted attempt; no other row counts any.
    assert {i for i, mail in final.items() if mail.attempts == 1} == set(abandoned)
    assert {mail.attempts for i, mail in final.items() if i not in abandoned} <= {0}
