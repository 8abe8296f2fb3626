"""`flask mail send|worker|status|retry`."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from petition.extensions import db
from petition.mail import outbox
from petition.models import MAIL_FAILED, MAIL_SENT, OutboxMail
from tests.conftest import EMAIL_KEY
from tests.smtp_server import free_port, smtp_server

ROOT = Path(__file__).resolve().parent.parent


def queue(count: int = 1) -> None:
    for n in range(count):
        outbox.enqueue(kind="confirm", to=f"signer{n}@example.org", subject=f"Confirm {n}",
                       text=f"http://localhost/confirm/token{n}\n")
    db.session.commit()


def statuses() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail.status).order_by(OutboxMail.id)))


def test_send_delivers_everything_due_and_says_so(app, runner):
    queue(12)  # more than one claim chunk
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "To: signer11@example.org" in result.output
    assert "Sent 12, deferred 0, failed 0." in result.output
    assert statuses() == [MAIL_SENT] * 12


def test_send_through_smtp(app, runner):
    queue(2)
    with smtp_server() as server:
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{server.port}"
        result = runner.invoke(args=["mail", "send", "--limit", "1"])
    assert "Sent 1, deferred 0, failed 0." in result.output
    assert len(server.received) == 1 and statuses() == [MAIL_SENT, "queued"]


def test_send_exits_non_zero_when_the_server_is_down(app, runner):
    queue()
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}"
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 1
    assert "Sent 0, deferred 1, failed 0." in result.output
    assert "example.org" not in result.output


def test_worker_loops_and_stops(app, runner):
    queue(3)
    result = runner.invoke(args=["mail", "worker", "--interval", "0", "--max-loops", "2"])
    assert result.exit_code == 0, result.output
    assert "Delivering mail every 0 s" in result.output and "Mail worker stopped." in result.output
    assert result.output.count("end of mail") == 3
    assert statuses() == [MAIL_SENT] * 3


def test_status_and_retry(app, runner):
    queue(3)
    db.session.execute(update(OutboxMail).where(OutboxMail.id == 1).values(status=MAIL_FAILED))
    db.session.execute(update(OutboxMail).where(OutboxMail.id == 2).values(status=MAIL_SENT))
    db.session.commit()
    result = runner.invoke(args=["mail", "status"])
    assert result.output.split("\n")[:4] == ["queued: 1", "sending: 0", "sent: 1", "failed: 1"]
    assert "Queued 1 failed mail(s) again." in runner.invoke(args=["mail", "retry"]).output
    assert statuses() == ["queued", MAIL_SENT, "queued"]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_worker_process_stops_cleanly_on_signal(app, database_url, signum):
    queue()
    env = os.environ | {
        "DATABASE_URL": database_url, "EMAIL_KEY": EMAIL_KEY, "SECRET_KEY": "test",
        "MAIL_URL": "console://", "PYTHONUNBUFFERED": "1", "PETITION_ENV": "development",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker", "--interval", "0.1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while statuses() != [MAIL_SENT] and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.send_signal(signum)
        out, err = worker.communicate(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, err
    assert "To: signer0@example.org" in out
    assert out.rstrip().endswith("Mail worker stopped.")
