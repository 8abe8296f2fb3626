"""`flask mail status` tells how long the oldest waiting mail has waited, and why."""
import datetime as dt
import re

from sqlalchemy import update

from petition.extensions import db
from petition.mail import outbox
from petition.models import MAIL_FAILED, MAIL_SENDING, MAIL_SENT, OutboxMail, utcnow


def queue(ago: dt.timedelta, **values) -> OutboxMail:
    """A mail queued `ago`, with its row then set to `values`."""
    mail = outbox.enqueue(kind="confirm", to="signer@example.org", subject="Confirm",
                          text="http://localhost/confirm/token\n")
    db.session.flush()
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail.id)
                       .values(created_at=utcnow() - ago, **values))
    db.session.commit()
    return mail


def oldest_line(runner) -> str:
    result = runner.invoke(args=["mail", "status"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()[4]


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def test_none_waiting(app, runner):
    queue(dt.timedelta(hours=2), status=MAIL_SENT)
    queue(dt.timedelta(hours=3), status=MAIL_FAILED)
    assert oldest_line(runner) == "oldest waiting: none"


def test_the_oldest_due_mail(app, runner):
    queue(dt.timedelta(hours=5), status=MAIL_SENT)  # delivered: no longer waiting
    queue(dt.timedelta(seconds=30))
    mail = queue(dt.timedelta(minutes=3, seconds=12))
    line = oldest_line(runner)
    assert re.fullmatch(r"oldest waiting: 3 min 1[23] s \(queued (.+), due now\)", line), line
    assert stamp(mail.created_at) in line
    assert "example.org" not in line


def test_a_deferred_mail_says_when_it_is_tried_again(app, runner):
    retry_at = (utcnow() + dt.timedelta(minutes=20)).replace(microsecond=0)
    queue(dt.timedelta(hours=2, minutes=5, seconds=9), attempts=3, next_attempt_at=retry_at,
          last_error="421 try later")
    queue(dt.timedelta(minutes=1))
    assert oldest_line(runner).startswith(
        "oldest waiting: 2 h 5 min (queued ")
    assert oldest_line(runner).endswith(
        f", deferred after 3 failed attempt(s), next try {stamp(retry_at)})")


def test_a_mail_held_by_the_per_address_cap(app, runner):
    until = (utcnow() + dt.timedelta(minutes=40)).replace(microsecond=0)
    queue(dt.timedelta(minutes=20), next_attempt_at=until)
    assert oldest_line(runner).endswith(f", held by the per-address cap until {stamp(until)})")


def test_a_mail_being_sent_and_one_whose_worker_died(app, runner):
    lease = (utcnow() + dt.timedelta(minutes=4)).replace(microsecond=0)
    mail = queue(dt.timedelta(minutes=1), status=MAIL_SENDING, locked_until=lease,
                 next_attempt_at=utcnow() - dt.timedelta(minutes=1))
    assert oldest_line(runner).endswith(f", being sent, lease until {stamp(lease)})")
    # The lease ran out: its worker died, and the next pass takes it again.
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail.id)
                       .values(locked_until=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()
    assert oldest_line(runner).endswith(", due now)")
